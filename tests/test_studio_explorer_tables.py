"""The Explorer page on a table model, in headless Chromium, checked against ml.model_explorer.

An ml5.js neural network saved by ml5.js (tests/data/ml5/colour-classifier: r, g, b → 4 colours)
is opened from the models folder; the summary table must be the Python summary row for row; a
row is typed into the form built from the model's inputs; every layer's numbers drawn in the page,
the answer and the inputs' gradient × input must be Python's (and the answer ``net.classify``'s);
picking a layer in the table must show its weights' histogram. Then an image model is opened and
the image controls come back. Screenshot: test-artifacts/studio/explorer-ml5.png.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import ROOT, open_page, require_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts" / "studio"
COLOURS = ROOT / "tests" / "data" / "ml5" / "colour-classifier"


def _in_view(page, selector: str) -> bool:
    return page.evaluate("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
        return r.height > 0 && r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight + 1
          && r.right <= window.innerWidth + 1; }""", selector)


def test_explorer_page_on_an_ml5_network(tmp_path):
    chromium = require_browser()
    from playwright.sync_api import expect, sync_playwright

    import playml as ml

    expect.set_options(timeout=60_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    models = tmp_path / "models"
    shutil.copytree(COLOURS, models / "colours")
    shutil.copytree(ROOT / "tests" / "data" / "saved-0.1.0" / "anomaly_detector", models / "detector")
    ex = ml.model_explorer(str(COLOURS))
    net = ml.load(COLOURS)
    server = ml.studio(open_browser=False, block=False, quiet=True, models_dir=models)
    try:
        with sync_playwright() as pw:
            browser, page, errors = open_page(pw, chromium)
            page.goto(server.url + "#explorer")
            expect(page.locator("#ex-model")).to_be_visible()
            page.locator("#ex-model").select_option("saved:colours")
            page.locator("#ex-open").click()
            expect(page.locator("#ex-total")).to_have_attribute("data-parameters", str(ex.parameters))
            assert ex.parameters == sum(p.numel() for p in net.model.parameters()) == 132
            cells = page.evaluate("() => [...document.querySelectorAll('#ex-summary tbody tr')].map("
                                  "(tr) => [...tr.cells].map((td) => td.textContent))")
            assert cells == [[r.name, r.type, " × ".join(map(str, r.shape)), f"{r.parameters:,}"] for r in ex.summary()]
            expect(page.locator("#ex-total")).to_contain_text("3 inputs, 4 labels")
            # the form: one field per input, starting mid-range; no image controls
            for sel in ("#ex-file", "#ex-webcam", "#ex-grid", "#ex-cam"):
                assert not page.locator(sel).is_visible(), sel
            labels = page.evaluate("() => [...document.querySelectorAll('#ex-form label')].map((l) => l.textContent)")
            assert labels == ["r", "g", "b"]
            expect(page.locator("#ex-in-0")).to_have_value("127.5")
            expect(page.locator("#ex-strips .ex-strip")).to_have_count(2)  # the middle row ran at once

            row = {"r": 200, "g": 30, "b": 60}
            for i, v in enumerate(row.values()):
                page.locator(f"#ex-in-{i}").fill(str(v))
            page.wait_for_function("(want) => document.querySelector('#ex-strips').dataset.row === want",
                                   arg=json.dumps(row, separators=(",", ":")))
            for layer in ex.layer_names():
                shown = json.loads(page.locator(f".ex-strip[data-layer='{layer}']").get_attribute("data-values"))
                np.testing.assert_allclose(shown, ex.activations(row, layer), rtol=1e-6, atol=1e-7)
            answer = {li.get_attribute("data-label"): float(li.get_attribute("data-value"))
                      for li in page.locator("#ex-outputs li").all()}
            assert answer == pytest.approx({p.label: p.confidence for p in net.classify(row)}, abs=1e-6)
            assert page.locator("#ex-outputs li[data-label='red'] .ex-out-value").text_content() == \
                f"{100 * net.classify(row)[0].confidence:.1f} %"
            shares = page.evaluate("""() => [...document.querySelectorAll('#ex-outputs li')].map((li) =>
                li.querySelector('.ex-out-bar span').getBoundingClientRect().width
                / li.querySelector('.ex-out-bar').getBoundingClientRect().width)""")
            assert shares == pytest.approx([answer[lab] for lab in ex.labels], abs=0.01)  # the bars are drawn
            att = ex.attribution(row)
            expect(page.locator("#ex-attr")).to_have_attribute("data-label", att.label)
            np.testing.assert_allclose(json.loads(page.locator("#ex-attr").get_attribute("data-values")), att.values,
                                       rtol=1e-6, atol=1e-9)
            expect(page.locator("#ex-attr-label")).to_contain_text("No Grad-CAM")
            counts = lambda sel: json.loads(page.locator(sel).get_attribute("data-counts"))  # noqa: E731
            assert counts("#ex-hist-weights") == ex.distribution(ex.default_layer).counts.tolist()
            assert counts("#ex-hist-activations") == ex.distribution(ex.default_layer, row).counts.tolist()

            # the last layer, from the table with the keyboard: its weights and numbers
            page.locator("#ex-summary tr[data-layer='dense_2']").focus()
            page.keyboard.press("Enter")
            expect(page.locator(".ex-strip-box[data-layer='dense_2']")).to_have_attribute("aria-selected", "true")
            page.wait_for_function("(n) => JSON.parse(document.querySelector('#ex-hist-weights').dataset.counts)"
                                   ".reduce((a, b) => a + b, 0) === n", arg=68)
            assert counts("#ex-hist-weights") == ex.distribution("dense_2").counts.tolist()
            page.locator(".ex-strip[data-layer='dense_1']").hover(position={"x": 2, "y": 2})
            expect(page.locator("#ex-probe")).to_contain_text("dense_1, unit 0:")
            for sel in ("#ex-form", "#ex-strips", "#ex-outputs", "#ex-attr", "#ex-hist-weights"):
                assert _in_view(page, sel), f"{sel} is outside the 1280×800 window"
            page.locator("details.what summary").click()
            expect(page.locator(".what-table")).to_contain_text("There is no Grad-CAM here")
            page.locator("details.what summary").click()
            page.screenshot(path=str(ARTIFACTS / "explorer-ml5.png"))
            ms = page.locator("#ex-strips").get_attribute("data-ms")
            print(f"\nexplorer row: {ms} ms from the form to the page drawn")

            # an anomaly detector (an autoencoder): four layers, the row rebuilt, its error explained
            det = ml.load(models / "detector")
            page.locator("#ex-model").select_option("saved:detector")
            page.locator("#ex-open").click()
            expect(page.locator("#ex-strips .ex-strip")).to_have_count(4)
            expect(page.locator("#ex-cam-title")).to_have_text("Its rebuild of the row")
            expect(page.locator("#ex-attr")).to_have_attribute("data-label", "reconstruction error")
            page.locator("#ex-in-0").fill("1.5")
            page.wait_for_function("() => JSON.parse(document.querySelector('#ex-strips').dataset.row || '{}')"
                                   "['feature 0'] === 1.5")
            x = np.array([[float(v) for v in json.loads(page.locator("#ex-strips").get_attribute("data-row")).values()]],
                         np.float32)
            rebuilt = [float(li.get_attribute("data-value")) for li in page.locator("#ex-outputs li").all()]
            np.testing.assert_allclose(rebuilt, det.reconstruct(x)[0], rtol=1e-5, atol=1e-6)
            assert float(page.locator("#ex-attr").get_attribute("data-score")) == pytest.approx(
                float(det.score(x)[0]), rel=1e-5)
            page.screenshot(path=str(ARTIFACTS / "explorer-anomaly.png"))

            # an image model again: the image controls come back, the form goes
            page.locator("#ex-model").select_option("mobilenet-v2")
            page.locator("#ex-open").click()
            expect(page.locator("label[for='ex-file']")).to_be_visible()
            assert not page.locator("#ex-form").is_visible() and not page.locator("#ex-outputs").is_visible()
            expect(page.locator("#ex-cam-title")).to_have_text("Where it looked")
            assert not errors, errors
            browser.close()
    finally:
        server.stop()
