"""ml5.js's friendly ``neuralNetwork``, in Python: teach a small network from your own numbers.

Add examples, train, then classify or predict. The model saves as the three files ml5.js
writes (``model.json``, ``model.weights.bin``, ``model_meta.json``), so a model trained here
runs in an ml5.js sketch, and a model trained in ml5.js loads here.

>>> import playml as ml
>>> nn = ml.neural_network(task="classification", inputs=["r", "g", "b"], outputs=["colour"], seed=0)
>>> for r, g, b, name in [(255, 0, 0, "red"), (230, 30, 20, "red"), (0, 0, 255, "blue"), (20, 30, 220, "blue")]:
...     nn.add_data({"r": r, "g": g, "b": b}, {"colour": name})
>>> nn.normalize_data()
>>> history = nn.train(epochs=50, progress=False)
>>> nn.classify([250, 10, 5])[0].label
'red'
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.ranking import check_top_k, ranked
from playml.core.training import History
from playml.errors import DataError, FormatError, InputError, MissingFileError, TaskError, not_trained
from playml.results import Prediction, Value

__all__ = ["NeuralNetwork", "neural_network", "TASKS", "DEFAULTS", "default_learning_rate"]

TASKS = ("classification", "regression", "imageClassification")
MODEL_FILES = ("model.json", "model.weights.bin", "model_meta.json")

#: Per task: output activation, loss, optimizer, learning rate (``None``: scaled to the inputs,
#: see :func:`default_learning_rate`). ml5.js 1.x uses SGD at 0.2 (classification), Adam at 0.2
#: with a sigmoid output (regression) and SGD at 0.02 (imageClassification). Measured in
#: docs/neural_network.md: SGD at 0.2 stays at chance on 1,280 unnormalised inputs, and a sigmoid
#: output cannot fit y = 2x − 1 (its values stop at the data's min and max), so playml uses Adam
#: and a linear regression output. For images ml5.js's SGD at 0.02 learned best, so it stays.
DEFAULTS: dict[str, dict[str, Any]] = {
    "classification": {
        "activation": "softmax",
        "loss": "categorical_crossentropy",
        "optimizer": "adam",
        "learning_rate": None,
    },
    "regression": {"activation": "linear", "loss": "mse", "optimizer": "adam", "learning_rate": None},
    "imageClassification": {
        "activation": "softmax",
        "loss": "categorical_crossentropy",
        "optimizer": "sgd",
        "learning_rate": 0.02,
    },  # as ml5.js: it beat Adam on photo crops (measured)
}


def default_learning_rate(inputs: int) -> float:
    """Adam's step for a dense network on ``inputs`` numbers: 0.01 up to 100 inputs, then
    0.1/√inputs (0.0028 for 1,280), so wide inputs do not throw the first layer around."""
    return min(0.01, 0.1 / math.sqrt(max(1, inputs)))


_TASK_ALIASES = {
    "classification": "classification",
    "classify": "classification",
    "regression": "regression",
    "imageclassification": "imageClassification",
    "image_classification": "imageClassification",
    "image-classification": "imageClassification",
}


def neural_network(
    task: str | None = None,
    inputs: int | Sequence[str] | Sequence[int] | None = None,
    outputs: int | Sequence[str] | None = None,
    layers: Sequence[Any] | None = None,
    hidden_units: int = 16,
    learning_rate: float | None = None,
    debug: bool = False,
    *,
    optimizer: str | None = None,
    seed: int | None = None,
) -> "NeuralNetwork":
    """A new :class:`NeuralNetwork` (same options as ml5.js's ``ml5.neuralNetwork``).

    ``task``: ``"classification"``, ``"regression"`` or ``"imageClassification"`` (guessed from
    the outputs when left out). ``inputs``/``outputs``: names (``["r", "g", "b"]``) or counts
    (``3``); for ``imageClassification`` inputs are ``[width, height, channels]``.
    ``layers``: your own list of layer dicts as in ml5.js (``{"type": "dense", "units": 32,
    "activation": "relu"}``) or of ``torch.nn`` modules.
    """
    return NeuralNetwork(
        task=task,
        inputs=inputs,
        outputs=outputs,
        layers=layers,
        hidden_units=hidden_units,
        learning_rate=learning_rate,
        debug=debug,
        optimizer=optimizer,
        seed=seed,
    )


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Number) and not isinstance(v, (bool, np.bool_))


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class NeuralNetwork:
    """A small neural network you teach with your own examples (ml5.js's ``neuralNetwork``).

    >>> import playml as ml
    >>> nn = ml.neural_network(task="regression", inputs=["x"], outputs=["y"], seed=0)
    >>> for x in range(-10, 11):
    ...     nn.add_data([x / 10], [2 * x / 10 - 1])
    >>> _ = nn.train(epochs=200, batch_size=8, validation_split=0, progress=False)
    >>> round(nn.predict([0.25])[0].value, 1)
    -0.5

    ``.model`` is the ``torch.nn.Sequential`` underneath (softmax probabilities for
    classification, like TensorFlow.js's ``model.predict``).
    """

    FORMAT_VERSION = 1  #: the saved format (playml's entry in model_meta.json); newer files are refused

    def __init__(
        self,
        task: str | None = None,
        inputs: Any = None,
        outputs: Any = None,
        layers: Sequence[Any] | None = None,
        hidden_units: int = 16,
        learning_rate: float | None = None,
        debug: bool = False,
        optimizer: str | None = None,
        seed: int | None = None,
    ):
        self.task = task
        self.inputs = inputs
        self.outputs = outputs
        self.layers = layers
        self.hidden_units = hidden_units
        self.learning_rate = learning_rate
        self.debug = debug
        self.optimizer = optimizer
        self.seed = seed
        self._xs: list[list[Any]] = []
        self._ys: list[list[Any]] = []
        self._input_names: list[str] | None = None
        self._output_names: list[str] | None = None
        self._normalize = False
        self.meta_: dict[str, Any] | None = None
        self.model_ = None
        self.history_: History | None = None
        self._figure = None

    # ------------------------------------------------------------------ options

    @property
    def task_(self) -> str:
        """The task, with ``task=None`` resolved from the data (text outputs → classification)."""
        if self.task is not None:
            key = str(self.task).replace(" ", "").lower()
            if key not in _TASK_ALIASES:
                from playml.errors import unknown_name

                raise unknown_name("task", self.task, TASKS)
            return _TASK_ALIASES[key]
        if self.meta_ is not None:
            outs = list(self.meta_["outputs"].values())
            return "classification" if outs and outs[0]["dtype"] == "string" else "regression"
        if self._ys:
            return "classification" if isinstance(self._ys[0][0], str) else "regression"
        return "classification"

    @property
    def model(self):
        """The ``torch.nn.Sequential`` network (built by the first :meth:`train`, or by :meth:`load`)."""
        if self.model_ is None:
            raise not_trained(
                "neural network",
                "show its model",
                "Add data and call train(), or open a saved one with ml.load('folder/').",
            )
        return self.model_

    @property
    def input_names(self) -> list[str]:
        return list(self.meta_["inputs"]) if self.meta_ else list(self._input_names or self._declared("inputs") or [])

    @property
    def output_names(self) -> list[str]:
        return (
            list(self.meta_["outputs"]) if self.meta_ else list(self._output_names or self._declared("outputs") or [])
        )

    @property
    def labels(self) -> list[str]:
        """The class labels (classification), in the order of the network's outputs."""
        if self.meta_ is None:
            return list(dict.fromkeys(str(y[0]) for y in self._ys)) if self.task_ != "regression" else []
        entry = next(iter(self.meta_["outputs"].values()))
        return list(entry.get("legend", {})) if entry["dtype"] == "string" else []

    def _declared(self, side: str) -> list[str] | None:
        spec = self.inputs if side == "inputs" else self.outputs
        if side == "inputs" and self.task_ == "imageClassification":
            return None
        if isinstance(spec, (list, tuple)) and spec and all(isinstance(s, str) for s in spec):
            return list(spec)
        return None

    def _declared_count(self, side: str) -> int | None:
        spec = self.inputs if side == "inputs" else self.outputs
        if side == "inputs" and self.task_ == "imageClassification":
            return None
        if isinstance(spec, numbers.Integral):
            return int(spec)
        if isinstance(spec, (list, tuple)) and spec:
            return len(spec)
        return None

    def _image_shape(self) -> tuple[int, int, int]:
        spec = self.inputs
        if not (
            isinstance(spec, (list, tuple))
            and len(spec) in (2, 3)
            and all(isinstance(v, numbers.Integral) for v in spec)
        ):
            raise InputError(
                "For task='imageClassification' give inputs=[width, height, channels], "
                "e.g. inputs=[64, 64, 4] (ml5.js uses 4 channels: red, green, blue, alpha)."
            )
        w, h = int(spec[0]), int(spec[1])
        c = int(spec[2]) if len(spec) == 3 else 4
        if c not in (1, 3, 4):
            raise InputError(f"channels must be 1 (grey), 3 (RGB) or 4 (RGBA), not {c}.")
        return w, h, c

    # ------------------------------------------------------------------ data

    def add_data(self, xs: Any, ys: Any) -> None:
        """Add one example: inputs ``xs`` and outputs ``ys``, each a dict (by name) or a list.

        >>> nn = NeuralNetwork(task="classification", inputs=["r", "g", "b"], outputs=["colour"])
        >>> nn.add_data({"r": 255, "g": 0, "b": 0}, {"colour": "red"})
        >>> nn.add_data([0, 0, 255], ["blue"])
        """
        image = self.task_ == "imageClassification"
        if not isinstance(ys, (Mapping, list, tuple, np.ndarray)):
            ys = [ys]  # a single label or number
        if image and not isinstance(xs, Mapping) and not (isinstance(xs, (list, tuple)) and len(xs) == 1):
            xs = [xs]  # one image
        x_names, x_values = self._names_and_values(xs, "inputs")
        y_names, y_values = self._names_and_values(ys, "outputs")
        if image:
            x_values = [self._image_pixels(v) for v in x_values]
        elif isinstance(xs, np.ndarray) and xs.dtype.kind in "fiu":  # a row of numbers: check it in one go
            if not np.isfinite(xs).all():
                raise DataError("The inputs contain NaN or infinity; inputs must be finite numbers.")
            x_values = xs.tolist()
        else:
            x_values = [self._check_input(name, v) for name, v in zip(x_names, x_values)]
        task = self.task_
        if self.task is None and not self._ys and self.meta_ is None:  # the first example decides
            task = "regression" if y_values and all(_is_number(v) for v in y_values) else "classification"
        if task != "regression":
            y_values = [str(v) if _is_number(v) else v for v in y_values]
            for name, v in zip(y_names, y_values):
                if not isinstance(v, str):
                    raise DataError(f"The output {name!r} should be a label (text) for classification, not {v!r}.")
        else:
            for name, v in zip(y_names, y_values):
                if isinstance(v, str):
                    hint = (
                        " It looks like a number in quotes: pass float(value)."
                        if _looks_numeric(v)
                        else " For labels use task='classification'."
                    )
                    raise DataError(f"The output {name!r} should be a number for regression, not the text {v!r}.{hint}")
                if not _is_number(v):
                    raise DataError(f"The output {name!r} should be a number, not {v!r}.")
        if self._xs:  # every example must look like the first
            for name, v, first in zip(x_names, x_values, self._xs[0]):
                if not image and isinstance(v, str) != isinstance(first, str):
                    raise DataError(
                        f"The input {name!r} is {v!r} here but {first!r} in the first example; "
                        "an input must always be a number, or always text."
                    )
        self._input_names, self._output_names = x_names, y_names
        self._xs.append(x_values)
        self._ys.append(y_values)
        if self.model_ is None:
            self.meta_ = None  # described again (and normalised again, if asked) when training starts

    def _names_and_values(self, data: Any, side: str) -> tuple[list[str], list[Any]]:
        known = (self._input_names if side == "inputs" else self._output_names) or self._declared(side)
        count = self._declared_count(side)
        what = "input" if side == "inputs" else "output"
        if isinstance(data, Mapping):
            names = [str(k) for k in data]
            if known is not None and set(names) != set(known):
                missing = [k for k in known if k not in names]
                extra = [k for k in names if k not in known]
                parts = ([f"missing {', '.join(map(repr, missing))}"] if missing else []) + (
                    [f"unexpected {', '.join(map(repr, extra))}"] if extra else []
                )
                raise DataError(
                    f"This example's {side} have different names from the others ({'; '.join(parts)}). "
                    f"Use the names {', '.join(map(repr, known))}."
                )
            names = list(known) if known is not None else names
            return names, [data[k] for k in names]
        if isinstance(data, np.ndarray):
            data = (
                data.tolist()
                if data.ndim == 1 and data.dtype.kind in "fiub"
                else list(data)
                if data.ndim == 1
                else [data]
            )
        if not isinstance(data, (list, tuple)):
            raise DataError(
                f"Pass the {side} as a list like [1, 2, 3] or a dict like {{'x': 1}}, not {type(data).__name__}."
            )
        values = list(data)
        expected = len(known) if known is not None else count
        if expected is not None and len(values) != expected:
            names = f" ({', '.join(known)})" if known else ""
            raise DataError(
                f"Expected {expected} {what}s{names} but this example has {len(values)}: {values!r:.80}. "
                "Every example needs the same number of values."
            )
        if known is not None:
            names = list(known)
        elif side == "inputs" and self.task_ == "imageClassification" and len(values) == 1:
            names = ["image"]
        else:
            names = [str(i) for i in range(len(values))]  # ml5.js names them "0", "1", …
        return names, values

    def _check_input(self, name: str, v: Any) -> Any:
        if isinstance(v, (np.generic,)):
            v = v.item()
        if isinstance(v, bool):
            return int(v)
        if _is_number(v):
            if not math.isfinite(float(v)):
                raise DataError(f"The input {name!r} is {v}; inputs must be finite numbers.")
            return v
        if isinstance(v, str):
            if _looks_numeric(v):
                raise DataError(f"The input {name!r} is the text {v!r}, not a number. Pass numbers, e.g. float({v!r}).")
            return v  # a category: one-hot encoded, as in ml5.js
        raise DataError(
            f"The input {name!r} should be a number (or a category name), not {type(v).__name__} {v!r:.60}."
        )

    def _image_pixels(self, image: Any) -> np.ndarray:
        """Any image → its pixels resized to width×height, flattened row by row (as ml5.js reads a canvas)."""
        from PIL import Image

        from playml.core.media import load_image

        w, h, c = self._image_shape()
        arr = np.asarray(image) if isinstance(image, np.ndarray) else None
        if arr is not None and arr.ndim == 1 and arr.size == w * h * c:
            return arr.astype(np.float32)  # already flat pixels, e.g. from save_data()
        rgb = load_image(image)
        if rgb.shape[:2] != (h, w):
            rgb = np.asarray(Image.fromarray(rgb).resize((w, h), Image.BILINEAR))
        if c == 4:
            rgb = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=2)
        elif c == 1:
            rgb = np.asarray(Image.fromarray(rgb).convert("L"))[..., None]
        return rgb.reshape(-1).astype(np.float32)

    def normalize_data(self) -> None:
        """Scale every input (and regression output) to 0–1 using its min and max, as ml5.js does.

        An input whose examples are all the same becomes 0 (no division by zero, no NaN).
        """
        if not self._xs:
            raise DataError("There is no data to normalize yet. Add examples with add_data() first.")
        self._normalize = True
        self.meta_ = self._describe()

    def _describe(self) -> dict[str, Any]:
        from playml.formats.ml5 import make_meta

        if not self._xs:
            raise DataError("There is no training data. Add examples with add_data() (or load_data()) first.")
        shape = None
        if self.task_ == "imageClassification":
            w, h, c = self._image_shape()
            shape = [w, h, c]
        meta = make_meta(self._input_names, self._output_names, self._xs, self._ys, input_shape=shape)
        meta["isNormalized"] = self._normalize
        return meta

    def data(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The examples added so far, as ``(inputs, outputs)`` dicts."""
        return [(dict(zip(self._input_names, x)), dict(zip(self._output_names, y))) for x, y in zip(self._xs, self._ys)]

    def save_data(self, path: str | os.PathLike) -> Path:
        """Save the examples as ml5.js's data JSON (``.json``) or as CSV (``.csv``)."""
        import json

        from playml.core.saving import atomic_write
        from playml.formats.ml5 import data_to_csv, data_to_json

        if not self._xs:
            raise DataError("There is no data to save yet. Add examples with add_data() first.")
        path = Path(path)
        if path.suffix.lower() == ".csv":
            text = data_to_csv(self._input_names, self._output_names, self._xs, self._ys)
        else:
            if path.suffix.lower() != ".json":
                path = path.with_name(path.name + ".json")
            text = json.dumps(data_to_json(self._input_names, self._output_names, self._xs, self._ys))
        return atomic_write(path, text)

    def load_data(self, path: str | os.PathLike) -> None:
        """Add the examples from an ml5.js data JSON (``saveData()``) or a CSV file."""
        from playml.core.media import check_not_url
        from playml.core.saving import read_file, read_json
        from playml.formats.ml5 import data_from_csv, data_from_json

        check_not_url(str(path))
        path = Path(path)
        if not path.exists():
            raise MissingFileError(f"There is no data file {str(path)!r}.")
        if path.is_dir():
            raise InputError(f"{str(path)!r} is a folder; give the data file (.json or .csv) inside it.")
        ins, outs = self._declared("inputs"), self._declared("outputs")
        if path.suffix.lower() == ".csv":
            try:
                text = read_file(path, what="data file").decode("utf-8-sig")
            except UnicodeDecodeError:
                raise DataError(f"{str(path)!r} is not a text CSV file (it is not UTF-8).") from None
            rows = data_from_csv(text, ins, outs)
        else:
            rows = data_from_json(read_json(path, "data file"), ins, outs)
        for xs, ys in rows:
            self.add_data(xs, ys)

    # ------------------------------------------------------------------ model

    def _build(self):
        import torch
        from torch import nn

        meta = self.meta_
        task = self.task_
        defaults = DEFAULTS[task]
        in_shape = [int(v) for v in meta["inputUnits"]]
        out_units = int(meta["outputUnits"])
        if self.seed is not None:
            torch.manual_seed(self.seed)
        if self.layers:
            if all(isinstance(m, nn.Module) for m in self.layers):
                model = nn.Sequential(*self.layers)
            else:
                model = _layers_from_specs(self.layers, in_shape, out_units)
        elif task == "imageClassification":
            model = _layers_from_specs(
                [
                    {"type": "conv2d", "filters": 8, "kernelSize": 5, "strides": 1, "activation": "relu"},
                    {"type": "maxPooling2d", "poolSize": [2, 2], "strides": [2, 2]},
                    {"type": "conv2d", "filters": 16, "kernelSize": 5, "strides": 1, "activation": "relu"},
                    {"type": "maxPooling2d", "poolSize": [2, 2], "strides": [2, 2]},
                    {"type": "flatten"},
                    {"type": "dense", "activation": "softmax"},
                ],
                in_shape,
                out_units,
            )
        else:
            model = _layers_from_specs(
                [
                    {"type": "dense", "units": int(self.hidden_units), "activation": "relu"},
                    {"type": "dense", "activation": defaults["activation"]},
                ],
                in_shape,
                out_units,
            )
        model.eval()
        return model

    def summary(self) -> str:
        """A table of the layers: name, activation, output shape, weights (ml5's debug model summary)."""
        import torch

        from playml.formats.tfjs import KERAS_NAMES as names
        from playml.formats.tfjs import ChannelsFirst, _activation_name

        shape = [int(v) for v in self.meta_["inputUnits"]] if self.meta_ else [self.model[0].in_features]
        x = torch.zeros(1, *shape)
        rows: list[list[str]] = []
        with torch.no_grad():
            for m in self.model:
                x = m(x)
                if isinstance(m, ChannelsFirst):
                    continue
                act = _activation_name(m) if not list(m.parameters()) else None
                if act is not None and rows and rows[-1][1] == "linear" and rows[-1][0] in ("Dense", "Conv2D"):
                    rows[-1][1] = act
                    continue
                if act is not None and rows and rows[-1][0] in ("Dense", "Conv2D"):
                    continue
                n = sum(p.numel() for p in m.parameters())
                kind = names.get(type(m).__name__, "Activation" if act else type(m).__name__)
                dims = x.shape[1:] if x.dim() != 4 else (x.shape[2], x.shape[3], x.shape[1])  # TF.js: H×W×C
                rows.append([kind, act or ("linear" if n else ""), "x".join(map(str, dims)), str(n)])
        rows.insert(0, ["layer", "activation", "output", "weights"])
        width = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, width)).rstrip() for r in rows]
        lines.insert(1, "-" * max(len(line) for line in lines))
        lines.append(f"total weights: {sum(int(r[3]) for r in rows[1:]):,}")
        from playml.results import Text

        return Text("\n".join(lines))

    def train(
        self,
        epochs: int = 32,
        batch_size: int = 32,
        validation_split: float = 0.1,
        *,
        learning_rate: float | None = None,
        on_epoch: Callable[[int, dict], Any] | None = None,
        progress: bool = True,
        shuffle: bool = True,
        l1: float = 0.0,
        l2: float = 0.0,
    ) -> History:
        """Train on the examples added so far and return the :class:`~playml.core.training.History`.

        Defaults follow ml5.js (batch 32, 10 % held out to validate) except ``epochs`` (32,
        ml5.js: 10). ``on_epoch(epoch, logs)`` is called after each epoch; return ``False`` to
        stop. Training again continues from the current weights. ``l1``/``l2`` add weight
        penalties (the TensorFlow Playground's regularisation).
        """
        import torch

        from playml.core.training import fit
        from playml.formats.ml5 import encode_inputs, encode_outputs

        if not self._xs:
            raise DataError("There is no training data. Add examples with add_data() (or load_data()) first.")
        if self.meta_ is None or self.model_ is None:
            self.meta_ = self._describe()
        task = self.task_
        if self.model_ is None:
            self.model_ = self._build()
            if self.debug:
                print(self.summary())
        defaults = DEFAULTS[task]
        lr = (
            learning_rate
            if learning_rate is not None
            else (
                self.learning_rate
                if self.learning_rate is not None
                else (defaults["learning_rate"] or default_learning_rate(int(np.prod(self.meta_["inputUnits"]))))
            )
        )
        x = torch.from_numpy(encode_inputs(self.meta_, self._xs))
        y = encode_outputs(self.meta_, self._ys)
        model = self.model_
        if task == "regression":
            target, loss, train_model = torch.from_numpy(y), "mse", model
        else:
            target = torch.from_numpy(y.argmax(1))
            if _is_softmax(model[-1]):
                loss, train_model = "categorical_crossentropy", model[:-1]  # the slice shares the layers: logits
            else:
                loss, train_model = _probability_crossentropy, model
        callback = on_epoch
        if self.debug:
            callback = self._debug_callback(on_epoch)
        fresh = self.history_ is None or not len(self.history_)
        try:
            history = fit(
                train_model,
                x,
                target,
                loss=loss,
                epochs=epochs,
                batch_size=batch_size,
                learning_rate=lr,
                optimizer=self.optimizer or defaults["optimizer"],
                validation_split=validation_split,
                shuffle=shuffle,
                on_epoch=callback,
                progress=progress,
                seed=self.seed,
                l1=l1,
                l2=l2,
                metrics=("accuracy",) if task != "regression" else (),
                description="neural_network",
            )
        except DataError:
            if fresh:  # a model that never trained well is not kept (it would save and answer nonsense)
                self.model_ = None
            raise
        if hasattr(callback, "finish"):
            callback.finish()
        model.eval()
        if self.history_ is not None and len(self.history_):
            for k, v in history.metrics.items():
                self.history_.metrics.setdefault(k, []).extend(v)
        else:
            self.history_ = history
        return history

    def _debug_callback(self, on_epoch):
        """Redraw the loss/accuracy chart after every epoch (in a notebook; elsewhere it is kept in ``.figure``)."""
        display_handle = None
        try:
            from IPython import get_ipython
            from IPython.display import display

            in_notebook = get_ipython() is not None and "IPKernelApp" in get_ipython().config
        except Exception:  # noqa: BLE001 - IPython absent or not a kernel
            in_notebook, display = False, None
        live = History()

        import time

        last = [0.0]

        def draw(final: bool = False) -> None:
            nonlocal display_handle
            self._figure = live.plot(title="neural_network training")
            if in_notebook:
                if display_handle is None:
                    display_handle = display(self._figure, display_id=True)
                else:
                    display_handle.update(self._figure)
            last[0] = time.perf_counter()

        def callback(epoch, logs):
            live.append(logs)
            if epoch == 1 or time.perf_counter() - last[0] >= 0.5:  # at most 2 redraws a second
                draw()
            return on_epoch(epoch, logs) if on_epoch is not None else None

        callback.finish = lambda: draw(final=True)  # the last epoch, whenever training ends
        return callback

    @property
    def figure(self):
        """The training chart (loss and accuracy per epoch) of the last :meth:`train`."""
        if self.history_ is None:
            raise not_trained(
                "neural network",
                "draw its training chart",
                "Add data and call train(), or open a saved one with ml.load('folder/').",
            )
        return self._figure if self._figure is not None else self.history_.plot(title="neural_network training")

    # ------------------------------------------------------------------ using it

    def _numeric_rows(self, inputs: Sequence[Any]) -> np.ndarray | None:
        """All inputs as one float64 matrix when every input is a number and every example a plain
        row of finite numbers in order (an array or list): checked at once, not value by value.
        ``None`` otherwise, and the per-value path gives the precise message."""
        entries = self.meta_["inputs"]
        if self.task_ == "imageClassification" or not all(e["dtype"] == "number" for e in entries.values()):
            return None
        if not isinstance(inputs, np.ndarray):
            if any(isinstance(item, (Mapping, str)) for item in inputs):
                return None
            try:
                inputs = np.asarray(inputs)
            except (TypeError, ValueError):
                return None
        if inputs.dtype.kind not in "fiub" or inputs.ndim != 2 or inputs.shape[1] != len(entries):
            return None
        rows = inputs.astype(np.float64, copy=False)
        return rows if np.isfinite(rows).all() else None

    def _rows(self, inputs: Sequence[Any]) -> np.ndarray:
        from playml.formats.ml5 import encode_inputs

        if self.model_ is None or self.meta_ is None:
            raise not_trained(
                "neural network", "answer", "Add data and call train(), or open a saved one with ml.load('folder/')."
            )
        fast = self._numeric_rows(inputs)
        if fast is not None:
            return encode_inputs(self.meta_, fast)
        names = self.input_names
        image = self.task_ == "imageClassification" or next(iter(self.meta_["inputs"].values()))["dtype"] == "array"
        rows = []
        for item in inputs:
            if image:
                if isinstance(item, Mapping):
                    item = item[names[0]] if names[0] in item else next(iter(item.values()))
                elif isinstance(item, (list, tuple)) and len(item) == 1:
                    item = item[0]
                rows.append([self._image_pixels(item)])
                continue
            if isinstance(item, Mapping):
                missing = [n for n in names if n not in item]
                if missing:
                    raise DataError(
                        f"The input has no {', '.join(map(repr, missing))}; the network needs "
                        f"{', '.join(map(repr, names))}."
                    )
                values = [item[n] for n in names]
            else:
                values = list(np.asarray(item).tolist() if isinstance(item, np.ndarray) else item)
                if len(values) != len(names):
                    raise DataError(
                        f"The network takes {len(names)} inputs ({', '.join(names)}) but got "
                        f"{len(values)}: {values!r:.80}."
                    )
            rows.append([self._check_input(n, v) for n, v in zip(names, values)])
        return encode_inputs(self.meta_, rows)

    def _forward(self, inputs: Sequence[Any]) -> np.ndarray:
        import torch

        from playml.core.training import forward_of

        x = torch.from_numpy(self._rows(inputs))
        self.model_.eval()
        try:
            return forward_of(self.model_)(x).numpy().astype(np.float64)
        except RuntimeError as e:  # layers whose sizes do not fit together (a damaged or hand-edited model.json)
            raise FormatError(
                f"The network's layers do not fit together ({str(e)[:120]}). Was model.json edited or damaged?"
            ) from None

    def _single(self, value: Any) -> bool:
        """True if ``value`` is one example (not a list of examples)."""
        if isinstance(value, Mapping) or isinstance(value, str):
            return True
        if self.task_ == "imageClassification":  # one image: a path, a PIL image, an array
            return not isinstance(value, (list, tuple))
        if isinstance(value, np.ndarray):
            return value.ndim == 1
        return isinstance(value, (list, tuple)) and not any(
            isinstance(v, (list, tuple, Mapping, np.ndarray)) for v in value
        )

    def classify(self, inputs: Any, *, top_k: int | None = None) -> list[Prediction] | list[list[Prediction]]:
        """The labels for one example, most likely first: ``[Prediction(label, confidence), …]``.

        A list of examples gives one such list per example (as :meth:`classify_multiple`).
        """
        if self.task_ == "regression":
            raise TaskError("This network does regression (it predicts numbers); use predict() instead of classify().")
        if not self._single(inputs):
            return self.classify_multiple(inputs, top_k=top_k)
        return self.classify_multiple([inputs], top_k=top_k)[0]

    def classify_multiple(self, inputs: Sequence[Any], *, top_k: int | None = None) -> list[list[Prediction]]:
        """:meth:`classify` for many examples at once (ml5.js's name; ``classify`` takes a list too)."""
        if self.task_ == "regression":
            raise TaskError("This network does regression (it predicts numbers); use predict_multiple().")
        k = check_top_k(top_k)
        return ranked(self._forward(list(inputs)), self.labels, k)

    def predict(self, inputs: Any) -> list[Value] | list[list[Value]]:
        """The predicted numbers for one example: ``[Value(label=output name, value), …]``.

        A list of examples gives one such list per example (as :meth:`predict_multiple`).
        """
        if self.task_ != "regression":
            raise TaskError("This network classifies (it predicts labels); use classify() instead of predict().")
        if not self._single(inputs):
            return self.predict_multiple(inputs)
        return self.predict_multiple([inputs])[0]

    def predict_multiple(self, inputs: Sequence[Any]) -> list[list[Value]]:
        """:meth:`predict` for many examples at once."""
        from playml.formats.ml5 import decode_outputs

        if self.task_ != "regression":
            raise TaskError("This network classifies (it predicts labels); use classify_multiple().")
        return [
            [Value(label=k, value=v) for k, v in row.items()]
            for row in decode_outputs(self.meta_, self._forward(list(inputs)))
        ]

    # ------------------------------------------------------------------ files

    def save(self, path: str | os.PathLike = "model") -> Path:
        """Save ``model.json``, ``model.weights.bin`` and ``model_meta.json`` into the directory ``path``.

        ml5.js loads it with ``nn.load("path/model.json")``; playml with ``ml.load("path")``.
        """
        import json

        from playml.core.saving import save_directory
        from playml.formats.ml5 import dumps_meta
        from playml.formats.tfjs import to_tfjs

        if self.model_ is None or self.meta_ is None:
            raise not_trained(
                "neural network", "be saved", "Add data and call train(), or open a saved one with ml.load('folder/')."
            )
        shape = self.meta_["inputUnits"]
        model_json, weights = to_tfjs(self.model_, input_shape=shape if len(shape) == 3 else None)
        meta = dict(self.meta_)
        meta["playml"] = {"kind": "neural_network", "version": self.FORMAT_VERSION, "task": self.task_}
        return save_directory(
            path,
            {
                "model.json": json.dumps(model_json),
                "model.weights.bin": weights,
                "model_meta.json": json.loads(dumps_meta(meta)),
            },
        )

    def load(self, path: str | os.PathLike) -> "NeuralNetwork":
        """Load a model saved by playml or by ml5.js (a directory, or the path of its ``model.json``)."""
        from playml.core.media import check_not_url
        from playml.core.saving import ModelFolder, read_consistently
        from playml.formats.ml5 import check_meta
        from playml.formats.tfjs import from_tfjs, read_tfjs

        if not isinstance(path, ModelFolder):
            if not isinstance(path, (str, os.PathLike)):
                raise FormatError(f"load takes a folder path, not {type(path).__name__}.")
            check_not_url(str(path))
            path = Path(path)
            if path.is_file() and path.suffix == ".json":
                path = path.parent
            if not path.exists():
                raise MissingFileError(
                    f"There is no model at {str(path)!r}. A saved model is a folder with {', '.join(MODEL_FILES)}."
                )
            return read_consistently(path, self.load)
        missing = [name for name in MODEL_FILES if not path.exists(name)]
        if missing:
            raise MissingFileError(
                f"The model folder {str(path)!r} is missing {', '.join(missing)}. A saved model needs "
                f"all three files: {', '.join(MODEL_FILES)} (ml5.js's save() downloads them "
                "separately; put them in one folder)."
            )
        meta = check_meta(path.read_json("model_meta.json", "model description"), str(path / "model_meta.json"))
        model_json, weights = read_tfjs(path)
        model = from_tfjs(model_json, weights)
        from playml.formats.tfjs import input_shape

        if list(input_shape(model_json)) != [int(v) for v in meta["inputUnits"]]:
            raise FormatError(
                f"model.json takes inputs of shape {list(input_shape(model_json))} but model_meta.json "
                f"describes {meta['inputUnits']}; the files come from different models."
            )
        n_out = _output_units(model_json)
        if n_out is not None and n_out != int(meta["outputUnits"]):
            raise FormatError(
                f"model.json has {n_out} outputs but model_meta.json describes {meta['outputUnits']}; "
                "the files come from different models."
            )
        info = meta.get("playml") if isinstance(meta.get("playml"), dict) else {}
        meta = {k: v for k, v in meta.items() if k != "playml"}
        self.meta_, self.model_ = meta, model
        self._input_names, self._output_names = list(meta["inputs"]), list(meta["outputs"])
        self._normalize = bool(meta.get("isNormalized"))
        self._xs, self._ys = [], []
        task = info.get("task")
        if task is None:  # a plain ml5.js save: images have [width, height, channels] inputs
            task = (
                "imageClassification"
                if len(meta["inputUnits"]) == 3
                else ("classification" if next(iter(meta["outputs"].values()))["dtype"] == "string" else "regression")
            )
        self.task = task
        if self.task_ == "imageClassification" and self.inputs is None:
            self.inputs = [int(v) for v in meta["inputUnits"]]
        self.history_ = None
        return self

    @classmethod
    def _from_directory(cls, path: str | os.PathLike, meta: dict[str, Any] | None = None) -> "NeuralNetwork":
        return cls().load(path)

    # ------------------------------------------------------------------ display

    def __repr__(self) -> str:
        parts = [f"task={self.task_!r}"]
        if self.task_ == "imageClassification" and self.inputs is not None:
            parts.append(f"inputs={list(self.inputs)!r}")
        elif self.input_names:
            names = self.input_names
            parts.append(f"inputs={names!r}" if len(names) <= 6 else f"inputs={len(names)}")
        if self.output_names:
            parts.append(f"outputs={self.output_names!r}")
        if self.task_ != "regression" and self.labels:
            parts.append(f"labels={len(self.labels)}")
        if self._xs:
            parts.append(f"examples={len(self._xs)}")
        parts.append(f"trained={self.model_ is not None}")
        return f"NeuralNetwork({', '.join(parts)})"


# ---------------------------------------------------------------------- helpers


def _is_softmax(module) -> bool:
    from torch import nn

    return isinstance(module, nn.Softmax)


def _probability_crossentropy(probs, target):
    """Cross-entropy on probabilities (for custom layers whose last activation is not softmax)."""
    import torch

    p = probs / probs.sum(dim=1, keepdim=True).clamp_min(1e-7)
    return -torch.log(p.gather(1, target[:, None]).clamp(1e-7, 1.0)).mean()


def _output_units(model_json: dict) -> int | None:
    try:
        layers = model_json["modelTopology"].get("model_config", model_json["modelTopology"])["config"]["layers"]
        for layer in reversed(layers):
            if "units" in layer["config"]:
                return int(layer["config"]["units"])
    except (KeyError, TypeError):
        return None
    return None


def _glorot_(module) -> None:
    """TF.js's default initialisation (what ml5.js trains from): Glorot-uniform kernels, zero biases."""
    from torch import nn

    nn.init.xavier_uniform_(module.weight)
    if module.bias is not None:
        nn.init.zeros_(module.bias)


def _check_fits(i: int, kind: str, what: str, size: tuple, shape: list[int]) -> None:
    """Refuse a window larger than the feature map it slides over (the images are too small)."""
    if shape[0] < size[0] or shape[1] < size[1]:
        raise InputError(
            f"Layer {i + 1} of the network ({kind}) has a {size[0]}×{size[1]} {what} but its input is only "
            f"{shape[0]}×{shape[1]}: the images are too small for these layers. Give bigger images "
            "(inputs=[width, height, channels], e.g. [64, 64, 4]) or fewer or smaller layers."
        )


def _layers_from_specs(specs: Sequence[Mapping[str, Any]], in_shape: list[int], out_units: int):
    """ml5.js-style layer dicts → ``nn.Sequential`` (the first layer's input and the last layer's units
    are filled in from the data, as ml5.js does)."""
    from torch import nn

    from playml.formats.tfjs import ChannelsFirst, ChannelsLastFlatten, _activation_module

    if not specs:
        raise InputError("layers is empty. Leave it out to use the default network, or list at least two layers.")
    mods: list = []
    shape = list(in_shape)
    if len(shape) == 3:
        mods.append(ChannelsFirst())
    for i, raw in enumerate(specs):
        if not isinstance(raw, Mapping) or "type" not in raw:
            raise InputError(f"layers[{i}] should be a dict with a 'type', like {{'type': 'dense', 'units': 16}}.")
        spec = {_snake(k): v for k, v in raw.items()}
        kind = str(spec["type"]).lower().replace("_", "")
        last = i == len(specs) - 1
        if kind == "dense":
            units = int(spec.get("units") or (out_units if last else 0))
            if units < 1:
                raise InputError(f"layers[{i}] (dense) needs 'units'.")
            if len(shape) != 1:
                raise InputError(
                    f"layers[{i}] (dense) gets {'x'.join(map(str, shape))} values per example; add "
                    "{'type': 'flatten'} before it."
                )
            lin = nn.Linear(shape[0], units, bias=spec.get("use_bias", True))
            _glorot_(lin)
            mods.append(lin)
            shape = [units]
        elif kind == "conv2d":
            if len(shape) != 3:
                raise InputError(f"layers[{i}] (conv2d) needs image inputs [width, height, channels].")
            k = spec.get("kernel_size", 3)
            k = (int(k), int(k)) if isinstance(k, numbers.Number) else tuple(int(v) for v in k)
            s = spec.get("strides", 1)
            s = (int(s), int(s)) if isinstance(s, numbers.Number) else tuple(int(v) for v in s)
            padding = spec.get("padding", "valid")
            if padding == "valid":
                _check_fits(i, "conv2d", "kernel", k, shape)
            conv = nn.Conv2d(
                shape[2],
                int(spec.get("filters", 8)),
                k,
                stride=s,
                padding=0 if padding == "valid" else padding,
                bias=spec.get("use_bias", True),
            )
            nn.init.kaiming_normal_(conv.weight, nonlinearity="linear")  # TF.js varianceScaling: fan_in, scale 1
            nn.init.zeros_(conv.bias)
            mods.append(conv)
            if padding == "valid":
                shape = [(shape[0] - k[0]) // s[0] + 1, (shape[1] - k[1]) // s[1] + 1, conv.out_channels]
            else:
                shape = [shape[0], shape[1], conv.out_channels]
        elif kind in ("maxpooling2d", "averagepooling2d"):
            p = spec.get("pool_size", 2)
            p = (int(p), int(p)) if isinstance(p, numbers.Number) else tuple(int(v) for v in p)
            s = spec.get("strides") or p
            s = (int(s), int(s)) if isinstance(s, numbers.Number) else tuple(int(v) for v in s)
            _check_fits(i, kind, "pool", p, shape)
            mods.append((nn.MaxPool2d if kind.startswith("max") else nn.AvgPool2d)(p, s))
            shape = [(shape[0] - p[0]) // s[0] + 1, (shape[1] - p[1]) // s[1] + 1, shape[2]]
        elif kind == "flatten":
            mods.append(ChannelsLastFlatten() if len(shape) == 3 else nn.Flatten())
            shape = [int(np.prod(shape))]
        elif kind == "dropout":
            mods.append(nn.Dropout(float(spec.get("rate", 0.5))))
        elif kind == "activation":
            pass
        else:
            raise InputError(
                f"layers[{i}] has type {spec['type']!r}; playml knows dense, conv2d, maxPooling2d, "
                "averagePooling2d, flatten, dropout and activation."
            )
        try:
            act = _activation_module(spec.get("activation", "linear"))
        except FormatError as e:
            raise InputError(str(e)) from None
        if act is not None:
            mods.append(act)
    return nn.Sequential(*mods)


def _snake(key: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in str(key))
    return {"kernel_size": "kernel_size", "input_shape": "input_shape"}.get(out, out)
