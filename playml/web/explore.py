"""The studio's explore pages on the server: the neural-network playground and image search.

>>> from playml.web.explore import Playground
>>> pg = Playground()
>>> state = pg.reset({"dataset": "xor", "features": ["x1", "x2"], "hidden": [4, 2]})
>>> state["dataset"], state["epoch"], state["features"]
('xor', 0, ['x1', 'x2'])

:func:`register` adds the routes (``/api/playground/*``, ``/api/search/*``) to the studio's app.
Everything runs in worker threads, one lock per page, so a slow step never blocks the server.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import File, Request, UploadFile

from playml.core.threads import torch_threads
from playml.errors import InputError

__all__ = ["Playground", "SearchSession", "AnomalySession", "FEATURES", "ACTIVATIONS", "register"]

#: The Playground's input features: name → function of (x1, x2).
FEATURES = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1^2": lambda a, b: a * a,
    "x2^2": lambda a, b: b * b,
    "x1*x2": lambda a, b: a * b,
    "sin(x1)": lambda a, b: np.sin(a),
    "sin(x2)": lambda a, b: np.sin(b),
}
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
REGULARIZATION = ("none", "L1", "L2")
#: The boundary is drawn from the network's answers on a GRID × GRID lattice over −6…6.
GRID = 48
NEURON_GRID = 16
EXTENT = 6.0
DEFAULTS: dict[str, Any] = {
    "dataset": "circle",
    "noise": 0,
    "ratio": 50,
    "features": ["x1", "x2"],
    "hidden": [4, 2],
    "activation": "tanh",
    "learning_rate": 0.03,
    "regularization": "none",
    "regularization_rate": 0.0,
    "batch_size": 10,
    "points": 500,
    "seed": 0,
}
MAX_NEURONS, MAX_LAYERS = 8, 6
#: Playing stops by itself when no page has asked for a picture for this long (a closed tab).
UNWATCHED_SECONDS = 10.0


def _features(names: list[str], xy: np.ndarray) -> np.ndarray:
    a, b = xy[:, 0].astype(np.float32), xy[:, 1].astype(np.float32)
    return np.stack([FEATURES[n](a, b) for n in names], axis=1).astype(np.float32)


def _lattice(n: int) -> np.ndarray:
    """Centres of an n × n lattice over −6…6, row by row from the top (x2 = +6) down."""
    c = (np.arange(n) + 0.5) / n * 2 * EXTENT - EXTENT
    x1, x2 = np.meshgrid(c, c[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1).astype(np.float32)


class Playground:
    """A TensorFlow-Playground session: a 2-D data set, a small network (an ``ml.neural_network``)
    and the steps taken so far. :meth:`reset` starts again with new settings, :meth:`step`
    trains for whole epochs (mini-batch SGD, as the Playground) and answers with the losses and the
    network's picture of the plane."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.settings: dict[str, Any] = dict(DEFAULTS)
        self.network: Any = None
        self.epoch = 0
        self.history: list[dict[str, float]] = []
        self.frame: dict[str, Any] | None = None  # the latest picture of the network while it plays
        self._playing: threading.Event | None = None
        self._player: threading.Thread | None = None
        self._seen = 0.0  # when the page last asked for a picture
        self.reset(self.settings)

    # -- settings -------------------------------------------------------------------------------
    @staticmethod
    def check(settings: dict[str, Any]) -> dict[str, Any]:
        from playml.datasets.playground import SHAPES
        from playml.errors import unknown_name

        s = dict(DEFAULTS)
        s.update({k: v for k, v in (settings or {}).items() if k in DEFAULTS})
        if s["dataset"] not in SHAPES:
            raise unknown_name("data set", s["dataset"], SHAPES)
        if s["activation"] not in ACTIVATIONS:
            raise unknown_name("activation", s["activation"], ACTIVATIONS)
        if s["regularization"] not in REGULARIZATION:
            raise unknown_name("regularisation", s["regularization"], REGULARIZATION)
        feats = [f for f in FEATURES if f in (s["features"] or [])]
        unknown = [f for f in s["features"] or [] if f not in FEATURES]
        if unknown:
            raise unknown_name("feature", unknown[0], list(FEATURES))
        if not feats:
            raise InputError("Choose at least one input feature (x1, x2, x1^2, …).")
        s["features"] = feats
        hidden = [int(h) for h in s["hidden"] or []]
        if len(hidden) > MAX_LAYERS or any(not 1 <= h <= MAX_NEURONS for h in hidden):
            raise InputError(f"Up to {MAX_LAYERS} hidden layers of 1 to {MAX_NEURONS} neurons each (got {hidden}).")
        s["hidden"] = hidden
        for key, lo, hi in (("noise", 0, 50), ("ratio", 10, 90), ("batch_size", 1, 30), ("points", 20, 2000)):
            v = s[key]
            if not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise InputError(f"{key} goes from {lo} to {hi} (got {v!r}).")
        for key in ("learning_rate", "regularization_rate"):
            v = s[key]
            if not isinstance(v, (int, float)) or not 0 <= v <= 10 or (key == "learning_rate" and v <= 0):
                raise InputError(f"{key} must be a number above 0 and at most 10 (got {v!r}).")
        s["batch_size"], s["points"] = int(s["batch_size"]), int(s["points"])
        return s

    def reset(self, settings: dict[str, Any]) -> dict[str, Any]:
        import playml as ml
        from playml.datasets.playground import LABELS, make

        s = self.check(settings)
        self.play(False)
        X, y = make(s["dataset"], n=s["points"], noise=s["noise"] / 100, seed=s["seed"])
        n_train = max(1, min(len(X) - 1, round(len(X) * s["ratio"] / 100)))
        layers = [{"type": "dense", "units": h, "activation": s["activation"]} for h in s["hidden"]]
        layers.append({"type": "dense", "activation": "softmax"})
        net = ml.neural_network(
            task="classification",
            inputs=s["features"],
            outputs=["label"],
            layers=layers,
            learning_rate=float(s["learning_rate"]),
            optimizer="sgd",
            seed=s["seed"],
        )
        f = _features(s["features"], X)
        for row, label in zip(f[:n_train], y[:n_train]):
            net.add_data([float(v) for v in row], [LABELS[int(label)]])
        with self.lock:
            self.settings, self.network = s, net
            self.X, self.y, self.n_train = X, y, n_train
            self.test_x = f[n_train:]
            self.epoch, self.history = 0, []
            self._grid = _features(s["features"], _lattice(GRID))
            self._neuron_grid = _features(s["features"], _lattice(NEURON_GRID))
        return self.state(points=True)

    # -- training -------------------------------------------------------------------------------
    def _model(self):
        net = self.network
        if net.model_ is None:  # build it (seeded) without training a step
            net.meta_ = net._describe()
            net.model_ = net._build()
            net.seed = None  # later epochs shuffle differently
        return net.model_

    def _blue(self) -> int:
        return self.network.labels.index("blue") if self.network.meta_ else 1

    def _losses(self) -> dict[str, float]:
        import torch

        model, blue = self._model(), self._blue()
        out: dict[str, float] = {}
        with torch.no_grad():
            for name, f, y in (
                ("train", _features(self.settings["features"], self.X[: self.n_train]), self.y[: self.n_train]),
                ("test", self.test_x, self.y[self.n_train :]),
            ):
                p = model(torch.from_numpy(f))[:, blue].double().clamp(1e-7, 1 - 1e-7).numpy()
                if not len(y):
                    out.update({f"{name}_loss": 0.0, f"{name}_crossentropy": 0.0, f"{name}_accuracy": 0.0})
                    continue
                # the Playground's loss: ½(output − target)² on its −1…+1 scale (output = 2p − 1)
                out[f"{name}_loss"] = float(np.mean(0.5 * (2 * p - 1 - (2 * y - 1)) ** 2))
                out[f"{name}_crossentropy"] = float(-np.mean(np.where(y == 1, np.log(p), np.log(1 - p))))
                out[f"{name}_accuracy"] = float(np.mean((p >= 0.5) == (y == 1)))
        return out

    def step(self, steps: int = 1) -> dict[str, Any]:
        """Train ``steps`` epochs (each one pass over the training points in mini-batches)."""
        if not isinstance(steps, int) or not 1 <= steps <= 100:
            raise InputError(f"steps goes from 1 to 100 (got {steps!r}).")
        self.play(False)
        with self.lock:
            train_ms = self._train(steps)
            state = self.state()
            state["history"] = state["history"][-1:]  # the page keeps the rest
            state["train_ms"] = train_ms
            return state

    def _train(self, epochs: int) -> float:
        """Train ``epochs`` epochs (the caller holds the lock); returns the milliseconds it took."""
        s = self.settings
        self._model()
        t = time.perf_counter()
        l1 = float(s["regularization_rate"]) if s["regularization"] == "L1" else 0.0
        l2 = float(s["regularization_rate"]) if s["regularization"] == "L2" else 0.0
        self.network.train(
            epochs=epochs,
            batch_size=s["batch_size"],
            validation_split=0.0,
            learning_rate=float(s["learning_rate"]),
            progress=False,
            l1=l1,
            l2=l2,
        )
        self.epoch += epochs
        return (time.perf_counter() - t) * 1000

    # -- playing: training in a thread, the page fetching pictures of it ----------------------------
    def play(self, on: bool) -> dict[str, Any] | None:
        """Start (``on``) or stop training in a background thread. While it plays, :meth:`frames`
        answers with the latest epoch, losses and weights (the page draws the boundary from the
        weights itself), so drawing never waits for training nor training for drawing.
        Stopping waits for the epoch under way and answers with the final :meth:`state`."""
        if on:
            self._seen = time.monotonic()
            if self._player is None or not self._player.is_alive():
                self._playing = threading.Event()
                self._playing.set()
                self._player = threading.Thread(
                    target=self._play, args=(self._playing,), daemon=True, name="playml-playground"
                )
                self._player.start()
            return None
        player, playing = self._player, self._playing
        if playing is not None:
            playing.clear()
        if player is not None and player is not threading.current_thread():
            player.join()
        self._player = self._playing = None
        return None

    def _play(self, playing: threading.Event) -> None:
        chunk = 1
        try:
            with torch_threads(1):  # a tiny network: one thread is much faster than two on a busy machine
                while playing.is_set():
                    if time.monotonic() - self._seen > UNWATCHED_SECONDS:  # the page is gone: stop
                        break
                    with self.lock:
                        if not playing.is_set():
                            break
                        ms = self._train(chunk)
                        self.frame = self._frame()
                    # about 25 ms of training between pictures (whole epochs)
                    chunk = max(1, min(20, round(chunk * 25 / max(ms, 1e-3))))
                    time.sleep(0.001)  # let the server answer
        except Exception as e:  # noqa: BLE001 - shown on the page in words
            self.frame = {**(self.frame or {}), "error": str(e)}

    def _weights(self) -> list[dict[str, Any]]:
        """The network's dense layers: weights (out × in), biases and the activation after each."""
        import torch

        layers = list(self._model())
        out = []
        for i, m in enumerate(layers):
            if not isinstance(m, torch.nn.Linear):
                continue
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            act = "linear" if nxt is None or isinstance(nxt, torch.nn.Linear) else type(nxt).__name__.lower()
            out.append(
                {"w": m.weight.detach().numpy().tolist(), "b": m.bias.detach().numpy().tolist(), "activation": act}
            )
        return out

    def _frame(self) -> dict[str, Any]:
        losses = self._losses()
        if not self.history or self.history[-1]["epoch"] != self.epoch:
            self.history.append({"epoch": self.epoch, **losses})
            del self.history[:-2000]
        return {
            "epoch": self.epoch,
            **losses,
            "weights": self._weights(),
            "blue": self._blue(),
            "features": self.settings["features"],
            "playing": True,
        }

    def frames(self, since: int = -1) -> dict[str, Any]:
        """The latest picture while playing, with the loss history after epoch ``since``."""
        self._seen = time.monotonic()
        frame = self.frame
        if frame is None:
            with self.lock:
                frame = self.frame = self._frame()
        return {
            **frame,
            "playing": self._player is not None and self._player.is_alive(),
            "history": [h for h in self.history[-400:] if h["epoch"] > since],
        }

    def locked_state(self, points: bool = False) -> dict[str, Any]:
        """:meth:`state` between two epochs of a network that may be playing."""
        with self.lock:
            return self.state(points)

    def state(self, points: bool = False) -> dict[str, Any]:
        """The losses, the boundary (probability of blue on the lattice, 0–255) and each neuron's picture."""
        with torch_threads(1):  # a tiny network: one thread is ~40× faster than two on a busy machine
            return self._state(points)

    def _state(self, points: bool) -> dict[str, Any]:
        import torch

        model, blue = self._model(), self._blue()
        losses = self._losses()
        if not self.history or self.history[-1]["epoch"] != self.epoch:
            self.history.append({"epoch": self.epoch, **losses})
        with torch.no_grad():
            p = model(torch.from_numpy(self._grid))[:, blue].numpy()
            neurons: list[list[int]] = []
            x = torch.from_numpy(self._neuron_grid)
            layers = list(model)
            for i, m in enumerate(layers[:-2]):  # every hidden layer's output after its activation
                x = m(x)
                if not isinstance(layers[i + 1], torch.nn.Linear):
                    continue
                v = x.numpy()
                scale = max(float(np.abs(v).max()), 1e-6)
                neurons.extend(np.round((v[:, j] / scale + 1) * 127.5).astype(int).tolist() for j in range(v.shape[1]))
        out: dict[str, Any] = {
            **{k: self.settings[k] for k in ("dataset", "features", "hidden")},
            "settings": self.settings,
            "epoch": self.epoch,
            **losses,
            "grid": {"size": GRID, "extent": EXTENT, "blue": np.round(p * 255).astype(int).tolist()},
            "neurons": {"size": NEURON_GRID, "values": neurons},
            "history": self.history[-400:],
            "weights": self._weights(),
            "blue": blue,
        }
        self.frame = {k: out[k] for k in ("epoch", "weights", "blue", *losses)} | {
            "features": self.settings["features"]
        }
        if points:
            out["points"] = {"x": np.round(self.X, 3).tolist(), "label": self.y.tolist(), "train": self.n_train}
        return out

    def export(self, folder: Path) -> Path:
        """Save the network as ml5.js's three files (``ml.load`` reads it back)."""
        with self.lock:
            self._model()
            return self.network.save(folder)


# -- image search ----------------------------------------------------------------------------------
SEARCH_SOURCES = {
    "photos": "the bundled photos (8)",
    "digits": "the bundled digits (1,797 small pictures)",
    "folder": "a folder on this computer",
    "uploads": "images you upload (choose or drop them)",
}
#: Thumbnails of an index as one JPEG sheet (a sprite), SPRITE_TILE pixels square each, so the
#: page decodes one picture once and every result afterwards draws without a request.
SPRITE_TILE = 64
SPRITE_MAX = 16384  # 128 × 128 tiles: an 8192-pixel sheet
MAP_METHODS = ("pca", "umap")
SEARCH_MODELS = ("efficientnet-lite0", "mobilenet-v2", "efficientnet-lite1", "efficientnet-lite2")
SEARCH_METRICS = ("cosine", "euclidean", "sqeuclidean", "dot")


_BLAS: Any = None


def _one_blas_thread():
    """A context in which NumPy's BLAS uses one thread. A click's query is one small matrix
    product; on a busy machine, waking BLAS's second thread for it costs tens of milliseconds."""
    global _BLAS
    import contextlib

    try:
        from threadpoolctl import ThreadpoolController  # comes with scikit-learn
    except ImportError:  # pragma: no cover - scikit-learn is a requirement
        return contextlib.nullcontext()
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def _digit_files() -> Path:
    """The bundled digits as PNG files (32×32, one folder per digit) in playml's cache, written once."""
    from PIL import Image

    import playml as ml
    from playml.core.cache import cache_dir

    root = cache_dir("datasets") / "digits-png"
    done = root / ".complete"
    if done.exists():
        return root
    ds = ml.datasets.load("digits")
    X = np.asarray(ds.X, dtype=np.float32)
    if X.ndim == 2:  # flat rows of a square picture
        side = int(round(math.sqrt(X.shape[1])))
        X = X.reshape(len(X), side, side)
    pics = np.clip(X / max(float(X.max()), 1e-6) * 255, 0, 255).astype(np.uint8)
    for i, (pic, label) in enumerate(zip(pics, ds.named_labels())):
        (root / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pic).resize((32, 32), Image.Resampling.NEAREST).save(root / str(label) / f"{i:04d}.png")
    done.write_text("ok")
    return root


class SearchSession:
    """Image search indexes built for the page, kept by (source, model, layer) so that
    switching back is instant; the metric is a cheap view of the same vectors."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.built: dict[tuple[str, str, str], tuple[Any, list[Any]]] = {}
        self.current: tuple[Any, list[Any]] | None = None
        self.key: tuple[str, str, str] | None = None
        self.metric = "cosine"
        self.progress: dict[str, Any] = {"done": 0, "total": 0, "state": "idle", "message": ""}
        self.thumbs: dict[str, dict[int, bytes]] = {}  # by file: JPEG bytes per size
        self.compare: tuple[Any, list[Any]] | None = None  # a second layer's index of the same images
        self.maps: dict[tuple, dict[str, Any]] = {}  # (index key, metric, method) → the map's JSON
        self.sprites: dict[Any, bytes] = {}  # index key → the thumbnail sheet (JPEG)
        self.upload_dir: Path | None = None
        self.uploads = 0

    def upload(self, files: list[tuple[str, bytes]], first: bool = True) -> dict[str, Any]:
        """Keep uploaded images in a fresh folder (``first``) or add them to the current one;
        the ``uploads`` source indexes that folder. Each file must decode as an image."""
        import re
        import tempfile

        from playml.web.security import BadRequest, decode_image

        if not files:
            raise InputError("Choose at least one image.")
        for name, data in files:
            try:
                decode_image(data)
            except BadRequest as e:
                raise InputError(f"{name or 'An upload'}: {e}") from None
        with self.lock:
            if first or self.upload_dir is None:
                self._forget_uploads()
                self.upload_dir = Path(tempfile.mkdtemp(prefix="playml-search-uploads-"))
                self.uploads = 0
            for name, data in files:
                stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(name or "image").stem)[:40] or "image"
                suffix = Path(name or "").suffix.lower()
                if suffix not in (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"):
                    suffix = ".png"
                (self.upload_dir / f"{self.uploads:05d}-{stem}{suffix}").write_bytes(data)
                self.uploads += 1
            return {"folder": str(self.upload_dir), "images": self.uploads}

    def _forget_uploads(self) -> None:
        """Delete the previous uploads' folder and what was built from it (a new upload replaces them)."""
        import shutil

        if self.upload_dir is None:
            return
        where = f"folder:{self.upload_dir}"
        if self.key is not None and self.key[0] == where:
            self.current = self.compare = self.key = None
        for key in [k for k in self.built if k[0] == where]:
            del self.built[key]
            self.sprites.pop(key, None)
        self.maps = {k: v for k, v in self.maps.items() if k[0] is None or k[0][0] != where}
        shutil.rmtree(self.upload_dir, ignore_errors=True)
        self.upload_dir = None

    @staticmethod
    def items(source: str, folder: str | None) -> tuple[list[Any], list[str | None]]:
        import playml as ml
        from playml.core.media import list_images

        if source == "photos":
            ds = ml.datasets.load("photos")
            return [str(p) for p in ds.X], list(ds.named_labels())
        if source == "digits":
            folder = str(_digit_files())
            source = "folder"
        if source == "uploads":
            if not folder:
                raise InputError("Upload some images first (choose them or drop them on the page).")
            source = "folder"
        if source == "folder":
            if not folder:
                raise InputError("Type the path of a folder of images (one sub-folder per label, if you want labels).")
            root = Path(folder).expanduser().resolve()
            if not root.is_dir():
                raise InputError(f"There is no folder {folder!r} on this computer.")
            files = list_images(root)
            if not files:
                raise InputError(f"There are no images in {folder!r}.")
            return [str(f) for f in files], [
                f.relative_to(root).parts[0] if len(f.relative_to(root).parts) > 1 else None for f in files
            ]
        from playml.errors import unknown_name

        raise unknown_name("image source", source, list(SEARCH_SOURCES))

    def _index_of(self, index: Any, key: tuple, items: list[Any], labels: list[str | None], chunk: int) -> Any:
        """The index of ``key``, embedded now (with progress) unless it was built before."""
        if key not in self.built:
            self.progress = {
                "done": 0,
                "total": len(items),
                "state": "building",
                "message": f"Reading {len(items)} images with {index.model_name} ({index._layer})…",
            }
            t = time.perf_counter()
            for start in range(0, len(items), chunk):
                part: Any = items[start : start + chunk]
                if all(labels):
                    from playml.datasets.dataset import Dataset

                    part = Dataset(part, list(labels[start : start + chunk]), kind="images")
                (index.build if start == 0 else index.add)(part, progress=False)
                self.progress["done"] = min(len(items), start + chunk)
            self.progress["seconds"] = time.perf_counter() - t
            self.built[key] = (index, items)
        return self.built[key]

    def build(
        self,
        source: str,
        model: str,
        layer: str | None,
        metric: str,
        folder: str | None = None,
        chunk: int = 64,
        compare: str | None = None,
    ) -> dict[str, Any]:
        """Embed the images with ``model`` at ``layer`` (and at a second layer ``compare``, to
        show both layers' answers side by side); kept per (images, model, layer)."""
        import playml as ml
        from playml.core.vector_index import check_metric

        check_metric(metric)
        if source == "uploads":
            folder = str(self.upload_dir) if self.upload_dir else None
        index = ml.image_search(model=model, layer=layer or None, metric="cosine")  # checks model and layer
        other = ml.image_search(model=model, layer=compare, metric="cosine") if compare else None
        where = source if source not in ("folder", "uploads") else f"folder:{folder}"
        key = (where, index.model_name, index._layer)
        with self.lock:
            if key in self.built:
                items, labels = self.built[key][1], list(self.built[key][0].labels_)
            else:
                items, labels = self.items(source, folder)
            base, items = self._index_of(index, key, items, labels, chunk)
            second = None
            if other is not None:
                second = self._index_of(other, (where, other.model_name, other._layer), items, labels, chunk)[0]
            self.key, self.metric, self.version = key, metric, getattr(self, "version", 0) + 1
            view = base if metric == base.metric else base.with_metric(metric)
            self.current = (view, items)
            self.compare = None
            if second is not None:
                self.compare = (second if metric == second.metric else second.with_metric(metric), items)
            self.progress = {
                **self.progress,
                "state": "ready",
                "done": len(items),
                "total": len(items),
                "message": f"{len(items)} images ready.",
            }
            if key not in self.sprites:
                self.progress["message"] = f"{len(items)} images ready; making their thumbnails…"
                self.sprite()  # one sheet of thumbnails: every result then draws without a request
                self.progress["message"] = f"{len(items)} images ready."
            if key not in self.sprites:  # too many for one sheet: one thumbnail per request, made ahead
                threading.Thread(target=self.warm, name="playml-search-thumbnails", daemon=True).start()
            return self.describe()

    def index(self):
        if self.current is None:
            raise InputError("Build an index first (choose the images, a model and a layer).")
        return self.current[0]

    def describe(self) -> dict[str, Any]:
        index = self.index()
        n = len(index)
        sprite = None
        if self.key in self.sprites:
            sprite = {
                "tile": SPRITE_TILE,
                "columns": self._sprite_columns(n),
                "url": f"/api/search/sprite.jpg?v={self.version}",
            }
        return {
            "images": n,
            "version": self.version,
            "model": index.model_name,
            "layer": index._layer,
            "compare": self.compare[0]._layer if self.compare else None,
            "metric": index.metric,
            "labels": [lab or "" for lab in index.labels_],
            "sprite": sprite,
        }

    @staticmethod
    def _answer(index: Any, row: int, top_k: int) -> dict[str, Any]:
        from playml.images.search import search_score

        t = time.perf_counter()
        matches = index.query_vector(index.vectors_[row], top_k=top_k)
        ms = (time.perf_counter() - t) * 1000
        rows = [index._pos[m.path] if m.path in index._pos else index.paths_.index(m.path) for m in matches]
        label = index.labels_[row]
        others = [m for m, r in zip(matches, rows) if r != row]
        score = search_score([m.label == label for m in others]) if label else None
        return {
            "layer": index._layer,
            "label": label,
            "ms": ms,
            "score": score,
            "matches": [
                {"row": r, "path": m.path, "label": m.label, "distance": m.distance, "score": m.score}
                for m, r in zip(matches, rows)
            ],
        }

    def query(self, row: int, top_k: int = 15) -> dict[str, Any]:
        """The ``top_k`` nearest of image ``row`` (and with the second layer's index, when comparing).
        The page draws their thumbnails from the sprite, so the answer is a few kilobytes."""
        index = self.index()
        if not isinstance(row, int) or not 0 <= row < len(index):
            raise InputError(f"row goes from 0 to {len(index) - 1} (got {row!r}).")
        with _one_blas_thread():
            out = {"row": row, **self._answer(index, row, top_k)}
            if self.compare is not None:
                out["compare"] = self._answer(self.compare[0], row, top_k)
        return out

    def map(self, method: str = "pca") -> dict[str, Any]:
        """2-D coordinates of (at most 2,000 of) the images: PCA, or UMAP (slower: its first
        run in a process compiles numba code); kept per index, metric and method."""
        if method not in MAP_METHODS:
            from playml.errors import unknown_name

            raise unknown_name("map", method, MAP_METHODS)
        index = self.index()
        key = (self.key, index.metric, method)
        if key not in self.maps:
            t = time.perf_counter()
            rows, xy = index.map_2d(method, sample=2000)
            self.maps[key] = {
                "method": method,
                "rows": rows.tolist(),
                "xy": np.round(np.asarray(xy, dtype=np.float64), 4).tolist(),
                "labels": [index.labels_[i] or "" for i in rows],
                "seconds": time.perf_counter() - t,
            }
        return self.maps[key]

    @staticmethod
    def _sprite_columns(n: int) -> int:
        return max(1, min(128, math.ceil(math.sqrt(n))))

    def sprite(self) -> bytes | None:
        """The current index's thumbnails as one JPEG sheet (row r at column r % columns), made once."""
        import io

        from PIL import Image

        if self.current is None:
            raise InputError("Build an index first (choose the images, a model and a layer).")
        key, items = self.key, self.current[1]
        if key in self.sprites:
            return self.sprites[key]
        n = len(items)
        if n > SPRITE_MAX:
            return None
        cols, tile = self._sprite_columns(n), SPRITE_TILE
        sheet = Image.new("RGB", (cols * tile, math.ceil(n / cols) * tile), "white")
        for row, item in enumerate(items):
            sheet.paste(self._tile(item, tile), ((row % cols) * tile, (row // cols) * tile))
        buf = io.BytesIO()
        sheet.save(buf, "JPEG", quality=85)
        self.sprites[key] = buf.getvalue()
        return self.sprites[key]

    @staticmethod
    def _tile(item: Any, size: int):
        """A size × size square of the image (its centre, like CSS object-fit: cover)."""
        from PIL import Image, ImageOps

        from playml.core.media import load_image

        img = Image.fromarray(load_image(item) if isinstance(item, str) else item).convert("RGB")
        return ImageOps.fit(img, (size, size), Image.Resampling.BILINEAR)

    def thumbnail(self, row: int, size: int = 96) -> bytes:
        if self.current is None or not 0 <= row < len(self.current[1]):
            raise InputError("There is no such image in the index.")
        item = self.current[1][row]
        cache = self.thumbs.setdefault(str(item), {})
        if size not in cache:
            cache[size] = self._thumbnail(item, size)
        return cache[size]

    def warm(self, size: int = 96) -> None:
        """Make every thumbnail of the current index ahead of the clicks (in a background thread)."""
        current = self.current
        for row in range(len(current[1]) if current else 0):
            if self.current is not current:
                return
            self.thumbnail(row, size)

    @staticmethod
    def _thumbnail(item: Any, size: int) -> bytes:
        import io

        from PIL import Image

        from playml.core.media import load_image

        img = Image.fromarray(load_image(item) if isinstance(item, str) else item)
        img.thumbnail((size, size))
        buf = io.BytesIO()
        img.convert("RGB").save(buf, "JPEG", quality=80)
        return buf.getvalue()


# -- anomalies -------------------------------------------------------------------------------------
ANOMALY_DATASETS = ("ecg5000", "ecg200", "csv")
#: A CSV's test part: every TEST_EVERY-th row (rows 5, 10, 15, … counting from 1); the detector
#: learns from the normal rows among the others.
TEST_EVERY = 5


def csv_split(frame: Any) -> tuple[Any, Any]:
    """A table's (training part, test part): the test part is every fifth row, starting with the fifth."""
    return frame.drop(frame.index[TEST_EVERY - 1 :: TEST_EVERY]), frame.iloc[TEST_EVERY - 1 :: TEST_EVERY]


class AnomalySession:
    """An autoencoder trained on a bundled heartbeat set's normal beats (Anomagram): the loss per
    epoch while it trains, then every test beat's reconstruction error, its truth and its 2-D code."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status = "idle"
        self.losses: list[float] = []
        self.error = ""
        self.detector: Any = None
        self.result: dict[str, Any] | None = None
        self.test_x: np.ndarray | None = None
        self.csv: dict[str, Any] | None = None  # the uploaded table: its file and what the page shows of it

    def upload_csv(self, name: str, data: bytes) -> dict[str, Any]:
        """Keep an uploaded CSV and describe it: rows, columns, and the columns that could be labels
        (at most 20 different values) with their values, most common first."""
        import tempfile

        import pandas as pd

        from playml.datasets.tables import LABEL_COLUMNS

        if not data:
            raise InputError("The CSV file is empty.")
        if self.csv is not None and self.status != "training":  # a new upload replaces the last one
            import shutil

            shutil.rmtree(Path(self.csv["path"]).parent, ignore_errors=True)
            self.csv = None
        folder = Path(tempfile.mkdtemp(prefix="playml-anomaly-csv-"))
        path = folder / "table.csv"
        path.write_bytes(data)
        try:
            frame = pd.read_csv(path, sep=None, engine="python")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
            raise InputError(f"{name or 'The file'} could not be read as a CSV table ({e}).") from None
        labels = {}
        for c in frame.columns:
            counts = frame[c].astype(str).value_counts()
            if frame[c].notna().all() and len(counts) <= 20:
                labels[str(c)] = [str(v) for v in counts.index]
        guess = next((c for c in labels if c.strip().lower() in LABEL_COLUMNS), None)
        if len(frame) < 2 * TEST_EVERY:
            raise InputError(f"The CSV has {len(frame)} rows; the detector needs dozens at least.")
        self.csv = {
            "name": name or "table.csv",
            "path": str(path),
            "rows": len(frame),
            "columns": [str(c) for c in frame.columns],
            "labels": labels,
            "label_column": guess,
        }
        return self.csv

    def start(self, options: dict[str, Any]) -> dict[str, Any]:
        import playml as ml

        dataset = options.get("dataset", "ecg5000")
        if dataset not in ANOMALY_DATASETS:
            from playml.errors import unknown_name

            raise unknown_name("data set", dataset, ANOMALY_DATASETS)
        if dataset == "csv":
            if self.csv is None:
                raise InputError("Upload a CSV file first.")
            column = options.get("label_column") or None
            if column is not None and column not in self.csv["labels"]:
                from playml.errors import unknown_name

                raise unknown_name("label column", column, list(self.csv["labels"]))
            normal = options.get("normal_label")
            if column is not None and normal not in self.csv["labels"][column]:
                from playml.errors import unknown_name

                raise unknown_name("normal label", str(normal), self.csv["labels"][column])
            dataset = {"csv": self.csv["path"], "label_column": column, "normal_label": normal if column else None}
        hidden = options.get("hidden", [15, 7])
        if isinstance(hidden, str):
            try:
                hidden = [int(v) for v in hidden.replace(" ", "").split(",") if v]
            except ValueError:
                raise InputError("Hidden layers are whole numbers separated by commas, like 15,7.") from None
        epochs = options.get("epochs", 30)
        if not isinstance(epochs, int) or not 1 <= epochs <= 500:
            raise InputError(f"epochs goes from 1 to 500 (got {epochs!r}).")
        det = ml.anomaly_detector(
            hidden=hidden,
            latent=int(options.get("latent", 2)),
            optimizer=str(options.get("optimizer", "adam")),
            learning_rate=float(options.get("learning_rate", 0.01)),
            seed=0,
        )
        det._check_params()
        if self.status == "training":
            raise InputError("It is training already; wait for it to finish.")
        self.status, self.losses, self.error, self.result = "training", [], "", None
        threading.Thread(
            target=self._train, args=(det, dataset, epochs), daemon=True, name="playml-anomaly-train"
        ).start()
        return self.state()

    def _train(self, det, dataset: str | dict[str, Any], epochs: int) -> None:
        import playml as ml

        def on_epoch(epoch, logs):
            self.losses.append(float(logs["loss"]))

        try:
            if isinstance(dataset, dict):  # an uploaded CSV: every fifth row is kept for testing
                import pandas as pd

                from playml.datasets.tables import to_table

                column, normal = dataset["label_column"], dataset["normal_label"]
                train_part, test_part = csv_split(pd.read_csv(dataset["csv"], sep=None, engine="python"))
                det.fit(
                    train_part,
                    label_column=column,
                    normal_label=normal,
                    epochs=epochs,
                    batch_size=32,
                    on_epoch=on_epoch,
                    progress=False,
                )
                table = to_table(test_part, label_column=column, what="test part")
                X = table.x
                labels = [str(v) for v in table.labels] if table.labels is not None else ["(no label)"] * len(X)
                name = "csv"
            else:
                data = ml.datasets.load(dataset)
                train, test = data.canonical_split()
                det.fit(train.normal_only(), epochs=epochs, batch_size=32, on_epoch=on_epoch, progress=False)
                X, _ = test.arrays()
                labels = [str(v) for v in test.named_labels()]
                normal = det.normal_label_ if getattr(det, "normal_label_", None) is not None else data.normal_label
                name = dataset
            scores = det.score(X)
            codes = det.encode(X)
            with self.lock:
                self.detector, self.test_x = det, np.asarray(X, dtype=np.float32)
                self.result = {
                    "dataset": name,
                    "scores": scores.astype(float).tolist(),
                    "labels": labels,
                    "normal": None if normal is None else str(normal),
                    "anomaly": None if normal is None else [lab != str(normal) for lab in labels],
                    "threshold": float(det.threshold),
                    "latent": np.round(codes[:, :2], 4).tolist(),
                }
                self.status = "ready"
        except Exception as e:  # noqa: BLE001 - shown on the page in words
            self.error, self.status = str(e), "error"

    def state(self) -> dict[str, Any]:
        return {"status": self.status, "losses": self.losses, "error": self.error}

    def example(self, row: int) -> dict[str, Any]:
        if self.detector is None or self.test_x is None or not 0 <= row < len(self.test_x):
            raise InputError("Train first, then pick one of the test examples.")
        x = self.test_x[row]
        return {
            "row": row,
            "values": np.round(x, 4).tolist(),
            "reconstruction": np.round(self.detector.reconstruct(x[None])[0], 4).tolist(),
            "score": float(self.detector.score(x[None])[0]),
        }

    def save(self, folder: Path) -> Path:
        if self.detector is None:
            raise InputError("Train the detector first.")
        return self.detector.save(folder)


# -- routes ----------------------------------------------------------------------------------------
def register(app, models_dir: Path) -> None:
    """Add the explore pages' API to the studio ``app``."""
    import asyncio
    import functools

    from playml.web.security import json_body

    state: dict[str, Any] = {}

    def playground() -> Playground:
        if "playground" not in state:
            state["playground"] = Playground()
        return state["playground"]

    body = functools.partial(json_body, allow_empty=True)

    @app.get("/api/playground")
    async def playground_state():
        pg = await asyncio.to_thread(playground)
        out = await asyncio.to_thread(pg.locked_state, True)  # it may be playing in its thread
        out["options"] = {
            "datasets": ["circle", "xor", "gaussian", "spiral"],
            "features": list(FEATURES),
            "activations": list(ACTIVATIONS),
            "regularization": list(REGULARIZATION),
            "max_neurons": MAX_NEURONS,
            "max_layers": MAX_LAYERS,
        }
        return out

    @app.post("/api/playground/reset")
    async def playground_reset(request: Request):
        settings = await body(request)
        pg = await asyncio.to_thread(playground)
        return await asyncio.to_thread(pg.reset, settings)

    @app.post("/api/playground/step")
    async def playground_step(request: Request):
        steps = (await body(request)).get("steps", 1)
        t = time.perf_counter()
        out = await asyncio.to_thread(lambda: playground().step(steps))  # one thread hop per step
        out["ms"] = (time.perf_counter() - t) * 1000
        return out

    @app.post("/api/playground/play")
    async def playground_play(request: Request):
        on = bool((await body(request)).get("on", True))
        pg = await asyncio.to_thread(playground)
        await asyncio.to_thread(pg.play, on)
        if on:
            return {"playing": True}
        out = await asyncio.to_thread(pg.locked_state)
        out["history"] = out["history"][-1:]
        return out

    @app.get("/api/playground/frame")
    async def playground_frame(since: int = -1):
        pg = state.get("playground")
        if pg is None:
            raise InputError("Open the playground first.")
        if pg.frame is None:
            return await asyncio.to_thread(pg.frames, since)
        return pg.frames(since)  # no thread hop: a reference to the latest picture

    @app.post("/api/playground/export")
    async def playground_export(request: Request):
        from playml.web.security import model_path

        folder = model_path(models_dir, (await body(request)).get("name") or "playground-network")
        path = await asyncio.to_thread(playground().export, folder)
        return {"name": path.name, "path": str(path)}

    search = SearchSession()

    @app.get("/api/search")
    async def search_options():
        import playml as ml

        models = {}
        for name in SEARCH_MODELS:
            models[name] = [{"name": lay.name, "size": lay.size} for lay in ml.image_search(model=name).layers()]
        return {
            "sources": SEARCH_SOURCES,
            "models": models,
            "metrics": list(SEARCH_METRICS),
            "maps": list(MAP_METHODS),
            "progress": search.progress,
            "index": search.describe() if search.current else None,
        }

    @app.post("/api/search/build")
    async def search_build(request: Request):
        b = await body(request)
        return await asyncio.to_thread(
            search.build,
            b.get("source", "photos"),
            b.get("model", "efficientnet-lite0"),
            b.get("layer"),
            b.get("metric", "cosine"),
            b.get("folder"),
            64,
            b.get("compare") or None,
        )

    @app.post("/api/search/upload")
    async def search_upload(files: list[UploadFile] = File(...), first: bool = True):  # noqa: B008
        uploads = [(f.filename or "", await f.read()) for f in files]
        return await asyncio.to_thread(search.upload, uploads, first)

    @app.get("/api/search/progress")
    async def search_progress():
        return search.progress

    @app.get("/api/search/query/{row}")
    async def search_query(row: int):
        return search.query(row)

    @app.get("/api/search/map")
    async def search_map(method: str = "pca"):
        return await asyncio.to_thread(search.map, method)

    @app.get("/api/search/sprite.jpg")
    async def search_sprite():
        from fastapi.responses import Response

        data = await asyncio.to_thread(search.sprite)
        if data is None:
            raise InputError("There are too many images for one sheet of thumbnails; ask for each one.")
        return Response(data, media_type="image/jpeg", headers={"cache-control": "private, max-age=600"})

    @app.get("/api/search/thumb/{row}.jpg")
    async def search_thumb(row: int):
        from fastapi.responses import Response

        data = await asyncio.to_thread(search.thumbnail, row)
        return Response(data, media_type="image/jpeg", headers={"cache-control": "private, max-age=600"})

    anomalies = AnomalySession()

    @app.post("/api/anomalies/train", status_code=202)
    async def anomalies_train(request: Request):
        options = await body(request)
        return await asyncio.to_thread(anomalies.start, options)

    @app.post("/api/anomalies/csv")
    async def anomalies_csv(file: UploadFile = File(...)):  # noqa: B008
        data = await file.read()
        return await asyncio.to_thread(anomalies.upload_csv, file.filename or "", data)

    @app.get("/api/anomalies")
    async def anomalies_state():
        return anomalies.state()

    @app.get("/api/anomalies/result")
    async def anomalies_result():
        if anomalies.result is None:
            raise InputError("Train the detector first.")
        return anomalies.result

    @app.get("/api/anomalies/example/{row}")
    async def anomalies_example(row: int):
        return await asyncio.to_thread(anomalies.example, row)

    @app.post("/api/anomalies/save")
    async def anomalies_save(request: Request):
        from playml.web.security import model_path

        folder = model_path(models_dir, (await body(request)).get("name") or "anomaly-detector")
        path = await asyncio.to_thread(anomalies.save, folder)
        return {"name": path.name, "path": str(path)}
