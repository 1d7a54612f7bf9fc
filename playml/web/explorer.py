"""The studio's Explorer page on the server: look inside a model (after tfjs-vis).

The work is :class:`playml.ModelExplorer`'s; this module turns its answers into what the page
draws: the summary table, a PNG grid of a layer's channels (each channel scaled to its own
minimum … maximum, the numbers sent along so the page can say what a grey level means), the
histograms and the Grad-CAM overlay. For a table model (an ml5.js neural network, a TF.js model
with a flat input) the page sends one row instead of an image and gets every layer's numbers,
the answer and the inputs' gradient × input (:meth:`ExplorerSession.row`).

>>> from playml.web.explorer import ExplorerSession
>>> session = ExplorerSession()
>>> session.open({"model": "mobilenet-v2"})["layers"][0]["name"]    # doctest: +SKIP
'stem'

:func:`register` adds ``/api/explorer/*`` to the studio's app. Work runs in worker threads
under one lock, so a slow model never blocks the server.
"""

from __future__ import annotations

import base64
import io
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import File, Request, UploadFile

from playml.errors import InputError

__all__ = ["ExplorerSession", "channel_grid", "register", "MAX_CHANNELS", "BINS"]

#: At most this many channels are drawn in the grid (the first ones, in the layer's order).
MAX_CHANNELS = 256
#: Models kept open (the most recently used), so switching back is instant.
KEEP_MODELS = 4
#: Bars of each histogram.
BINS = 40
#: The heat-map overlay is sent at most this many pixels on a side (the image's own size if smaller).
OVERLAY_SIDE = 640
_UPLOAD = File(...)  # FastAPI's marker for an uploaded file
#: The saved models the page lists: image models, and table models (one row of numbers in).
KINDS = ("image_classification", "teachable-machine", "tfjs-layers", "neural_network", "ml5", "anomaly_detector")


def _png(array: np.ndarray) -> str:
    """A uint8 array (H×W grey, H×W×3 or H×W×4) as a ``data:`` URL of a PNG."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def channel_grid(act: np.ndarray, max_channels: int = MAX_CHANNELS) -> dict[str, Any]:
    """A layer's activations (C×H×W, or C for a flat layer) as one grey grid image.

    Channel ``c`` is the tile at column ``c % cols``, row ``c // cols``, ``tile`` pixels apart
    (a 1-pixel gap); grey level ``g`` of channel ``c`` means ``mins[c] + g / 255 ·
    (maxs[c] − mins[c])``.
    """
    a = np.asarray(act, np.float32)
    if a.ndim == 1:
        a = a[:, None, None]
    elif a.ndim != 3:
        a = a.reshape(a.shape[0], 1, -1)
    channels = int(a.shape[0])
    shown = a[: max(1, int(max_channels))]
    n, h, w = shown.shape
    cols = max(1, math.ceil(math.sqrt(n * h / w)))
    if h == 1 and w == 1:  # a flat layer: a wider strip of cells
        cols = max(1, math.ceil(math.sqrt(n * 2)))
    rows = math.ceil(n / cols)
    lo = shown.reshape(n, -1).min(axis=1)
    hi = shown.reshape(n, -1).max(axis=1)
    span = np.where(hi > lo, hi - lo, 1.0)
    grey = np.clip(np.round((shown - lo[:, None, None]) / span[:, None, None] * 255), 0, 255).astype(np.uint8)
    image = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), 255, np.uint8)
    for c in range(n):
        r, q = divmod(c, cols)
        image[r * (h + 1) : r * (h + 1) + h, q * (w + 1) : q * (w + 1) + w] = grey[c]
    return {
        "channels": channels,
        "shown": n,
        "height": h,
        "width": w,
        "cols": cols,
        "rows": rows,
        "mins": lo.tolist(),
        "maxs": hi.tolist(),
        "means": shown.reshape(n, -1).mean(axis=1).tolist(),
        "png": _png(image),
    }


def _histogram(d) -> dict[str, Any]:
    return {
        "counts": d.counts.tolist(),
        "edges": d.edges.tolist(),
        "mean": d.mean,
        "std": d.std,
        "min": d.min,
        "max": d.max,
        "size": d.size,
    }


class ExplorerSession:
    """The model open in the Explorer page, the image being looked at, and the answers."""

    def __init__(self, models_dir: str | Path = "playml-models") -> None:
        self.models_dir = Path(models_dir)
        self.lock = threading.Lock()
        self.explorers: dict[str, Any] = {}  # open models, kept so switching back is instant
        self.key: str | None = None
        self.image: np.ndarray | None = None
        self.source = ""
        self.values: dict[str, Any] | None = None  # a table model's row, by input name

    # -- choosing a model -------------------------------------------------------------------------
    def choices(self) -> dict[str, Any]:
        """The bundled backbones and the models saved in the models folder (image and table models)."""
        from playml.core.saving import META_FILE, detect, read_json
        from playml.zoo import backbone_names

        saved = []
        if self.models_dir.is_dir():
            for folder in sorted(self.models_dir.iterdir()):
                if not folder.is_dir() or folder.name.startswith("."):
                    continue
                try:
                    found = detect(folder)
                    if found == "playml":  # only the image classifiers and neural networks playml teaches
                        found = read_json(folder / META_FILE, "model description")["playml"].get("kind")
                except Exception:  # noqa: BLE001 - an unreadable folder is just not listed
                    continue
                if found in KINDS:
                    saved.append({"id": f"saved:{folder.name}", "title": f"{folder.name} (saved, {found})"})
        return {
            "backbones": [{"id": name, "title": f"{name} (bundled ImageNet classifier)"} for name in backbone_names()],
            "saved": saved,
            "models_dir": str(self.models_dir.resolve()),
            "open": self.key,
        }

    def _resolve(self, spec: dict[str, Any]) -> tuple[str, Any]:
        from playml.zoo import backbone_names

        model = spec.get("model")
        path = spec.get("path")
        if path:
            folder = Path(os.path.expanduser(str(path).strip()))
            if not folder.is_dir():
                raise InputError(f"There is no folder at {folder}. Type the path of a model's folder.")
            return f"path:{folder.resolve()}", str(folder.resolve())
        if not isinstance(model, str) or not model:
            raise InputError("Choose a model.")
        if model.startswith("saved:"):
            from playml.web.security import model_path

            return model, str(model_path(self.models_dir, model[len("saved:") :]))
        if model not in backbone_names():
            from playml.errors import unknown_name

            raise unknown_name("model", model, backbone_names())
        return model, model

    def open(self, spec: dict[str, Any]) -> dict[str, Any]:
        import playml as ml

        key, target = self._resolve(spec)
        with self.lock:
            if key not in self.explorers:
                ex = ml.model_explorer(target)
                ex.summary()  # loads and describes the network (fails here, not later)
                self.explorers[key] = ex
            self.explorers[key] = self.explorers.pop(key)  # most recently used last
            while len(self.explorers) > KEEP_MODELS:
                del self.explorers[next(iter(self.explorers))]
            self.key = key
            return self.describe()

    def explorer(self):
        if self.key is None:
            raise InputError("Open a model first.")
        return self.explorers[self.key]

    def describe(self) -> dict[str, Any]:
        ex = self.explorer()
        rows = [
            {"name": r.name, "type": r.type, "shape": list(r.shape), "parameters": r.parameters} for r in ex.summary()
        ]
        return {
            "key": self.key,
            "title": ex.title,
            "kind": ex.kind,
            "layers": rows,
            "parameters": ex.parameters,
            "input_size": ex.input_size,
            "labels": len(ex.labels),
            "classifier": ex.is_classifier,
            "default_layer": ex.default_layer,
            "cam_layer": ex.cam_layer,
            "table": ex.is_table,
            "inputs": ex.inputs if ex.is_table else [],
            "label_names": ex.labels if ex.is_table else [],
        }

    # -- the image ------------------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray, source: str) -> dict[str, Any]:
        with self.lock:
            self.image, self.source = rgb, source
        return {"width": int(rgb.shape[1]), "height": int(rgb.shape[0]), "source": source}

    def _need_image(self) -> np.ndarray:
        if self.image is None:
            raise InputError("Choose an image first (upload one or take a webcam frame).")
        return self.image

    # -- the views ------------------------------------------------------------------------------------
    def row(self, values: Any, name: str | None = None) -> dict[str, Any]:
        """A table model's view of one row: every layer's numbers, the answer, the inputs' gradient ×
        input, and the histograms of the chosen layer's weights and activations."""
        from playml.images.explain import histogram

        with self.lock:
            ex = self.explorer()
            if not ex.is_table:
                raise InputError(f"{ex.title} takes images, not a row of numbers: choose an image.")
            if values is None:
                if self.values is None:
                    raise InputError("Enter the model's inputs first.")
                values = self.values
            if not isinstance(values, (dict, list)):
                raise InputError("The row must be an object by input name, or a list of values in order.")
            layer = ex.check_layer(name)
            t = time.perf_counter()
            acts = ex.all_activations(values)  # checks the row (a friendly error names a bad input)
            ms_model = (time.perf_counter() - t) * 1000
            fields = [f["name"] for f in ex.inputs]
            self.values = dict(zip(fields, ex.network.row_values(values)))
            outputs = ex.outputs(values)
            att = ex.attribution(values)
            weights = ex.weights(layer)
            return {
                "row": self.values,
                "encoded": ex.preprocess(values).tolist(),
                "layers": [{"name": k, "values": v.ravel().tolist()} for k, v in acts.items()],
                "layer": layer,
                "classifier": ex.is_classifier,
                "outputs": [
                    {"label": o.label, "value": float(getattr(o, "confidence", getattr(o, "value", 0.0)))}
                    for o in outputs
                ],
                "attribution": {
                    "label": att.label,
                    "score": att.score,
                    "inputs": att.inputs,
                    "values": att.values.tolist(),
                },
                "activations": _histogram(histogram(acts[layer], layer, "activations", BINS)),
                "weights": _histogram(histogram(weights, layer, "weights", BINS)) if weights.size else None,
                "model_ms": ms_model,
                "ms": (time.perf_counter() - t) * 1000,
            }

    def layer(self, name: str | None, max_channels: int = MAX_CHANNELS) -> dict[str, Any]:
        """The activation grid and both histograms of one layer, for the current image."""
        from playml.images.explain import histogram

        with self.lock:
            ex = self.explorer()
            if ex.is_table:
                raise InputError(f"{ex.title} takes a row of numbers, not an image: enter its inputs.")
            image = self._need_image()
            layer = ex.check_layer(name)
            t = time.perf_counter()
            act = ex.activations(image, layer)
            ms_model = (time.perf_counter() - t) * 1000
            out = {"layer": layer, "shape": list(act.shape), "model_ms": ms_model}
            out["grid"] = channel_grid(act, max_channels)
            out["activations"] = _histogram(histogram(act, layer, "activations", BINS))
            weights = ex.weights(layer)
            out["weights"] = _histogram(histogram(weights, layer, "weights", BINS)) if weights.size else None
            out["ms"] = (time.perf_counter() - t) * 1000
            return out

    def grad_cam(self, label: Any = None) -> dict[str, Any]:
        from playml.images.explain import heat_colours

        with self.lock:
            ex = self.explorer()
            image = self._need_image()
            t = time.perf_counter()
            cam = ex.grad_cam(image, label=label)
            heat = cam.heatmap
            h, w = heat.shape
            if max(h, w) > OVERLAY_SIDE:  # the page scales it to the image anyway: keep the PNG small
                from PIL import Image

                f = OVERLAY_SIDE / max(h, w)
                size = (max(1, round(w * f)), max(1, round(h * f)))
                heat = np.asarray(Image.fromarray(heat, mode="F").resize(size, Image.Resampling.BILINEAR))
            rgba = np.concatenate(
                [heat_colours(heat), (np.sqrt(heat) * 0.65 * 255).round().astype(np.uint8)[..., None]], axis=-1
            )
            x, y = cam.peak()
            return {
                "label": cam.label,
                "confidence": cam.confidence,
                "layer": cam.layer,
                "box": list(cam.box),
                "peak": [x, y],
                "width": int(w),
                "height": int(h),
                "cam": cam.cam.round(4).tolist(),
                "png": _png(rgba),
                "ms": (time.perf_counter() - t) * 1000,
            }


def register(app, models_dir: Path) -> None:
    """Add the Explorer page's API (``/api/explorer/*``) to the studio ``app``."""
    import asyncio
    import functools

    from playml.web.security import BadRequest, decode_image, json_body

    session = ExplorerSession(models_dir)
    app.state.explorer = session

    body = functools.partial(json_body, allow_empty=True)

    @app.get("/api/explorer")
    async def explorer_choices():
        out = await asyncio.to_thread(session.choices)
        if session.key is not None:
            out["model"] = session.describe()
        return out

    @app.post("/api/explorer/open")
    async def explorer_open(request: Request):
        return await asyncio.to_thread(session.open, await body(request))

    @app.post("/api/explorer/image")
    async def explorer_image(file: UploadFile = _UPLOAD, source: str = "upload"):
        if source not in ("upload", "webcam"):
            raise BadRequest("source must be 'upload' or 'webcam'.")
        rgb = await asyncio.to_thread(decode_image, await file.read())
        return session.set_image(rgb, source)

    @app.post("/api/explorer/layer")
    async def explorer_layer(request: Request):
        data = await body(request)
        limit = data.get("max_channels", MAX_CHANNELS)
        if not isinstance(limit, int) or not 1 <= limit <= 4096:
            raise BadRequest("max_channels goes from 1 to 4096.")
        return await asyncio.to_thread(session.layer, data.get("layer"), limit)

    @app.post("/api/explorer/row")
    async def explorer_row(request: Request):
        data = await body(request)
        layer = data.get("layer")
        if layer is not None and not isinstance(layer, str):
            raise BadRequest("layer must be a layer's name.")
        return await asyncio.to_thread(session.row, data.get("row"), layer)

    @app.post("/api/explorer/gradcam")
    async def explorer_gradcam(request: Request):
        return await asyncio.to_thread(session.grad_cam, (await body(request)).get("label"))
