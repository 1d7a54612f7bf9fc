"""In a fresh Jupyter kernel with no magic, every chart playml returns shows as a picture,
and results, reports, History and data cards render as HTML / Markdown (issue 19)."""
from __future__ import annotations

import pytest

from tests._notebooks import chart_cells, mime_types, run_notebook, stderr_text

pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

CELLS = [
    "import numpy as np\nimport playml as ml",
    # debug=True: a live chart drawn after every epoch, updated in place
    "nn = ml.neural_network(task='classification', inputs=['r', 'g', 'b'], outputs=['colour'], debug=True, seed=0)\n"
    "for rgb, name in [([255, 0, 0], 'red'), ([240, 30, 20], 'red'), ([0, 0, 255], 'blue'), ([20, 10, 230], 'blue')]:\n"
    "    nn.add_data(rgb, [name])\n"
    "nn.normalize_data()\n"
    "history = nn.train(epochs=4, batch_size=2)",
    "history.plot()",
    "history",
    "nn.classify([240, 30, 20])",
    "textures = ml.datasets.load('textures', per_row=3)\ntextures.describe()",
    "train, held_out = textures.split(0.67, 0.33, stratify=True, seed=0)\n"
    "clf = ml.feature_extractor().classification(seed=0)\n"
    "clf.add_images(train)\n"
    "_ = clf.train(epochs=5)\n"
    "report = clf.evaluate(held_out)\n"
    "report.plot()",
    "report",
    "clf",
    "ecg = ml.datasets.load('ecg5000')\n"
    "normal, test = ecg.canonical_split()\n"
    "det = ml.anomaly_detector(seed=0)\n"
    "_ = det.fit(normal.normal_only(), epochs=3)\n"
    "det.evaluate(test).plot()",
    "det.plot_latent(test)",
    "det.plot_reconstruction(test.arrays()[0][0])",
    "index = ml.image_search(train)\nindex.plot_map('pca')",
    "t = np.arange(16000) / 16000\n"
    "track = ml.pitch_detection().track(0.5 * np.sin(2 * np.pi * 440 * t), 16000)\n"
    "track.plot()",
    "chart = history.plot()\npath = chart.save('history.png')\nchart.figure is chart, path.stat().st_size > 1000",
]


@pytest.mark.slow
def test_every_chart_and_result_displays_itself_in_a_fresh_kernel(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    run_notebook(nb, tmp_path)
    charts = chart_cells(nb)
    assert len(charts) == 7
    for cell in charts:
        assert "image/png" in mime_types(cell), f"no picture for:\n{cell.source}\n{cell.outputs}"
    by_source = {c.source: c for c in nb.cells}
    live = by_source[CELLS[1]]
    assert any("image/png" in o.get("data", {}) for o in live.outputs), "debug=True drew no live chart"
    assert "<img" in by_source["history"].outputs[0]["data"]["text/html"]  # History: table + chart
    bars = by_source["nn.classify([240, 30, 20])"].outputs[0]["data"]["text/html"]
    assert "red" in bars and "%" in bars
    card = by_source[CELLS[5]].outputs[0]["data"]
    assert "text/markdown" in card and card["text/plain"].startswith("# textures")  # not an escaped string
    assert "confusion matrix" in by_source["report"].outputs[0]["data"]["text/html"]
    assert "'brick', 'galaxies'" in by_source["clf"].outputs[0]["data"]["text/plain"] or \
        "labels=[" in by_source["clf"].outputs[0]["data"]["text/plain"]
    assert "<" + "4 labels>" not in by_source["clf"].outputs[0]["data"]["text/plain"]
    assert "True, True" in by_source[CELLS[-1]].outputs[0]["data"]["text/plain"]
    noise = stderr_text(nb)
    assert "IProgress" not in noise and "Warning" not in noise, noise
