"""Embed image files with Ray Data: many workers, one ONNX Runtime session each.

Used by ``FeatureExtractor.features(folder, engine="ray")`` and
``ImageSearch.build(folder, engine="ray")``. The driver hands Ray Data the list of file
paths; each worker (a Ray actor, 1 CPU) opens the backbone's cached ONNX export once,
reads, decodes and preprocesses its batch of files and runs the network; the vectors
stream back to the driver batch by batch, tagged with their row in the list, so the caller
stores them as they arrive (image search writes each finished chunk to its resumable cache).

Every worker must see the files at the same paths (one machine, or a shared file system on
a cluster) and have playml installed with the same model packages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from playml.errors import ImageError

__all__ = ["embed_files"]


class _Embedder:
    """A Ray Data worker: one ONNX Runtime session of one backbone, run one batch at a time."""

    def __init__(self, model: str, layer: str, precision: str, threads: int):
        from playml.zoo import get_backbone
        from playml.zoo.runtime import BackboneRunner

        self.runner = BackboneRunner(get_backbone(model), layer, threads, precision, ("features",))
        self.runner.session  # noqa: B018  (open the session before the first batch)

    def __call__(self, batch: dict) -> dict:
        from playml.zoo.preprocessing import preprocess

        rows, paths = batch["row"], batch["path"]
        spec = self.runner.spec
        images, good, errors = [], [], [""] * len(rows)
        for i, path in enumerate(paths):
            try:
                images.append(preprocess([str(path)], spec))
                good.append(i)
            except ImageError as e:  # an unreadable file is reported, the batch goes on
                errors[i] = str(e)
        vectors = np.zeros((len(rows), self._dim()), np.float32)
        if images:
            (feats,) = self.runner.run(np.concatenate(images), ["features"])
            vectors[good] = feats.reshape(len(good), -1)
        return {"row": np.asarray(rows, np.int64), "vector": vectors, "error": np.asarray(errors, dtype=object)}

    def _dim(self) -> int:
        return self.runner.spec.layer(self.runner.layer).size


def embed_files(
    paths: Sequence[str],
    model: str,
    layer: str,
    precision: str,
    *,
    address: str | None = None,
    batch_size: int = 32,
    workers: int | None = None,
    on_batch: Callable[[np.ndarray, np.ndarray, list[str]], None],
) -> None:
    """Embed ``paths`` on Ray; ``on_batch(rows, vectors, errors)`` is called in the driver for
    every finished batch (rows index ``paths``; an ``errors`` entry is ``""`` or why that file
    could not be read). ``workers`` defaults to the cluster's CPUs (one 1-thread session each)."""
    if not len(paths):
        return
    from playml.engines import ray as engine

    ray = engine.connect(address)
    n_workers = max(1, int(workers or engine.cpus()))
    batch_size = max(1, min(int(batch_size), -(-len(paths) // n_workers)))
    items = [{"row": i, "path": str(p)} for i, p in enumerate(paths)]
    ds = ray.data.from_items(items, override_num_blocks=max(1, min(len(items), n_workers * 4)))
    ds = ds.map_batches(
        _Embedder,
        fn_constructor_kwargs={"model": model, "layer": layer, "precision": precision, "threads": 1},
        batch_size=batch_size,
        batch_format="numpy",
        num_cpus=1,
        compute=ray.data.ActorPoolStrategy(size=n_workers),
    )
    for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
        on_batch(
            np.asarray(batch["row"], np.int64),
            np.asarray(batch["vector"], np.float32),
            [str(e) for e in batch["error"]],
        )
