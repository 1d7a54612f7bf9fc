"""engine="ray": image search builds and features on a local Ray cluster (2 CPUs), offline.

Ray starts once for this module (a few seconds on an idle machine, much longer on a busy
one) and is shut down at the end.
"""
from __future__ import annotations

import numpy as np
import pytest

import playml as ml
from playml.errors import ImageError, InputError, UnknownModelError
from playml.images.search import ImageSearch, _ChunkCache

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray", reason="Ray is the optional playml[ray] extra (pinned in requirements/base.txt)")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def photos_folder(tmp_path_factory):
    from conftest import make_labelled_photos

    return make_labelled_photos(tmp_path_factory.mktemp("ray") / "photos", per_label=4)


@pytest.fixture(scope="module")
def local_index(photos_folder):
    return ml.image_search(photos_folder, cache=False)


def test_ray_build_gives_the_same_vectors_and_answers(local_ray, photos_folder, local_index, tmp_path):
    index = ml.image_search(photos_folder, engine="ray", cache=tmp_path / "chunks", chunk_size=8)
    assert index.last_build_["embedded"] == len(local_index) == 24
    assert index.paths_ == local_index.paths_ and index.labels_ == local_index.labels_
    np.testing.assert_allclose(index.vectors_, local_index.vectors_, atol=1e-5, rtol=0)
    query = sorted(photos_folder.rglob("*.jpg"))[5]
    assert [m.path for m in index.query(query, top_k=10)] == [m.path for m in local_index.query(query, top_k=10)]
    # saved and loaded like any index
    loaded = ImageSearch.load(index.save(tmp_path / "photos.index"))
    np.testing.assert_array_equal(loaded.vectors_, index.vectors_)


def test_features_with_ray_match_local(local_ray, photos_folder, local_index):
    fe = ml.feature_extractor()
    files = sorted(photos_folder.rglob("*.jpg"))[:7]
    local = fe.features(files)
    distributed = fe.features(files, engine="ray", workers=2, batch_size=2)
    assert distributed.shape == (7, 1280)
    np.testing.assert_allclose(distributed, local, atol=1e-5, rtol=0)
    np.testing.assert_allclose(fe.features(files[0], engine="ray"), local[0], atol=1e-5, rtol=0)


def test_an_interrupted_ray_build_resumes_without_reembedding(local_ray, photos_folder, local_index, tmp_path,
                                                             monkeypatch):
    """Ctrl-C after the first finished chunk: the next build embeds only what was not saved."""
    real_write = _ChunkCache.write
    written: list[int] = []

    def interrupt_after_first_chunk(self, entries, vectors):
        if written:
            raise KeyboardInterrupt
        real_write(self, entries, vectors)
        written.append(len(entries))

    monkeypatch.setattr(_ChunkCache, "write", interrupt_after_first_chunk)
    index = ImageSearch(engine="ray", cache=tmp_path / "chunks", chunk_size=8, batch_size=4)
    with pytest.raises(KeyboardInterrupt):
        index.build(photos_folder)
    assert len(index) == 0 and written and 8 <= written[0] < 24
    monkeypatch.setattr(_ChunkCache, "write", real_write)
    index.build(photos_folder)
    stats = index.last_build_
    assert stats["from_cache"] == written[0] and stats["embedded"] == 24 - written[0]
    np.testing.assert_allclose(index.vectors_, local_index.vectors_, atol=1e-5, rtol=0)
    again = ImageSearch(engine="ray", cache=tmp_path / "chunks").build(photos_folder)
    assert again.last_build_["embedded"] == 0 and again.last_build_["from_cache"] == 24


def test_unreadable_files_are_skipped_on_ray_too(local_ray, photos_folder, tmp_path):
    import shutil

    folder = tmp_path / "mixed"
    shutil.copytree(photos_folder / "coffee", folder / "coffee")
    (folder / "coffee" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.warns(UserWarning, match="could not be read"):
        index = ml.image_search(folder, engine="ray", cache=False)
    assert len(index) == 4 and index.skipped_[0][0].endswith("broken.jpg")
    with pytest.raises(ImageError, match="broken.jpg"):
        ml.feature_extractor().features(folder / "coffee", engine="ray")


def test_engine_errors_are_friendly(photos_folder):
    with pytest.raises(UnknownModelError, match="'local', 'ray'|local, ray"):
        ImageSearch(engine="spark")
    with pytest.raises(InputError, match="image files"):
        ml.feature_extractor().features(np.zeros((2, 32, 32, 3), np.uint8), engine="ray")


def test_cli_build_with_ray(local_ray, photos_folder, local_index, tmp_path, capsys):
    from playml.cli import main

    out = tmp_path / "cli.index"
    assert main(["search", "build", str(photos_folder), "--out", str(out), "--ray", "--cache", "off", "--quiet"]) == 0
    assert "embedded 24" in capsys.readouterr().out
    np.testing.assert_allclose(ImageSearch.load(out).vectors_, local_index.vectors_, atol=1e-5, rtol=0)
