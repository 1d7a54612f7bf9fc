import io

import numpy as np
import pytest
from PIL import Image

import playml as ml
from playml.core.media import is_many, list_images, load_image


def test_all_image_kinds_give_the_same_pixels(coffee_path):
    ref = load_image(coffee_path)
    assert ref.shape == (400, 600, 3) and ref.dtype == np.uint8
    assert np.array_equal(load_image(str(coffee_path)), ref)
    assert np.array_equal(load_image(coffee_path.read_bytes()), ref)
    assert np.array_equal(load_image(Image.open(coffee_path)), ref)
    assert np.array_equal(load_image(ref), ref)
    assert np.abs(load_image(ref / 255.0).astype(int) - ref).max() <= 1


def test_gray_and_rgba(photos):
    gray = photos["coffee"].mean(axis=2).astype(np.uint8)
    out = load_image(gray)
    assert out.shape == (400, 600, 3) and np.array_equal(out[..., 0], gray)
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)  # fully transparent → white
    assert (load_image(rgba) == 255).all()


def test_exif_orientation_is_honoured(tmp_path, photos):
    img = Image.fromarray(photos["coffee"])  # 600 wide, 400 high
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    img.save(tmp_path / "rot.jpg", exif=exif)
    assert load_image(tmp_path / "rot.jpg").shape == (600, 400, 3)


def test_reduced_size_jpeg_decoding(coffee_path):
    small = load_image(coffee_path, draft_size=(150, 100))
    assert small.shape[0] >= 100 and small.shape[0] < 400


def test_bad_inputs_give_clear_errors(tmp_path):
    with pytest.raises(ml.OfflineError, match="offline"):
        load_image("https://example.com/cat.jpg")
    with pytest.raises(ml.MissingFileError, match="no file"):
        load_image(tmp_path / "missing.jpg")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ml.ImageError, match="not an image"):
        load_image(tmp_path / "notes.txt")
    with pytest.raises(ml.ShapeError, match="channels-first"):
        load_image(np.zeros((3, 32, 32), dtype=np.uint8))
    with pytest.raises(ml.ShapeError, match="0 to 1"):
        load_image(np.full((4, 4, 3), 7.0))
    with pytest.raises(ml.InputError):
        load_image(12345)


def test_truncated_jpeg_is_reported(tmp_path, coffee_path):
    data = coffee_path.read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(ml.ImageError, match="truncated or corrupt"):
        load_image(tmp_path / "cut.jpg")


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    import playml.core.media as media

    Image.new("RGB", (300, 300)).save(tmp_path / "big.png")
    monkeypatch.setattr(media, "MAX_PIXELS", 10_000)
    with pytest.raises(ml.ImageError, match="too large"):
        load_image(tmp_path / "big.png")


def test_folder_listing_and_many(tmp_path, coffee_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.jpg").write_bytes(coffee_path.read_bytes())
    (tmp_path / "y.PNG").write_bytes(b"")
    (tmp_path / "skip.txt").write_text("no")
    (tmp_path / ".hidden.jpg").write_bytes(b"")
    assert [p.name for p in list_images(tmp_path)] == ["x.jpg", "y.PNG"]
    assert is_many(tmp_path) and is_many([coffee_path]) and not is_many(coffee_path)
    assert is_many(np.zeros((2, 4, 4, 3), np.uint8)) and not is_many(np.zeros((4, 4, 3), np.uint8))
