"""playml.datasets.from_folder and from_csv on real files made in the test."""
from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
from PIL import Image

import playml as ml
from playml.datasets.files import DatasetWarning
from playml.errors import DataError, MissingFileError


@pytest.fixture
def photo_folder(tmp_path, photos):
    root = tmp_path / "my_photos"
    for label, names in {"cat": ["chelsea", "chelsea"], "coffee": ["coffee", "coffee", "coffee"],
                         "space": ["astronaut", "rocket"]}.items():
        (root / label).mkdir(parents=True)
        for i, name in enumerate(names):
            img = photos[name][:: 1 + i, :: 1 + i]  # different sizes
            Image.fromarray(img).save(root / label / f"{name}_{i}.{'png' if i % 2 else 'jpg'}")
    return root


def test_from_folder_reads_labels_from_sub_folders(photo_folder):
    ds = ml.datasets.from_folder(photo_folder)
    assert ds.kind == "images" and ds.labels == ["cat", "coffee", "space"]
    assert ds.counts() == {"cat": 2, "coffee": 3, "space": 2} and ds.skipped == []
    assert repr(ds) == "Dataset('my_photos', 7 images (files), 3 labels: cat, coffee, space)"
    X, y = ds.arrays()
    assert X.dtype == object and all(isinstance(p, str) for p in X)
    assert ds.image(0).ndim == 3 and ds.image(0).dtype == np.uint8
    assert "path" in ds.to_pandas().columns


def test_from_folder_skips_bad_files_and_reports_them(photo_folder, chelsea_path):
    (photo_folder / "cat" / "notes.txt").write_text("not a photo")
    (photo_folder / "cat" / "broken.jpg").write_bytes(chelsea_path.read_bytes()[:400])  # truncated
    (photo_folder / "coffee" / "empty.png").write_bytes(b"")
    (photo_folder / "README.md").write_text("top-level file")
    (photo_folder / ".hidden").mkdir()
    shutil.copy(chelsea_path, photo_folder / ".hidden" / "x.jpg")
    with pytest.warns(DatasetWarning, match=r"skipped 4 files .*and 1 more") as record:
        ds = ml.datasets.from_folder(photo_folder)
    assert len(record) == 1
    assert len(ds) == 7 and ds.labels == ["cat", "coffee", "space"]  # the hidden folder is no label
    reasons = {p.split("/")[-1]: why for p, why in ds.skipped}
    assert set(reasons) == {"notes.txt", "broken.jpg", "empty.png", "README.md"}
    assert reasons["notes.txt"] == "not an image file" and reasons["README.md"] == "not inside a label folder"
    assert "truncated" in reasons["broken.jpg"] or "corrupt" in reasons["broken.jpg"]
    assert "Skipped 4 files" in ds.describe() and "notes.txt" in ds.describe()


def test_from_folder_with_size_gives_pixel_arrays(photo_folder):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to report here
        ds = ml.datasets.from_folder(photo_folder, size=(32, 24))
    assert ds.X.shape == (7, 24, 32, 3) and ds.X.dtype == np.uint8
    train, test = ds.split(0.5, 0.5, stratify=True, seed=0)
    assert len(train) + len(test) == 7 and set(train.named_labels()) == {"cat", "coffee", "space"}
    flat = ds.flatten()
    assert flat.X.shape == (7, 24 * 32) and flat.kind == "table"


def test_from_folder_errors(tmp_path):
    with pytest.raises(MissingFileError):
        ml.datasets.from_folder(tmp_path / "nope")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("hi")
    with pytest.raises(DataError, match="No readable images.*x.txt: not an image file.*one sub-folder per label"):
        ml.datasets.from_folder(tmp_path)


CSV = """activity,heart_rate,steps,place,device_id,comment
walk,92,110,park,A17,
run,151,172,park,B22,felt good
rest,61,0,home,C03,
walk,95,104,street,D41,nice weather
run,148,169,street,E55,
rest,,0,home,F60,sensor fell off
walk,90,99,home,G71,
run,155,180,park,H82,
"""


def test_from_csv_infers_numeric_and_categorical_columns(tmp_path):
    path = tmp_path / "readings.csv"
    path.write_text(CSV)
    ds = ml.datasets.from_csv(path, label="activity")
    assert ds.kind == "table" and ds.labels == ["rest", "run", "walk"] and ds.target_name == "activity"
    assert ds.feature_names == ["heart_rate", "steps", "place=home", "place=park", "place=street"]
    assert set(ds.meta) == {"device_id", "comment"}
    notes = "\n".join(ds.notes)
    assert "heart_rate: numeric" in notes and "place: categorical with 3 values" in notes
    assert "device_id: text with 7 different values" in notes and "comment: text, empty in more than half" in notes
    assert "dropped 1 of 8 rows with missing values (rows 7 of the file" in notes and len(ds) == 7
    assert "What playml did while loading" in ds.describe()
    # rows are aligned: the first row is a walk at 92 bpm in the park
    df = ds.to_pandas()
    assert df["activity"].iloc[0] == "walk" and df["heart_rate"].iloc[0] == 92
    assert df["place=park"].iloc[0] == 1 and df["place=home"].iloc[0] == 0


def test_from_csv_codes_fill_ids_and_numeric_labels(tmp_path):
    rows = ["id,colour,size,grade"] + [f"row{i},{['red', 'green', 'blue'][i % 3]},{i * 1.5},{i % 4}"
                                        for i in range(80)]
    rows.append("row80,red,,2")
    path = tmp_path / "t.csv"
    path.write_text("\n".join(rows) + "\n")
    ds = ml.datasets.from_csv(path, label="grade", encoding="codes", missing="fill")
    assert len(ds) == 81 and ds.feature_names == ["colour", "size"]
    assert ds.labels == ["0", "1", "2", "3"] and ds.task == "classification"
    notes = "\n".join(ds.notes)
    assert "id: text with 81 different values" in notes and "id" in ds.meta
    assert "colour: categorical, coded blue=0, green=1, red=2" in notes
    assert "filled 1 missing values with the column mean" in notes
    assert "taken as classes" in notes
    assert set(np.unique(ds.X[:, 0])) == {0.0, 1.0, 2.0}
    reg = ml.datasets.from_csv(path, label="size", features=["colour", "grade"])
    assert reg.task == "regression" and "dropped 1 of 81 rows" in "\n".join(reg.notes)
    with pytest.raises(DataError, match="no column 'grades'.*id, colour, size, grade"):
        ml.datasets.from_csv(path, label="grades")
    with pytest.raises(MissingFileError):
        ml.datasets.from_csv(tmp_path / "missing.csv", label="x")
