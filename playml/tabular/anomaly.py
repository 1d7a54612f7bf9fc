"""Anomaly detection with an autoencoder: learn what "normal" looks like, flag what is not.

An autoencoder squeezes each example through a small bottleneck and rebuilds it. Trained
on normal examples only, it rebuilds normal ones well and unusual ones badly, so the
*reconstruction error* (mean squared difference between an example and its rebuild) is an
anomaly score. Examples whose error is at or above a threshold are called anomalies.
This is what Anomagram teaches in the browser; here it works on any numeric data: tables,
sequences (heartbeats, sensor windows), image features.

>>> import playml as ml
>>> train, test = ml.datasets.load("ecg5000").canonical_split()
>>> det = ml.anomaly_detector(hidden=[15, 7], latent=2, seed=0)
>>> det.fit(train.normal_only(), epochs=100, batch_size=32, progress=False)  # doctest: +ELLIPSIS
AnomalyDetector(layers=140→15→7→2→7→15→140, threshold=..., trained=True)
>>> report = det.evaluate(test)              # 'normal' is normal, every other label an anomaly
>>> report.roc_auc > 0.95
True

Defaults start from Anomagram's published ones (hidden layers 7 and 3, mean squared error,
Adam with learning rate 0.01, no regularisation) and change what does not carry over from
one ECG data set to any table: inputs are standardised (Anomagram: min-max scaled with a
sigmoid output), training has a budget of steps with early stopping (Anomagram: a number of
epochs of batch 512), the hidden layers use ELU (Anomagram: ReLU, whose units can die and
leave a 3-unit layer unable to learn a table; see ``bench/anomaly.py --quality``), and the
bottleneck size is chosen from the data (Anomagram: 2): the fewest directions that explain
95 % of the variance of the standardised training data, at most the narrowest hidden
layer (``det.latent_``). Anomagram's Adam uses beta1=0.5; playml's shared training loop
uses the usual 0.9.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.evaluation import AnomalyReport
from playml.core.threads import torch_threads
from playml.core.training import History
from playml.datasets.tables import Table, check_finite, to_table, truth_mask
from playml.errors import DataError, FormatError, InputError, ShapeError, not_trained
from playml.results import to_builtin

__all__ = ["AnomalyDetector", "AnomalyReport", "anomaly_detector", "SCALINGS", "ACTIVATIONS", "LATENT_VARIANCE"]

#: How inputs are scaled before the autoencoder sees them (fitted on the training data).
SCALINGS = ("minmax", "standard", "none")
#: Hidden-layer activations.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "gelu", "linear")  # all saved as TF.js activations
#: With ``latent="auto"``: the bottleneck gets the fewest directions (principal components of
#: the standardised training data) that explain this share of its variance.
LATENT_VARIANCE = 0.95
_MAX_SAVED_ERRORS = 10_001


# --------------------------------------------------------------------------- the detector
def torch_float32(x: np.ndarray) -> Any:
    """``x`` as a contiguous float32 tensor (shares its memory when it already is one)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def _activation(name: str):
    import torch.nn as nn

    table = {
        "relu": nn.ReLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "elu": nn.ELU,
        "gelu": nn.GELU,
        "linear": nn.Identity,
    }
    return table[name]()


_PROGRAM_VALUES = 2**20  # score through preallocated buffers up to this many values per layer


def _build_autoencoder(n_features: int, hidden: Sequence[int], latent: int, activation: str, output_activation: str):
    """encoder: n → hidden… → latent (linear); decoder: latent → reversed hidden… → n."""
    import torch.nn as nn

    def stack(sizes: list[int], last: str) -> nn.Sequential:
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            act = activation if i < len(sizes) - 2 else last
            if act != "linear":
                layers.append(_activation(act))
        return nn.Sequential(*layers)

    sizes = [n_features, *hidden, latent]
    return nn.Sequential(stack(sizes, "linear"), stack(sizes[::-1], output_activation))


DEFAULT_STEPS = 3000  # optimiser steps when fit() is given no epochs (stops earlier when it stops improving)


def _early_stopping(model, on_epoch, patience: int, best: dict):
    """An ``on_epoch`` that stops when ``val_loss`` has not improved (by 0.1 %) for ``patience``
    epochs and keeps a copy of the best weights in ``best["state"]``."""
    best.update(loss=math.inf, epoch=0, state=None)

    def callback(epoch: int, logs: dict[str, float]):
        if on_epoch is not None and on_epoch(epoch, logs) is False:
            return False
        loss = logs.get("val_loss")
        if loss is None:
            return None
        if loss < best["loss"] * 0.999:
            best.update(loss=loss, epoch=epoch, state={k: v.detach().clone() for k, v in model.state_dict().items()})
        elif epoch - best["epoch"] >= patience:
            return False
        return None

    return callback


class AnomalyDetector:
    """An autoencoder that learns normal examples and scores everything else by reconstruction error.

    >>> import numpy as np, playml as ml
    >>> rng = np.random.default_rng(0)
    >>> normal = rng.normal(size=(500, 2)) @ [[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]   # 3 numbers on a plane
    >>> det = ml.anomaly_detector(hidden=[8], latent=2, seed=0).fit(normal, epochs=200, batch_size=64, progress=False)
    >>> det.is_anomaly([[1.0, 2.0, 1.0], [3.0, -3.0, 3.0]]).tolist()     # on the plane / far off it
    [False, True]

    Parameters (all stored as given; checked when :meth:`fit` runs):

    - ``hidden``: sizes of the encoder's hidden layers (the decoder mirrors them);
    - ``latent``: size of the bottleneck (2 lets :meth:`plot_latent` draw it directly), or
      ``"auto"`` (the default): chosen when training starts, the fewest principal components
      of the standardised training data that explain 95 % of its variance
      (:data:`LATENT_VARIANCE`), at least 1 and at most the narrowest hidden layer; the size
      used is ``latent_``. A bottleneck wider than the data's structure also rebuilds rows
      that break it (a sign-flipped value on a table of rank 1), so it sees nothing;
    - ``activation``: hidden-layer activation, one of :data:`ACTIVATIONS` (``"elu"`` by
      default: unlike ReLU its units cannot die, which on narrow layers stops learning);
    - ``output_activation``: ``"auto"`` is a sigmoid for ``scaling="minmax"`` (outputs in 0–1,
      as in Anomagram) and linear otherwise;
    - ``scaling``: ``"standard"`` (mean 0, std 1; the default), ``"minmax"`` (each feature
      to 0–1, as Anomagram) or ``"none"``; fitted on the training data and saved with the model;
    - ``optimizer`` (``"adam"``, ``"rmsprop"``, ``"sgd"``, ``"adamw"``), ``learning_rate``,
      ``momentum`` (SGD and RMSprop), ``l1``/``l2`` weight penalties;
    - ``threshold_percentile``: after training, the threshold is this percentile of the
      training errors (95: about 1 in 20 normal examples is flagged). Set ``threshold``
      yourself, or pick one on labelled data with :meth:`choose_threshold`;
    - ``seed``: a number makes training repeatable.

    Learned attributes: ``model_`` (a ``torch.nn.Sequential(encoder, decoder)``, also
    ``.model``), ``latent_`` (the bottleneck size used) and ``latent_variance_`` (the share of
    the standardised training data's variance that many principal components explain),
    ``threshold_``, ``history_``, ``n_features_``, ``train_errors_``, ``feature_names_``,
    ``normal_label_``.
    """

    FORMAT_VERSION = 1  #: the saved format; files in a newer format are refused by ml.load

    def __init__(
        self,
        hidden: Sequence[int] = (7, 3),
        latent: int | str = "auto",
        *,
        activation: str = "elu",
        output_activation: str = "auto",
        scaling: str = "standard",
        optimizer: str = "adam",
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        l1: float = 0.0,
        l2: float = 0.0,
        threshold_percentile: float = 95.0,
        seed: int | None = None,
    ) -> None:
        self.hidden = hidden
        self.latent = latent
        self.activation = activation
        self.output_activation = output_activation
        self.scaling = scaling
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.l1 = l1
        self.l2 = l2
        self.threshold_percentile = threshold_percentile
        self.seed = seed

    # ------------------------------------------------------------------ state
    @property
    def trained(self) -> bool:
        return getattr(self, "model_", None) is not None

    def _require_trained(self, doing: str) -> None:
        if not self.trained:
            raise not_trained(
                "anomaly detector",
                doing,
                "Call det.train(normal_examples) first, or open a saved one with ml.load('folder/').",
            )

    @property
    def model(self):
        """The autoencoder as a ``torch.nn.Sequential(encoder, decoder)`` (after training)."""
        self._require_trained("show its model")
        return self.model_

    @property
    def encoder(self):
        """The first half: inputs (scaled) → bottleneck."""
        return self.model[0]

    @property
    def decoder(self):
        """The second half: bottleneck → rebuilt inputs (scaled)."""
        return self.model[1]

    @property
    def layers(self) -> list[int]:
        """Layer sizes from input to output, e.g. ``[140, 7, 3, 2, 3, 7, 140]``."""
        self._require_trained("list its layers")
        return self._layer_sizes(self.n_features_)

    def _layer_sizes(self, n_features: int, latent: int | None = None) -> list[int]:
        sizes = [n_features, *self._hidden(), int(self.latent_ if latent is None else latent)]
        return sizes + sizes[-2::-1]

    @property
    def threshold(self) -> float:
        """Errors at or above this value count as anomalies. Settable: ``det.threshold = 0.05``."""
        self._require_trained("give a threshold")
        return self.threshold_

    @threshold.setter
    def threshold(self, value: float) -> None:
        self._require_trained("take a threshold")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InputError(f"The threshold must be a number (got {value!r}).") from None
        if not np.isfinite(value) or value < 0:
            raise InputError(f"The threshold must be a number of at least 0 (got {value}); errors are never negative.")
        self.threshold_ = value

    def __repr__(self) -> str:
        if not self.trained:
            return f"AnomalyDetector(hidden={list(self._shown_hidden())}, latent={self.latent!r}, trained=False)"
        chosen = ""
        if self.latent == "auto":
            share = getattr(self, "latent_variance_", None)
            chosen = f", latent_={self.latent_} (auto" + (f": {share:.1%} of the variance)" if share else ")")
        return (
            f"AnomalyDetector(layers={'→'.join(map(str, self.layers))}{chosen}, "
            f"threshold={self.threshold_:.4g}, trained=True)"
        )

    def _shown_hidden(self) -> list[Any]:
        return [self.hidden] if isinstance(self.hidden, (int, np.integer)) else list(self.hidden)

    # ------------------------------------------------------------- parameters
    def _hidden(self) -> list[int]:
        hidden = [self.hidden] if isinstance(self.hidden, (int, np.integer)) else list(self.hidden)
        if any(int(h) != h or h < 1 for h in hidden):
            raise InputError(f"hidden must list whole numbers of at least 1, e.g. [7, 3] (got {self.hidden}).")
        return [int(h) for h in hidden]

    def _output_activation(self) -> str:
        if self.output_activation == "auto":
            return "sigmoid" if self.scaling == "minmax" else "linear"
        return self.output_activation

    def _check_params(self) -> None:
        from playml.core.training import OPTIMIZERS

        self._hidden()
        if self.latent != "auto" and (
            isinstance(self.latent, (str, bool))
            or not isinstance(self.latent, (int, float, np.integer, np.floating))
            or int(self.latent) != self.latent
            or self.latent < 1
        ):
            raise InputError(f"latent must be 'auto' or a whole number of at least 1, e.g. 2 (got {self.latent!r}).")
        for name, value, allowed in (
            ("activation", self.activation, ACTIVATIONS),
            ("output_activation", self._output_activation(), ACTIVATIONS),
            ("scaling", self.scaling, SCALINGS),
            ("optimizer", self.optimizer, OPTIMIZERS),
        ):
            if value not in allowed:
                close = difflib.get_close_matches(str(value), allowed, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise InputError(f"Unknown {name} {value!r}.{hint} Use one of: {', '.join(allowed)}.")
        if not 0 < float(self.threshold_percentile) <= 100:
            raise InputError(f"threshold_percentile must be above 0 and at most 100 (got {self.threshold_percentile}).")
        for name in ("l1", "l2", "momentum"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be 0 or more (got {getattr(self, name)}).")

    # ---------------------------------------------------------------- scaling
    def _fit_scaler(self, x: np.ndarray) -> None:
        if self.scaling == "minmax":
            offset, span = x.min(axis=0), x.max(axis=0) - x.min(axis=0)
        elif self.scaling == "standard":
            offset, span = x.mean(axis=0), x.std(axis=0)
        else:
            offset, span = np.zeros(x.shape[1]), np.ones(x.shape[1])
        span = np.where(span > 0, span, 1.0)  # a constant feature stays at 0 instead of dividing by 0
        self.scale_offset_ = offset.astype(np.float32)
        self.scale_span_ = span.astype(np.float32)

    def _scale(self, x: Any, out: Any = None) -> Any:
        """The float32 tensor ``x`` scaled, ``(x - scale_offset_) / scale_span_``: the one scaling
        training, the threshold and scoring share. A subtraction then a division, each rounded
        exactly, so a row's numbers never depend on where it sits in the table (a fused
        multiply-add is rounded once in vector lanes and twice in the tail: measured, scores
        changed with the order of the rows)."""
        import torch

        out = torch.sub(x, torch.from_numpy(self.scale_offset_), out=out)
        return out.div_(torch.from_numpy(self.scale_span_))

    def _prepare(
        self,
        data: Any,
        what: str,
        *,
        label_column: str | None = None,
        y: Any = None,
        check_values: bool = True,
        scale: bool = True,
    ) -> tuple[Table, np.ndarray | None]:
        """Read ``data``, check it against the trained model and scale it.

        ``check_values=False`` leaves the check for missing/infinite values to the caller
        (scoring finds them in the errors: a non-finite value always gives a non-finite error).
        """
        table = to_table(data, label_column=label_column, y=y, what=what, split="test")
        if check_values:
            check_finite(table.x, what)
        elif table.x.shape[0] == 0 or table.x.shape[1] == 0:
            check_finite(table.x, what)
        if table.x.shape[1] != self.n_features_:
            raise ShapeError(
                f"This detector was trained on examples of {self.n_features_} numbers, but the "
                f"{what} has {table.x.shape[1]} per example. Pass data with the same columns "
                "(in the same order) as the training data."
            )
        if not scale:
            return table, None
        return table, self._scale(torch_float32(table.x)).numpy()

    # --------------------------------------------------------------- training
    def train(self, data: Any, y: Any = None, **options: Any) -> History:
        """Learn what normal examples look like; returns the :class:`playml.History` of the training.

        Takes the same arguments as :meth:`fit` (which returns the detector itself, as in
        scikit-learn, so ``ml.anomaly_detector().fit(normal)`` chains).
        """
        return self.fit(data, y, **options).history_

    def fit(
        self,
        data: Any,
        y: Any = None,
        *,
        normal_label: Any = None,
        label_column: str | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        validation_split: float | None = None,
        steps: int = DEFAULT_STEPS,
        patience: int | None = None,
        on_epoch: Callable[[int, dict[str, float]], Any] | None = None,
        progress: bool = True,
    ) -> AnomalyDetector:
        """Learn what normal examples look like. Returns the detector itself.

        ``data`` is a NumPy array (one row per example), a pandas DataFrame, a CSV path, a
        playml data set or a bundled data set's name (its published training part). Give
        normal examples only; or give labelled data plus ``normal_label`` to train on the rows
        with that label. ``y`` (labels per row) and ``label_column`` name labels explicitly.

        How long it trains, by default, suits small and large tables alike: a budget of
        ``steps`` optimiser steps (batches of ``batch_size``: by default about 1/20 of the
        rows, 16–256), and 10 % of the normal rows held out (``validation_split``) to stop
        early when their error has not improved for ``patience`` epochs; the weights of the
        best epoch are kept. Pass ``epochs`` to train exactly that many epochs instead
        (then ``validation_split`` defaults to 0, as in Anomagram).
        """
        import torch

        from playml.core.training import fit as train_loop

        self._check_params()
        table = to_table(data, label_column=label_column, y=y, what="training data", split="train")
        check_finite(table.x, "training data")
        x = table.x
        if table.labels is not None:
            present = sorted(set(table.labels.tolist()))
            if normal_label is not None:
                x = x[~truth_mask(table.labels, normal_label, "training data")]
            elif len(present) > 1:
                hint = (
                    f" This data set calls {table.normal_label!r} normal: pass normal_label={table.normal_label!r}."
                    if table.normal_label
                    else ""
                )
                raise InputError(
                    f"The training data has labels ({', '.join(present[:6])}{' …' if len(present) > 6 else ''}), "
                    "but an anomaly detector learns from normal examples only. Pass normal_label=… (--normal-label "
                    f"on the command line) to train on the rows with that label, or pass only normal examples.{hint}"
                )
        elif normal_label is not None:
            raise InputError(
                "normal_label was given, but the training data has no labels. Pass labelled data "
                "(a label column, y=…, or a data set), or leave normal_label out."
            )
        if len(x) < 2:
            raise DataError(
                f"Only {len(x)} normal example(s) to learn from; an anomaly detector needs many "
                "(dozens at least, hundreds is better)."
            )

        self.n_features_ = int(x.shape[1])
        self.feature_names_ = table.columns
        self.normal_label_ = None if normal_label is None else str(normal_label)
        self._fit_scaler(x)
        xs = self._scale(torch_float32(x))
        self.model_ = None  # a failed fit leaves an untrained detector, not a half-trained one
        latent, share = self._choose_latent(x)
        if self.seed is not None:
            torch.manual_seed(self.seed)
        model = _build_autoencoder(self.n_features_, self._hidden(), latent, self.activation, self._output_activation())
        n = len(xs)
        if batch_size is None:
            batch_size = int(min(256, max(16, n // 20)))
        budget = epochs is None
        if validation_split is None:
            validation_split = 0.1 if budget and n >= 50 else 0.0
        callback = on_epoch
        best: dict[str, Any] = {}
        if budget:
            steps_per_epoch = math.ceil(n * (1 - validation_split) / batch_size)
            epochs = int(min(max(math.ceil(int(steps) / steps_per_epoch), 10), 5000))
            wait = int(patience) if patience is not None else max(10, epochs // 10)
            if validation_split > 0:
                callback = _early_stopping(model, on_epoch, wait, best)
        history = train_loop(
            model,
            xs,
            xs,
            loss="mse",
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=self.learning_rate,
            optimizer=self.optimizer,
            momentum=self.momentum,
            l1=self.l1,
            l2=self.l2,
            validation_split=validation_split,
            on_epoch=callback,
            progress=progress,
            seed=self.seed,
            description="learning normal",
        )
        if best.get("state") is not None:
            model.load_state_dict(best["state"])
            history.best_epoch = best["epoch"]
        self.model_ = model
        self.latent_, self.latent_variance_ = latent, share
        self.history_ = history
        # the raw rows through the path score() takes: score(training rows) gives exactly these numbers
        self.train_errors_ = self._errors(x, scaled=False)
        self.threshold_ = float(np.percentile(self.train_errors_, self.threshold_percentile))
        return self

    def _choose_latent(self, x: np.ndarray) -> tuple[int, float]:
        """The bottleneck size (``latent``, or chosen from ``x`` with ``"auto"``) and the share of
        the standardised data's variance that many principal components explain."""
        n, d = x.shape
        z = x - x.mean(axis=0)
        std = z.std(axis=0)
        z = z[:, std > 0] / std[std > 0]  # standardised; constant columns carry no variance
        if len(z) > 20_000:  # the directions of 20,000 rows are those of the table
            z = z[np.random.default_rng(0).choice(len(z), 20_000, replace=False)]
        total = float(z.shape[1] * len(z))  # every standardised column has variance 1
        hidden = self._hidden()
        cap = max(1, min([*hidden, d - 1])) if self.latent == "auto" else int(self.latent)
        if z.shape[1] == 0:
            return (1 if self.latent == "auto" else cap), 1.0
        if z.shape[1] <= 512:
            top = np.sort(np.linalg.eigvalsh(z.T.astype(np.float64) @ z))[::-1]
        else:  # only the first `cap` directions matter: a randomized SVD finds them quickly
            from sklearn.utils.extmath import randomized_svd

            _, s, _ = randomized_svd(z.astype(np.float64), n_components=min(cap, z.shape[1]), random_state=0)
            top = s**2
        shares = np.cumsum(np.clip(top, 0, None)) / total
        if self.latent != "auto":
            return cap, float(min(1.0, shares[min(cap, len(shares)) - 1]))
        k = int(np.searchsorted(shares, LATENT_VARIANCE - 1e-9) + 1)
        k = max(1, min(k, cap, len(shares)))
        return k, float(min(1.0, shares[k - 1]))

    # ---------------------------------------------------------------- scoring
    def _errors(self, xs: np.ndarray, *, scaled: bool = True) -> np.ndarray:
        """Reconstruction errors of the rows of ``xs`` (already scaled, or raw with ``scaled=False``:
        then scaled here chunk by chunk, the same float32 arithmetic without NumPy temporaries)."""
        import torch

        from playml.core.training import DenseForward, forward_of

        forward = forward_of(self.model_)  # plain dense stacks: a few matrix products, no module calls
        dense = isinstance(forward, DenseForward)
        n = len(xs)
        out = np.empty(n, dtype=np.float64)
        macs = forward.macs if dense else sum(p.numel() for p in self.model_.parameters())
        threads = torch.get_num_threads()
        one = threads > 1 and macs * min(n, 65536) < 2e7  # tiny products gain nothing from more threads
        with torch_threads(1 if one else threads):
            for start in range(0, n, 65536):
                chunk = torch_float32(xs[start : start + 65536])
                if (
                    dense
                    and not scaled
                    and len(chunk) * self.n_features_ <= _PROGRAM_VALUES
                    and self._program_errors(forward, chunk, out[start : start + len(chunk)])
                ):
                    continue
                if not scaled:
                    chunk = self._scale(chunk)
                rebuilt = forward(chunk)
                in_place = dense and rebuilt.is_contiguous()  # a fresh tensor, rows in order for the mean
                diff = rebuilt if in_place else torch.empty_like(chunk)
                torch.sub(rebuilt, chunk, out=diff)
                out[start : start + len(chunk)] = diff.square_().mean(dim=1).numpy()
        return out

    def _program_errors(self, forward: Any, chunk: Any, out: np.ndarray) -> bool:
        """The errors of the raw rows ``chunk`` through the forward pass kept for this many rows
        (buffers allocated once; the same operations as the general path, so the same numbers).
        ``False`` the first time this many rows are scored (a one-off call is cheaper without
        buffers kept) or when another thread is using those buffers."""
        from functools import partial

        import torch

        prog = forward.program(len(chunk))
        if prog is None or not prog.lock.acquire(blocking=False):
            return False
        try:
            tail = prog.extra.get("errors")
            if tail is None:
                diff, err = torch.empty(prog.x.shape), torch.empty(prog.rows)
                tail = prog.extra["errors"] = [
                    partial(torch.sub, prog.out, prog.x, out=diff),
                    diff.square_,
                    partial(torch.mean, diff, 1, out=err),
                    err.numpy,
                ]
            self._scale(chunk, out=prog.x)
            prog.run()
            for call in tail:
                result = call()
            out[:] = result
        finally:
            prog.lock.release()
        return True

    def score(self, data: Any, *, label_column: str | None = None) -> np.ndarray:
        """Reconstruction error of every example (mean squared error on the scaled values).

        Higher means less like the training data. Returns a NumPy array, one number per example.
        """
        self._require_trained("score examples")
        if (  # a float32 table of the right width: nothing to read or convert (the common fast case)
            type(data) is np.ndarray
            and data.dtype == np.float32
            and data.ndim == 2
            and data.shape[0]
            and data.shape[1] == self.n_features_
            and label_column is None
        ):
            x = data
        else:
            x = self._prepare(data, "data", label_column=label_column, check_values=False, scale=False)[0].x
        errors = self._errors(x, scaled=False)
        if not np.isfinite(errors).all():
            check_finite(x, "data")  # names the rows with missing or infinite values
        return errors

    def is_anomaly(self, data: Any, *, label_column: str | None = None) -> np.ndarray:
        """``True`` for every example whose error is at or above :attr:`threshold`."""
        return self.score(data, label_column=label_column) >= self.threshold

    def encode(self, data: Any, *, label_column: str | None = None) -> np.ndarray:
        """The bottleneck values (``latent`` numbers) of every example."""
        import torch

        self._require_trained("encode examples")
        _, xs = self._prepare(data, "data", label_column=label_column)
        with torch.inference_mode():
            return self.encoder(torch.from_numpy(np.ascontiguousarray(xs))).numpy()

    def reconstruct(self, data: Any, *, label_column: str | None = None) -> np.ndarray:
        """The autoencoder's rebuild of every example, in the units of the input."""
        import torch

        self._require_trained("rebuild examples")
        _, xs = self._prepare(data, "data", label_column=label_column)
        with torch.inference_mode():
            out = self.model_(torch.from_numpy(np.ascontiguousarray(xs))).numpy()
        return out * self.scale_span_ + self.scale_offset_

    # -------------------------------------------------------------- thresholds
    def set_threshold(self, value: float | None = None, *, percentile: float | None = None) -> AnomalyDetector:
        """Set the threshold to a value, or to a percentile (0–100) of the training errors. Returns self.

        ``percentile=99`` flags about 1 in 100 training examples; higher means fewer alarms.
        """
        self._require_trained("take a threshold")
        if (value is None) == (percentile is None):
            raise InputError(
                "Give either a value (set_threshold(0.05)) or a percentile (set_threshold(percentile=99))."
            )
        if percentile is not None:
            if not 0 <= float(percentile) <= 100:
                raise InputError(f"percentile must be between 0 and 100 (got {percentile}).")
            value = float(np.percentile(self.train_errors_, percentile))
        self.threshold = value
        return self

    def _labelled(
        self, data: Any, is_anomaly: Any, normal_label: Any, label_column: str | None, what: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores and true anomaly flags of labelled data."""
        table, xs = self._prepare(data, what, label_column=label_column)
        if is_anomaly is not None:
            truth = np.asarray(is_anomaly)
            if truth.shape != (len(xs),):
                raise ShapeError(
                    f"is_anomaly needs one True/False per example: {len(xs)} examples but {truth.size} values."
                )
            if truth.dtype != bool and not np.isin(truth, (0, 1)).all():
                raise InputError(
                    "is_anomaly must hold True/False (or 1/0) for each example. To use class "
                    "labels, pass normal_label=… and labelled data instead."
                )
            truth = truth.astype(bool)
        else:
            normal = (
                normal_label
                if normal_label is not None
                else (getattr(self, "normal_label_", None) or table.normal_label)
            )
            if table.labels is None or normal is None:
                raise InputError(
                    f"To judge the detector, say which examples of the {what} are anomalies: pass "
                    "is_anomaly=[True, False, …], or labelled data with normal_label=…."
                )
            truth = truth_mask(table.labels, normal, what)
        return self._errors(xs), truth

    def choose_threshold(
        self,
        data: Any,
        is_anomaly: Any = None,
        *,
        method: str = "f1",
        target_fpr: float = 0.05,
        normal_label: Any = None,
        label_column: str | None = None,
    ) -> float:
        """Pick the threshold on labelled validation data, set it, and return it.

        ``method="f1"`` takes the best F1 score (balance of precision and recall);
        ``method="fpr"`` flags as many anomalies as possible while wrongly flagging at most
        ``target_fpr`` of the normal examples; ``method="accuracy"`` takes the most correct
        answers (what Anomagram shows). Do not pick it on the data you report results on.
        """
        from sklearn.metrics import precision_recall_curve, roc_curve

        self._require_trained("choose a threshold")
        if method not in ("f1", "fpr", "accuracy"):
            raise InputError(f"method must be 'f1', 'fpr' or 'accuracy' (got {method!r}).")
        scores, truth = self._labelled(data, is_anomaly, normal_label, label_column, "validation data")
        if truth.all() or not truth.any():
            raise DataError(
                "Choosing a threshold needs validation examples of both kinds, normal and anomalous; "
                f"these are all {'anomalies' if truth.all() else 'normal'}."
            )
        if method == "f1":
            precision, recall, thresholds = precision_recall_curve(truth, scores)
            f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
            value = thresholds[int(np.argmax(f1[:-1]))]
        elif method == "accuracy":
            candidates = np.unique(scores)
            acc = [((scores >= t) == truth).mean() for t in candidates]
            value = candidates[int(np.argmax(acc))]
        else:
            if not 0 <= target_fpr < 1:
                raise InputError(f"target_fpr must be between 0 and 1 (got {target_fpr}); try 0.05.")
            fpr, tpr, thresholds = roc_curve(truth, scores, drop_intermediate=False)
            ok = np.flatnonzero((fpr <= target_fpr) & np.isfinite(thresholds))
            # no threshold keeps the false alarms that low: flag nothing (just above the highest score)
            value = thresholds[ok[np.argmax(tpr[ok])]] if len(ok) else np.nextafter(scores.max(), np.inf)
        self.threshold = float(value)
        return self.threshold_

    def evaluate(
        self,
        data: Any,
        is_anomaly: Any = None,
        *,
        normal_label: Any = None,
        label_column: str | None = None,
        threshold: float | None = None,
    ) -> AnomalyReport:
        """Judge the detector on labelled data: accuracy, precision, recall/TPR, FPR, ROC AUC.

        Say which examples are anomalies with ``is_anomaly`` (True/False per example), or pass
        labelled data (a data set, a CSV with a label column) and ``normal_label`` (by default
        the one used in training, or the one the data set defines).
        """
        self._require_trained("be evaluated")
        scores, truth = self._labelled(data, is_anomaly, normal_label, label_column, "evaluation data")
        return AnomalyReport.from_scores(scores, truth, self.threshold_ if threshold is None else threshold)

    # ----------------------------------------------------------------- charts
    def plot_latent(self, data: Any, labels: Any = None, *, label_column: str | None = None, title: str | None = None):
        """Scatter plot of the bottleneck, coloured by ``labels`` (or by the detector's verdict).

        With a bottleneck larger than 2, the points are projected on their 2 main directions
        (PCA). Returns a matplotlib ``Figure``.
        """
        from playml.core.charts import new_figure

        self._require_trained("show its bottleneck")
        table, xs = self._prepare(data, "data", label_column=label_column, y=labels)
        import torch

        with torch.inference_mode():
            z = self.encoder(torch.from_numpy(np.ascontiguousarray(xs))).numpy().astype(np.float64)
        axis_names = ("latent 1", "latent 2")
        if z.shape[1] > 2:
            from sklearn.decomposition import PCA

            z = PCA(n_components=2).fit_transform(z)
            axis_names = ("PCA 1 of the bottleneck", "PCA 2 of the bottleneck")
        elif z.shape[1] == 1:
            z = np.column_stack([z[:, 0], self._errors(xs)])
            axis_names = ("latent 1", "reconstruction error")
        if table.labels is not None:
            groups = table.labels
        else:
            groups = np.where(self._errors(xs) >= self.threshold_, "anomaly", "normal").astype(object)
        fig, (ax,) = new_figure(1, width=5.5, height=4.5)
        names = sorted(set(groups.tolist()), key=lambda g: (-int((groups == g).sum()), g))
        for name in names[:20]:
            m = groups == name
            ax.scatter(z[m, 0], z[m, 1], s=8, alpha=0.6, label=f"{name} ({int(m.sum())})")
        ax.set_xlabel(axis_names[0])
        ax.set_ylabel(axis_names[1])
        ax.set_title(title or "bottleneck of the autoencoder")
        ax.legend(markerscale=2, fontsize="small")
        return fig

    def plot_reconstruction(self, example: Any, *, title: str | None = None):
        """One example and its rebuild drawn together, with its error and the verdict.

        Returns a matplotlib ``Figure``.
        """
        from playml.core.charts import new_figure

        self._require_trained("rebuild examples")
        table, xs = self._prepare(example, "example")
        if len(xs) != 1:
            raise InputError(f"plot_reconstruction draws one example; got {len(xs)}. Pass one row, e.g. x[0].")
        rebuilt = self.reconstruct(table.x)[0]
        original = table.x[0]
        error = float(self._errors(xs)[0])
        verdict = "anomaly" if error >= self.threshold_ else "normal"
        fig, (ax,) = new_figure(1, width=7.0, height=3.6)
        steps = np.arange(len(original))
        ax.plot(steps, original, color="#4c72b0", label="input", marker="o" if len(steps) <= 40 else None, ms=3)
        ax.plot(steps, rebuilt, color="#dd8452", label="reconstruction", marker="o" if len(steps) <= 40 else None, ms=3)
        ax.fill_between(steps, original, rebuilt, color="#c44e52", alpha=0.2, label="difference")
        if self.feature_names_ and len(steps) <= 40:
            ax.set_xticks(steps, self.feature_names_, rotation=60, ha="right", fontsize="small")
        else:
            ax.set_xlabel("feature / step")
        ax.set_title(title or f"error {error:.4g} (threshold {self.threshold_:.4g}): {verdict}")
        ax.legend()
        return fig

    # ------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike) -> Path:
        """Save into a folder; ``ml.load(path)`` reads it back.

        The autoencoder is written in the TensorFlow.js layers format (``model.json`` +
        ``model.weights.bin``: ``tf.loadLayersModel`` opens it), and ``model_meta.json``
        holds what playml needs around it: sizes, the scaler (``scaled = (x - offset) / span``),
        the threshold and the training errors. Nothing in it is executable.
        """
        from playml._version import __version__
        from playml.core.saving import save_directory
        from playml.formats.tfjs import to_tfjs

        self._require_trained("be saved")
        import torch

        model_json, weights = to_tfjs(torch.nn.Sequential(*self.model_[0], *self.model_[1]), name="autoencoder")
        meta = {
            "playml": {"kind": "anomaly_detector", "version": self.FORMAT_VERSION},
            "created_by": f"playml {__version__}",
            "architecture": {
                "n_features": self.n_features_,
                "hidden": self._hidden(),
                "latent": int(self.latent_),
                # how it was chosen ("auto": from the data); older playml reads "latent" only
                "latent_option": self.latent if self.latent == "auto" else int(self.latent),
                "latent_variance": self.latent_variance_,
                "activation": self.activation,
                "output_activation": self._output_activation(),
                "layers": self.layers,
                "encoder_layers": len(self._hidden()) + 1,
            },
            "scaler": {
                "kind": self.scaling,
                "offset": self.scale_offset_.tolist(),
                "span": self.scale_span_.tolist(),
                "formula": "scaled = (x - offset) / span",
            },
            "threshold": self.threshold_,
            "threshold_percentile": self.threshold_percentile,
            "score": "mean over features of (scaled x - reconstruction)^2; anomaly when score >= threshold",
            "normal_label": self.normal_label_,
            "feature_names": self.feature_names_,
            "train_errors": _error_summary(self.train_errors_),
            "training": {
                "optimizer": self.optimizer,
                "learning_rate": self.learning_rate,
                "momentum": self.momentum,
                "l1": self.l1,
                "l2": self.l2,
                "seed": self.seed,
                "examples": len(self.train_errors_),
                "history": to_builtin(self.history_.to_dict()) if getattr(self, "history_", None) else None,
            },
        }
        return save_directory(path, {"model.json": model_json, "model.weights.bin": weights, "model_meta.json": meta})

    @classmethod
    def _from_directory(cls, path: Path, meta: dict[str, Any]) -> AnomalyDetector:
        import torch

        from playml.formats.tfjs import from_tfjs, read_tfjs

        try:
            arch, scaler, training = meta["architecture"], meta["scaler"], meta.get("training") or {}
            latent = arch["latent"]
            if isinstance(latent, bool) or int(latent) != latent:
                raise ValueError(f"latent {latent!r}")
            latent = int(latent)
            share = arch.get("latent_variance")
            share = None if share is None else float(share)
            det = cls(
                hidden=arch["hidden"],
                latent="auto" if arch.get("latent_option") == "auto" else latent,
                activation=arch["activation"],
                output_activation=arch["output_activation"],
                scaling=scaler["kind"],
                optimizer=training.get("optimizer", "adam"),
                learning_rate=training.get("learning_rate", 0.01),
                momentum=training.get("momentum", 0.0),
                l1=training.get("l1", 0.0),
                l2=training.get("l2", 0.0),
                threshold_percentile=meta.get("threshold_percentile", 95.0),
                seed=training.get("seed"),
            )
            n_features = int(arch["n_features"])
            offset = np.asarray(scaler["offset"], dtype=np.float32)
            span = np.asarray(scaler["span"], dtype=np.float32)
            threshold = float(meta["threshold"])
            train_errors = np.asarray(meta.get("train_errors") or [threshold], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(
                f"{path / 'model_meta.json'} is missing or has a wrong entry ({e}). "
                "Was it saved by playml's anomaly detector?"
            ) from None
        det._check_params()
        from playml.core.saving import LIMITS, check_size

        where = path / "model_meta.json"
        check_size(n_features, f"The number of features in {where}", limit=LIMITS["units"], minimum=1)
        for units in [*det._hidden(), latent]:
            check_size(units, f"A layer size in {where}", limit=LIMITS["units"], minimum=1)
        sizes = det._layer_sizes(n_features, latent)
        if sum(a * b for a, b in zip(sizes, sizes[1:])) > LIMITS["parameters"]:
            raise FormatError(
                f"{where} describes a network of {'→'.join(map(str, sizes))} units, larger than "
                "playml builds from a file."
            )
        if (
            not np.isfinite(threshold)
            or not np.isfinite(offset).all()
            or not np.isfinite(span).all()
            or not (span > 0).all()
        ):
            raise FormatError(
                f"{where} holds a threshold or scaler that is NaN, infinite or not positive; the "
                "detector would answer wrongly. Was the file edited, or did training diverge?"
            )
        if offset.shape != (n_features,) or span.shape != (n_features,):
            raise FormatError(f"The scaler in {path / 'model_meta.json'} does not have {n_features} values.")
        stored = from_tfjs(*read_tfjs(path))
        model = _build_autoencoder(n_features, det._hidden(), latent, det.activation, det._output_activation())
        mine, theirs = list(model.parameters()), list(stored.parameters())
        if [p.shape for p in mine] != [p.shape for p in theirs]:
            raise FormatError(
                f"The weights in {path / 'model.json'} do not fit the sizes in model_meta.json "
                f"({'→'.join(map(str, det._layer_sizes(n_features, latent)))})."
            )
        with torch.no_grad():
            for dst, src in zip(mine, theirs):
                dst.copy_(src)
        model.eval()
        det.model_ = model
        det.latent_, det.latent_variance_ = latent, share
        det.n_features_ = n_features
        det.scale_offset_, det.scale_span_ = offset, span
        det.threshold_ = threshold
        det.train_errors_ = train_errors
        det.feature_names_ = meta.get("feature_names")
        det.normal_label_ = meta.get("normal_label")
        hist = training.get("history")
        det.history_ = (
            History(metrics=hist.get("metrics", {}), stopped_early=hist.get("stopped_early", False))
            if isinstance(hist, dict)
            else History()
        )
        return det


def _error_summary(errors: np.ndarray) -> list[float]:
    """The training errors to keep with a saved model: all of them, or 10,001 quantiles of many."""
    if len(errors) <= _MAX_SAVED_ERRORS:
        return [float(e) for e in errors]
    return [float(e) for e in np.quantile(errors, np.linspace(0, 1, _MAX_SAVED_ERRORS))]


def anomaly_detector(hidden: Sequence[int] = (7, 3), latent: int | str = "auto", **options: Any) -> AnomalyDetector:
    """An autoencoder anomaly detector; see :class:`AnomalyDetector` for every option.

    >>> import playml as ml
    >>> ml.anomaly_detector()
    AnomalyDetector(hidden=[7, 3], latent='auto', trained=False)
    """
    return AnomalyDetector(hidden=hidden, latent=latent, **options)
