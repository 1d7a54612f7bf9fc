"""ml.image_classifier(): real photos, every input kind, batches, and friendly errors."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import playml as ml

CATS = {"tabby cat", "tiger cat", "Persian cat", "Siamese cat", "Egyptian Mau"}


@pytest.fixture(scope="module")
def clf():
    return ml.image_classifier()


def test_repr_and_defaults(clf):
    assert repr(clf) == "ImageClassifier(model='efficientnet-lite0', labels=1000)"
    assert len(clf.labels) == 1000 and clf.model_card.name == "efficientnet-lite0"


def test_known_photos(clf, photos):
    import sklearn.datasets

    coffee = clf.classify(photos["coffee"])
    assert len(coffee) == 5 and coffee[0].label == "espresso" and coffee[0].confidence > 0.5
    assert [p.confidence for p in coffee] == sorted((p.confidence for p in coffee), reverse=True)
    assert clf.classify(photos["chelsea"])[0].label in CATS
    china = clf.classify(sklearn.datasets.load_sample_image("china.jpg"), top_k=3)
    assert {"palace", "monastery", "stupa", "mosque", "pagoda", "temple"} & {p.label for p in china}


def test_every_input_kind_gives_the_same_answer(clf, coffee_path):
    pil = Image.open(coffee_path)
    arr = np.asarray(pil.convert("RGB"))
    kinds = [str(coffee_path), coffee_path, pil, arr, arr / 255.0, coffee_path.read_bytes()]
    results = [clf.classify(k, top_k=1)[0] for k in kinds]
    assert {r.label for r in results} == {"espresso"}
    assert max(r.confidence for r in results) - min(r.confidence for r in results) < 0.02


def test_many_images_are_batched_like_single_ones(clf, photos, coffee_path, chelsea_path):
    many = clf.classify([coffee_path, photos["chelsea"], str(chelsea_path)], top_k=3)
    assert len(many) == 3 and all(len(r) == 3 for r in many)
    single = clf.classify(coffee_path, top_k=3)
    assert [p.label for p in many[0]] == [p.label for p in single]
    np.testing.assert_allclose([p.confidence for p in many[0]], [p.confidence for p in single], atol=1e-5)
    probs = clf.probabilities(np.stack([photos["coffee"], photos["coffee"][:, ::-1]]))
    assert probs.shape == (2, 1000) and np.allclose(probs.sum(1), 1, atol=1e-4)
    assert clf.classify([]) == []


def test_a_folder_and_small_batches(tmp_path, photos):
    for name in ("coffee", "chelsea", "rocket"):
        Image.fromarray(photos[name]).save(tmp_path / f"{name}.png")
    clf = ml.image_classifier(batch_size=2)
    results = clf.classify(tmp_path, top_k=1)
    assert results[0][0].label in CATS and results[1][0].label == "espresso"  # sorted: chelsea, coffee, rocket
    everything = clf.classify(photos["coffee"], top_k=1000)
    assert len(everything) == 1000 and {p.label for p in everything} == set(clf.labels)


def test_other_backbones_classify_too(photos):
    for name in ("mobilenet-v2", "efficientnet-lite2"):
        assert ml.image_classifier(name).classify(photos["coffee"], top_k=1)[0].label == "espresso"


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG file that claims to be ``width`` × ``height`` (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) \
        + chunk(b"IEND", b"")


def test_friendly_errors(clf, tmp_path, coffee_path):
    with pytest.raises(ml.MissingFileError, match="no file"):
        clf.classify(tmp_path / "nothere.jpg")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ml.ImageError, match="not an image"):
        clf.classify(tmp_path / "notes.txt")
    data = coffee_path.read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(ml.ImageError, match="truncated"):
        clf.classify(tmp_path / "cut.jpg")
    (tmp_path / "bomb.png").write_bytes(_png_header(20_000, 20_000))  # claims 400 million pixels
    with pytest.raises(ml.ImageError, match="too large"):
        clf.classify(tmp_path / "bomb.png")
    with pytest.raises(ml.ShapeError, match="channels-first"):
        clf.classify(np.zeros((3, 64, 64), dtype=np.uint8))
    with pytest.raises(ml.ShapeError):
        clf.classify(np.zeros((2, 64, 64, 5), dtype=np.uint8))
    with pytest.raises(ml.OfflineError, match="offline"):
        clf.classify("https://example.com/cat.jpg")
    with pytest.raises(ml.InputError, match="top_k"):
        clf.classify(coffee_path, top_k=0)
    with pytest.raises(ml.InputError):
        clf.classify(io.StringIO("x"))
    with pytest.raises(ml.UnknownModelError, match="efficientnet-lite0"):
        ml.image_classifier("efficientnet-lite")
