"""The studio's explore pages on the server: the neural-network playground and image search.

>>> from playml.web.explore import Playground
>>> pg = Playground()
>>> state = pg.reset({"dataset": "xor", "features": ["x1", "x2"], "hidden": [4, 2]})
>>> sorted(state)[:3]
['dataset', 'epoch', 'features']

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
from fastapi import Request

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
        s = self.settings
        with self.lock:
            self._model()
            t = time.perf_counter()
            l1 = float(s["regularization_rate"]) if s["regularization"] == "L1" else 0.0
            l2 = float(s["regularization_rate"]) if s["regularization"] == "L2" else 0.0
            self.network.train(
                epochs=steps,
                batch_size=s["batch_size"],
                validation_split=0.0,
                learning_rate=float(s["learning_rate"]),
                progress=False,
                l1=l1,
                l2=l2,
            )
            train_ms = (time.perf_counter() - t) * 1000
            self.epoch += steps
            state = self.state()
            state["history"] = state["history"][-1:]  # the page keeps the rest
            state["train_ms"] = train_ms
            return state

    def state(self, points: bool = False) -> dict[str, Any]:
        """The losses, the boundary (probability of blue on the lattice, 0–255) and each neuron's picture."""
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # a tiny network: one thread is ~40× faster than two on a busy machine
        try:
            return self._state(points)
        finally:
            torch.set_num_threads(threads)

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
}
SEARCH_MODELS = ("efficientnet-lite0", "mobilenet-v2", "efficientnet-lite1", "efficientnet-lite2")
SEARCH_METRICS = ("cosine", "euclidean", "sqeuclidean", "dot")


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

    def build(
        self, source: str, model: str, layer: str | None, metric: str, folder: str | None = None, chunk: int = 64
    ) -> dict[str, Any]:
        import playml as ml
        from playml.core.vector_index import check_metric

        check_metric(metric)
        index = ml.image_search(model=model, layer=layer or None, metric="cosine")  # checks model and layer
        key = (source if source != "folder" else f"folder:{folder}", index.model_name, index._layer)
        with self.lock:
            if key not in self.built:
                items, labels = self.items(source, folder)
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
            self.key, self.metric, self.version = key, metric, getattr(self, "version", 0) + 1
            base, items = self.built[key]
            view = base if metric == base.metric else base.with_metric(metric)
            self.current = (view, items)
            self.progress = {
                **self.progress,
                "state": "ready",
                "done": len(items),
                "total": len(items),
                "message": f"{len(items)} images ready.",
            }
            threading.Thread(target=self.warm, name="playml-search-thumbnails", daemon=True).start()
            return self.describe()

    def index(self):
        if self.current is None:
            raise InputError("Build an index first (choose the images, a model and a layer).")
        return self.current[0]

    def describe(self) -> dict[str, Any]:
        index = self.index()
        return {
            "images": len(index),
            "version": self.version,
            "model": index.model_name,
            "layer": index._layer,
            "metric": index.metric,
            "labels": [lab or "" for lab in index.labels_],
        }

    def query(self, row: int, top_k: int = 15) -> dict[str, Any]:
        from playml.images.search import search_score

        index = self.index()
        if not isinstance(row, int) or not 0 <= row < len(index):
            raise InputError(f"row goes from 0 to {len(index) - 1} (got {row!r}).")
        t = time.perf_counter()
        matches = index.query_vector(index.vectors_[row], top_k=top_k)
        ms = (time.perf_counter() - t) * 1000
        rows = [index._pos[m.path] if m.path in index._pos else index.paths_.index(m.path) for m in matches]
        label = index.labels_[row]
        others = [m for m, r in zip(matches, rows) if r != row]
        score = search_score([m.label == label for m in others]) if label else None
        import base64

        # thumbnails inline (made ahead by warm()), so the results draw after one round trip
        return {
            "row": row,
            "label": label,
            "ms": ms,
            "score": score,
            "matches": [
                {
                    "row": r,
                    "path": m.path,
                    "label": m.label,
                    "distance": m.distance,
                    "score": m.score,
                    "thumb": "data:image/jpeg;base64," + base64.b64encode(self.thumbnail(r)).decode(),
                }
                for m, r in zip(matches, rows)
            ],
        }

    def map(self) -> dict[str, Any]:
        index = self.index()
        rows, xy = index.map_2d("pca", sample=2000)
        return {"rows": rows.tolist(), "xy": np.round(xy, 4).tolist(), "labels": [index.labels_[i] or "" for i in rows]}

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
ANOMALY_DATASETS = ("ecg5000", "ecg200")


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

    def start(self, options: dict[str, Any]) -> dict[str, Any]:
        import playml as ml

        dataset = options.get("dataset", "ecg5000")
        if dataset not in ANOMALY_DATASETS:
            from playml.errors import unknown_name

            raise unknown_name("data set", dataset, ANOMALY_DATASETS)
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

    def _train(self, det, dataset: str, epochs: int) -> None:
        import playml as ml

        try:
            data = ml.datasets.load(dataset)
            train, test = data.canonical_split()

            def on_epoch(epoch, logs):
                self.losses.append(float(logs["loss"]))

            det.fit(train.normal_only(), epochs=epochs, batch_size=32, on_epoch=on_epoch, progress=False)
            X, _ = test.arrays()
            labels = [str(v) for v in test.named_labels()]
            normal = det.normal_label_ if getattr(det, "normal_label_", None) is not None else data.normal_label
            scores = det.score(X)
            codes = det.encode(X)
            with self.lock:
                self.detector, self.test_x = det, np.asarray(X, dtype=np.float32)
                self.result = {
                    "dataset": dataset,
                    "scores": scores.astype(float).tolist(),
                    "labels": labels,
                    "normal": str(normal),
                    "anomaly": [lab != str(normal) for lab in labels],
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

    from playml.web.security import BadRequest

    state: dict[str, Any] = {}

    def playground() -> Playground:
        if "playground" not in state:
            state["playground"] = Playground()
        return state["playground"]

    async def body(request: Request) -> dict[str, Any]:
        if not await request.body():
            return {}
        try:
            data = await request.json()
        except ValueError:
            raise BadRequest("The request body must be JSON.") from None
        if not isinstance(data, dict):
            raise BadRequest("The request body must be a JSON object.")
        return data

    @app.get("/api/playground")
    async def playground_state():
        pg = await asyncio.to_thread(playground)
        out = await asyncio.to_thread(pg.state, True)
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
        )

    @app.get("/api/search/progress")
    async def search_progress():
        return search.progress

    @app.get("/api/search/query/{row}")
    async def search_query(row: int):
        return search.query(row)

    @app.get("/api/search/map")
    async def search_map():
        return await asyncio.to_thread(search.map)

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
