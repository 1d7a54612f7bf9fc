"""`playml search build|query|evaluate|map|merge` round trip on a labelled folder of real photos."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from playml.cli import main


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_query_evaluate_map_merge(capsys, labelled_photos, tmp_path):
    index = tmp_path / "photos.index"
    cache = str(tmp_path / "chunks")
    code, out, _ = run(capsys, "search", "build", str(labelled_photos), "--out", str(index), "--cache", cache,
                       "--quiet")
    assert code == 0 and "60 images, 6 labels" in out and "embedded 60" in out
    assert (index / "model_meta.json").exists() and (index / "vectors.npy").exists()

    query = labelled_photos / "chelsea" / "06.jpg"
    code, out, _ = run(capsys, "search", "query", str(index), str(query), "-k", "4", "--json")
    assert code == 0
    result = json.loads(out)
    assert result[0]["image"] == str(query)
    matches = result[0]["matches"]
    assert len(matches) == 4 and {m["label"] for m in matches} == {"chelsea"}
    assert set(matches[0]) == {"path", "distance", "score", "label"} and matches[0]["path"].endswith("06.jpg")

    code, out, _ = run(capsys, "search", "query", str(index), str(query), "-k", "2")
    assert code == 0 and "chelsea" in out and "distance" in out

    code, out, _ = run(capsys, "search", "evaluate", str(index), "--json")
    scored = json.loads(out)
    assert code == 0 and scored["score"] > scored["baseline"] + 0.5 and len(scored["per_label"]) == 6
    code, out, _ = run(capsys, "search", "evaluate", str(index), "--metric", "euclidean")
    assert code == 0 and "random" in out and "grace_hopper" in out

    png = tmp_path / "map.png"
    code, out, _ = run(capsys, "search", "map", str(index), "--out", str(png), "--method", "pca")
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # building again over an unchanged folder embeds nothing
    code, out, _ = run(capsys, "search", "build", str(labelled_photos), "--out", str(index), "--cache", "off",
                       "--quiet")
    assert code == 0 and "embedded 0, reused 60" in out

    # shards (as separate machines would build them) merge into the same index
    parts = []
    for i in range(2):
        part = tmp_path / f"part-{i}.index"
        code, out, _ = run(capsys, "search", "build", str(labelled_photos), "--out", str(part), "--shard", f"{i}/2",
                           "--cache", cache, "--quiet")
        assert code == 0 and "embedded 0" in out  # every vector came from the chunk cache
        parts.append(str(part))
    merged = tmp_path / "merged.index"
    code, out, _ = run(capsys, "search", "merge", *parts, "--out", str(merged))
    assert code == 0 and "60 images from 2 indexes" in out
    assert json.loads((merged / "model_meta.json").read_text())["count"] == 60


def test_errors_are_short_messages(capsys, tmp_path, labelled_photos):
    code, _, err = run(capsys, "search", "query", str(tmp_path / "missing.index"), "x.jpg")
    assert code == 2 and err.startswith("playml: There is no search index")
    code, _, err = run(capsys, "search", "build", str(labelled_photos), "--out", str(tmp_path / "i"),
                       "--metric", "hamming")
    assert code == 2 and "metric" in err
    with pytest.raises(SystemExit):
        main(["search", "build", str(labelled_photos)])  # --out is required


def test_help_is_quick_and_lists_actions():
    out = subprocess.run([sys.executable, "-m", "playml", "search", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for action in ("build", "query", "map", "evaluate", "merge"):
        assert action in out
