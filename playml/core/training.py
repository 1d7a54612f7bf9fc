"""The one training loop every learning task in playml shares.

:func:`fit` trains a ``torch.nn.Module`` on in-memory tensors and returns a
:class:`History`. Feature-extractor heads, ``neural_network``, the sound classifier and
the anomaly detector all train through it, so they all show the same progress bar,
call ``on_epoch`` the same way and return the same ``History``.

>>> import torch, playml.core.training as T
>>> x = torch.randn(64, 3); y = (x[:, 0] > 0).long()
>>> model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
>>> history = T.fit(model, x, y, loss="categorical_crossentropy", epochs=5, progress=False)
>>> len(history)
5
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from playml.errors import DataError, InputError

__all__ = ["History", "fit", "LOSSES", "OPTIMIZERS", "validation_indices", "forward_of", "dense_layers"]

LOSSES = ("categorical_crossentropy", "mse", "mae", "binary_crossentropy")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw")


@dataclass
class History:
    """What happened during training: one value per epoch for each metric.

    >>> h = History(metrics={"loss": [0.9, 0.4], "accuracy": [0.5, 0.9]})
    >>> h
    History(epochs=2, loss=0.4, accuracy=0.9)
    >>> h["loss"]
    [0.9, 0.4]
    """

    metrics: dict[str, list[float]] = field(default_factory=dict)
    stopped_early: bool = False

    def __len__(self) -> int:
        return max((len(v) for v in self.metrics.values()), default=0)

    @property
    def epochs(self) -> int:
        return len(self)

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.metrics:
            raise KeyError(f"History has no {key!r}; it has {', '.join(self.metrics) or 'nothing yet'}.")
        return self.metrics[key]

    def __contains__(self, key: object) -> bool:
        return key in self.metrics

    def last(self) -> dict[str, float]:
        """The metrics of the final epoch."""
        return {k: v[-1] for k, v in self.metrics.items() if v}

    def append(self, logs: dict[str, float]) -> None:
        for k, v in logs.items():
            self.metrics.setdefault(k, []).append(float(v))

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs": len(self),
            "metrics": {k: list(v) for k, v in self.metrics.items()},
            "stopped_early": self.stopped_early,
        }

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items())
        stop = ", stopped_early=True" if self.stopped_early else ""
        return f"History(epochs={len(self)}{', ' if last else ''}{last}{stop})"

    def plot(self, title: str | None = None):
        """Loss (and accuracy, when there is one) per epoch, training and validation.

        Returns a matplotlib ``Figure`` (not shown), so it works in scripts and notebooks.
        """
        from playml.core.charts import history_figure

        return history_figure(self, title=title)

    def _repr_html_(self) -> str:  # notebooks: the last values and the chart
        from playml.results import html_table, png_html

        rows = [[k, f"{v:.4g}"] for k, v in self.last().items()]
        stop = " (stopped early)" if self.stopped_early else ""
        table = html_table(rows, ["metric", "last epoch"], title=f"History: {len(self)} epochs{stop}")
        return table + (png_html(self.plot()) if len(self) else "")


def _check_options(epochs: Any, batch_size: Any, learning_rate: Any, validation_split: Any) -> None:
    """Refuse option values that would silently do something else (``epochs="10"``, ``True``,
    ``learning_rate=0`` or NaN, ``validation_split=-0.5``)."""

    def number(value: Any) -> bool:
        return (
            isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, bool)
            and math.isfinite(value)
        )

    if not number(epochs) or epochs < 1 or int(epochs) != epochs:
        raise InputError(f"epochs must be a whole number of at least 1, like 20 (got {epochs!r}).")
    if not number(batch_size) or batch_size < 1 or int(batch_size) != batch_size:
        raise InputError(f"batch_size must be a whole number of at least 1, like 32 (got {batch_size!r}).")
    if not number(learning_rate) or learning_rate <= 0:
        raise InputError(f"learning_rate must be a number above 0 (got {learning_rate!r}). Try 0.001.")
    if not number(validation_split) or not 0 <= validation_split < 1:
        raise InputError(
            f"validation_split must be a number from 0 up to (not including) 1, like 0.1 (got {validation_split!r})."
        )


def validation_indices(
    y: np.ndarray | None, n: int, fraction: float, *, stratify: bool, seed: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``range(n)`` into (train, validation) index arrays.

    With ``stratify`` each class keeps ``fraction`` of its examples for validation
    (at least one per class that has two or more), as Teachable Machine does.
    """
    if not 0.0 <= fraction < 1.0:
        raise InputError(f"validation_split must be between 0 and 1 (got {fraction}). Try 0.1 or 0.15.")
    rng = np.random.default_rng(seed)
    if fraction == 0.0 or n < 2:
        return np.arange(n), np.arange(0)
    if stratify and y is not None:
        val: list[np.ndarray] = []
        for cls in np.unique(y):
            idx = np.flatnonzero(y == cls)
            rng.shuffle(idx)
            k = int(round(len(idx) * fraction))
            if len(idx) >= 2:
                k = min(max(k, 1), len(idx) - 1)
            else:
                k = 0
            val.append(idx[:k])
        v = np.sort(np.concatenate(val)) if val else np.arange(0)
    else:
        perm = rng.permutation(n)
        k = max(1, int(round(n * fraction)))
        v = np.sort(perm[:k])
    mask = np.ones(n, dtype=bool)
    mask[v] = False
    return np.flatnonzero(mask), v


def _loss_fn(loss: str | Callable):
    import torch.nn.functional as F

    if callable(loss):
        return loss
    table = {
        "categorical_crossentropy": F.cross_entropy,  # model outputs logits, y holds class indices
        "mse": F.mse_loss,
        "mean_squared_error": F.mse_loss,
        "mae": F.l1_loss,
        "binary_crossentropy": F.binary_cross_entropy_with_logits,
    }
    if loss not in table:
        raise InputError(f"Unknown loss {loss!r}. Use one of: {', '.join(LOSSES)}.")
    return table[loss]


def make_optimizer(name: str, params, learning_rate: float, *, momentum: float = 0.0, weight_decay: float = 0.0):
    """Build a torch optimizer from a friendly name ('adam', 'sgd', 'rmsprop', 'adamw')."""
    import torch

    name = name.lower()
    if name == "adam":
        return torch.optim.Adam(params, lr=learning_rate, weight_decay=weight_decay, foreach=True)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=learning_rate, weight_decay=weight_decay, foreach=True)
    if name == "sgd":
        return torch.optim.SGD(params, lr=learning_rate, momentum=momentum, weight_decay=weight_decay, foreach=True)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=learning_rate, momentum=momentum, weight_decay=weight_decay, foreach=True)
    raise InputError(f"Unknown optimizer {name!r}. Use one of: {', '.join(OPTIMIZERS)}.")


def fit(
    model,
    x,
    y,
    *,
    loss: str | Callable = "categorical_crossentropy",
    epochs: int = 50,
    batch_size: int = 16,
    learning_rate: float = 0.001,
    optimizer: str | Any = "adam",
    momentum: float = 0.0,
    l1: float = 0.0,
    l2: float = 0.0,
    validation_split: float = 0.0,
    validation_data: tuple[Any, Any] | None = None,
    stratify: bool | None = None,
    shuffle: bool = True,
    metrics: Sequence[str] | None = None,
    on_epoch: Callable[[int, dict[str, float]], Any] | None = None,
    progress: bool = True,
    seed: int | None = None,
    description: str = "training",
) -> History:
    """Train ``model`` on tensors ``x`` and ``y`` and return a :class:`History`.

    ``loss`` is a name from :data:`LOSSES` or a callable ``(output, target) -> scalar``.
    For ``categorical_crossentropy`` the model returns logits and ``y`` holds class
    indices; ``accuracy`` is then recorded too. ``validation_split`` holds out a fraction
    (per class for classification). ``on_epoch(epoch, logs)`` is called after each epoch
    (``epoch`` counts from 1); returning ``False`` stops training early. ``l1``/``l2``
    add weight penalties.

    Plain dense stacks (``Linear`` layers with ReLU/sigmoid/tanh, dropout after hidden layers,
    optionally after a first module whose class sets ``fixed_transform = True``, such as
    standardising the inputs) with a named loss train without autograd, on fixed buffers, with
    the History autograd would give (within float rounding). Small models step on one thread;
    those with a big weight (64k numbers or more, such as the teach head) try a second thread
    when no other process is running on a second core, and keep it only while measured faster.
    Anything else trains through autograd.
    """
    import torch

    _check_options(epochs, batch_size, learning_rate, validation_split)
    x = torch.as_tensor(x)
    y = torch.as_tensor(y)
    if x.is_floating_point() and not _all_finite(x):
        raise DataError("The training inputs contain NaN or infinity; remove or fix those examples.")
    if y.is_floating_point() and not _all_finite(y):
        raise DataError("The training targets contain NaN or infinity; remove or fix those examples.")
    n = x.shape[0]
    if n == 0:
        raise DataError("There is no training data. Add some examples first.")
    if y.shape[0] != n:
        raise DataError(f"There are {n} inputs but {y.shape[0]} targets; they must match one to one.")
    if x.is_floating_point():
        x = x.float()
    classification = loss == "categorical_crossentropy"
    if classification:
        y = y.long()
    elif y.is_floating_point():
        y = y.float()
    if metrics is None:
        metrics = ("accuracy",) if classification else ()
    loss_fn = _loss_fn(loss)

    if seed is not None:
        torch.manual_seed(seed)
    if validation_data is not None:
        xv = torch.as_tensor(validation_data[0])
        xv = xv.float() if xv.is_floating_point() else xv
        yv = torch.as_tensor(validation_data[1])
        yv = yv.long() if classification else yv.float() if yv.is_floating_point() else yv  # ids stay ids
        xt, yt = x, y
    elif validation_split > 0:
        tr, va = validation_indices(
            y.numpy() if classification else None,
            n,
            validation_split,
            stratify=classification if stratify is None else stratify,
            seed=seed,
        )
        if len(tr) == 0:
            raise DataError("validation_split left nothing to train on. Add more examples or lower it.")
        tr_t, va_t = torch.from_numpy(tr), torch.from_numpy(va)
        xt, xv = x[tr_t], x[va_t]
        yt, yv = (xt, xv) if y is x else (y[tr_t], y[va_t])
    else:
        xt, yt, xv, yv = x, y, None, None
    if xv is not None and len(xv) == 0:
        xv = yv = None

    start_state = {k: v.detach().clone() for k, v in model.state_dict().items()}  # restored if training diverges
    lean = _LeanOptimizer.create(optimizer, model, learning_rate, momentum)
    opt = (
        lean
        if lean is not None
        else optimizer
        if not isinstance(optimizer, str)
        else make_optimizer(optimizer, model.parameters(), learning_rate, momentum=momentum, weight_decay=0.0)
    )
    weights = [p for name, p in model.named_parameters() if p.requires_grad and p.dim() > 1]

    history = History()
    bar = None
    if progress:
        from playml.core.progress import progress_bar

        bar = progress_bar(total=epochs, desc=description, unit="epoch", leave=True)
    nt = xt.shape[0]
    steps = math.ceil(nt / batch_size)
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    threads = torch.get_num_threads()
    small = threads > 1 and _is_small(model, batch_size)  # its steps run on one thread, or two if a core is idle
    spare = (  # a weight big enough to split over two threads, and a second core idle now
        small
        and lean is not None
        and _cpus() > 1
        and any(p.numel() >= _BIG_WEIGHT for p in model.parameters())
        and _others_running() < _cpus() - 1
    )
    dense = None
    if isinstance(loss, str):
        dense, xt, xv = _DenseStack.compile_with_transform(
            model, loss, xt, yt, xv, batch_size, l1, l2, two_threads=spare
        )
    # Preallocated buffers: the shuffled copy of the data (one for both when the targets are the
    # inputs, as for autoencoders), cut into the same batch views every epoch.
    if shuffle:
        xs = torch.empty_like(xt)
        ys = xs if yt is xt else torch.empty_like(yt)
    else:
        xs, ys = xt, yt
    x_batches, y_batches = xs.split(batch_size), ys.split(batch_size)
    step_sizes = torch.tensor([min(batch_size, nt - s * batch_size) for s in range(steps)], dtype=torch.float32)
    per_epoch: list = []  # the dense path's calls after every epoch's steps
    if dense is not None:
        targets = dense.step_targets(yt, ys, batch_size, shuffle)
        if lean is not None:
            updates, after = lean.programs(dense.params, dense.grads, steps)
            per_epoch += after
        else:  # an optimizer object, or one fit made: it reads .grad, which is the dense path's buffer
            for p, g in zip(dense.params, dense.grads):
                p.grad = g
            updates = [[opt.step]] * steps
        forward = dense.forward
        programs = [calls + update for calls, update in zip(dense.programs(x_batches, targets.batches), updates)]
    else:
        forward, targets = model, None
    copy_back = dense is not None and any(dense.inputs_major)
    chooser = None
    if small:
        torch.set_num_threads(1)  # tiny models: thread hand-offs cost more than they save
        if copy_back and steps >= _ThreadChooser.MIN_STEPS:  # a big weight and an idle core (`spare`)
            chooser = _ThreadChooser(min(threads, 2), nt % batch_size != 0)  # when a spare core is idle
    try:
        for epoch in range(1, epochs + 1):
            if dense is None:  # the dense path runs on the weights themselves (its own dropout), not the modules
                model.train()
            if shuffle:
                order = torch.randperm(nt, generator=gen)
                torch.index_select(xt, 0, order, out=xs)
                if ys is not xs:
                    torch.index_select(yt, 0, order, out=ys)
                if targets is not None:
                    targets.shuffle(order)
            if dense is not None:
                with torch.no_grad():
                    if chooser is None:
                        for program in programs:
                            for call in program:
                                call()
                    else:
                        chooser.run(programs)
                    for call in per_epoch:
                        call()
                    if on_epoch is not None:  # it may look at the model (otherwise: once at the end)
                        dense.sync()
                    logs = {"loss": dense.epoch_loss(ys)}
                    if "accuracy" in metrics and classification:
                        logs["accuracy"] = float((dense.outputs.argmax(1) == ys).sum()) / nt
            else:
                step_losses, step_outputs = [], []  # kept as tensors; summed once per epoch
                for xb, yb in zip(x_batches, y_batches):
                    out = model(xb)
                    batch_loss = loss_fn(out, yb)
                    reg = batch_loss
                    if l2:
                        reg = reg + l2 * sum((w * w).sum() for w in weights)
                    if l1:
                        reg = reg + l1 * sum(w.abs().sum() for w in weights)
                    if lean is not None:
                        lean.step(reg)
                    else:
                        opt.zero_grad(set_to_none=True)
                        reg.backward()
                        opt.step()
                    step_losses.append(batch_loss.detach())
                    if classification:
                        step_outputs.append(out.detach())
                with torch.no_grad():
                    logs = {"loss": float(torch.stack(step_losses).dot(step_sizes)) / nt}
                    if "accuracy" in metrics and classification:
                        logs["accuracy"] = float((torch.cat(step_outputs).argmax(1) == ys).sum()) / nt
            if xv is not None:
                logs.update(
                    _evaluate(model if dense is None else None, forward, xv, yv, loss_fn, classification, metrics)
                )
            if not all(math.isfinite(v) for v in logs.values()):
                history.append(logs)
                copy_back = False  # the model has its weights from before
                with torch.no_grad():  # keep the weights the model had before, not the broken ones
                    model.load_state_dict(start_state)
                raise DataError(
                    f"Training diverged at epoch {epoch} (loss became {logs['loss']}). "
                    "Lower the learning_rate, or normalize the data first. The model keeps the weights it "
                    "had before this training."
                )
            history.append(logs)
            if bar is not None:
                bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
                bar.update(1)
            if on_epoch is not None and on_epoch(epoch, dict(logs)) is False:
                history.stopped_early = epoch < epochs
                break
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        history._threads_used = sorted(chooser.used) if chooser is not None else None  # for the benchmarks
        if bar is not None:
            bar.close()
        if dense is not None and lean is None:
            for p in dense.params:
                p.grad = None
        if copy_back:  # the trained weights (also when stopped by an error or an interrupt)
            with torch.no_grad():
                dense.sync()
        model.eval()
    return history


class _ThreadChooser:
    """Runs the dense path's steps on one thread or on two, whichever is faster right now.

    One thread is right for small models on a busy machine (OpenMP threads that wait for each
    other cost milliseconds a step when other work holds the cores), but when a second core is
    idle, two threads do the big products and Adam of a model like the teach head (128,000
    weights) in two thirds of the time (a step 170 → 115 µs here, with the weights and their
    gradients stored inputs-major, see :class:`_DenseStack`). So, measure rather than guess: the
    first epoch runs on one thread and measures it (the median step); the first steps of the
    second are tried on two threads, which stay only while their steps are clearly faster than
    that (an epoch whose median step is not, or one step three times as slow, drops them at once),
    and are tried again after 2, 4, 8, … epochs, measuring one thread anew. The epoch's loss and validation run on
    the thread count the steps chose.

    The numbers hardly depend on the choice. Adam and the activations go element by element,
    and MKL splits a product of a full batch (16, 32, … rows) between threads by columns, each
    output computed as on one thread: the same bits (measured here for the learners' shapes).
    For some odd row counts (5, 7, 11) it splits rows and the last bits can differ, so a short
    last batch always runs on one thread; other shapes may still differ in the last bit
    (``tests/test_training_fast.py`` trains both ways and compares).
    """

    PROBE = 4  # steps tried on two threads; the first only wakes the second thread
    MIN_STEPS = 8  # fewer steps an epoch are too few to measure
    WIN = 0.85  # two threads are kept when their steps take at most this share of one thread's

    def __init__(self, threads: int, short_last: bool):
        import time

        self.many, self.short_last, self.clock, self.cpus = threads, short_last, time.perf_counter, _cpus()
        self.mode = self.now = 1  # the chosen thread count for steps, and the current one
        self.single: float | None = None  # the median step time on one thread
        self.next_try, self.wait = 2, 2  # the epoch of the next trial, and the wait after a failed one
        self.epoch = 0
        self.used: set[int] = set()

    def _set(self, n: int) -> None:
        import torch

        if self.now != n:
            torch.set_num_threads(n)
            self.now = n

    def run(self, programs: list) -> None:
        """One epoch's steps (each a list of calls)."""
        clock, many, single = self.clock, self.many, self.single
        self.epoch += 1
        trying = self.mode == 1 and single is not None and self.epoch >= self.next_try and self._maybe_idle()
        self._set(many if trying or self.mode == many else 1)
        on_one = self.now == 1
        times: list[float] = []  # step times (not the short last batch's, nor a trial's first)
        last = len(programs) - 1
        for i, program in enumerate(programs):
            if i == last and self.short_last:
                self._set(1)  # see the class docstring
            start = clock()
            for call in program:
                call()
            took = clock() - start
            if i < last and not (trying and i == 0):
                times.append(took)
            if self.now == 1 or single is None or i == last:
                continue
            if trying and i == self.PROBE - 1:
                trying = False
                if _median(times) > self.WIN * single:
                    self._fail()
                else:
                    self.mode, self.wait = many, 2
            elif took > 3 * single:  # the other core is (or got) busy: back to one thread at once
                trying = False
                self._fail()
        self.used.add(1 if on_one else many)
        if on_one:
            if times:
                self.single = _median(times)
        elif self.mode == many and _median(times) > 0.9 * single:
            self._fail()  # no longer clearly faster
        self._set(self.mode)  # the epoch's loss and validation as the steps will run next

    def _maybe_idle(self) -> bool:
        """False when other work is running on every other core now (a trial would only cost):
        Linux's count of runnable tasks at this instant, else the load average."""
        busy = _others_running() >= self.cpus - 1
        if busy:
            self.next_try = self.epoch + 1
        return not busy

    def _fail(self) -> None:
        self._set(1)
        self.mode = 1
        self.next_try = self.epoch + self.wait
        self.wait *= 2


def _others_running() -> float:
    """How many tasks of other processes are running or ready to run now: ``/proc/loadavg``'s
    count of runnable tasks less this process's own (its math libraries' worker threads may
    still be spinning after their last job) on Linux, else the one-minute load average less one."""
    import os

    try:
        with open("/proc/loadavg", "rb") as f:
            running = int(f.read().split()[3].split(b"/")[0])
        own = 0
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/stat", "rb") as f:
                    own += f.read().rsplit(b")", 1)[1].split()[0] == b"R"
            except OSError:  # the thread ended meanwhile
                pass
        return max(running - max(own, 1), 0)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.getloadavg()[0] - 1
    except OSError:
        return 0.0


def _cpus() -> int:
    """The CPUs this process may run on."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else math.inf


#: Weights of this many numbers or more are worth splitting over two threads (the teach head's
#: 1,280 × 100 is 128,000; ml5's default networks and the autoencoder are far below).
_BIG_WEIGHT = 65536


def _all_finite(t) -> bool:
    """No NaN or infinity in ``t``: a sum is finite only then (10× faster than testing every
    number), unless finite numbers overflow it, when every number is tested."""
    import torch

    return math.isfinite(float(t.sum(dtype=torch.float64))) or bool(torch.isfinite(t).all())


def _is_small(model, batch_size: int) -> bool:
    """True for models so small that one CPU thread trains them fastest. Measured here (2
    cores, other work running): a 1280→128→3 network trains 2× faster on one thread than on
    two, and ml5's 4,000-weight image CNN 30× faster (OpenMP threads wait for each other on
    every tiny operation)."""
    return sum(p.numel() for p in model.parameters()) * batch_size <= 2**24


class _LeanOptimizer:
    """Adam, or SGD without momentum, applied with PyTorch's fused multi-tensor kernels
    straight from ``torch.autograd.grad``: the same update as ``torch.optim.Adam(fused=True)``
    / ``torch.optim.SGD``, without the per-step bookkeeping of ``Optimizer.step`` and
    ``zero_grad`` (most of the time of a small network's step). Used only when :func:`fit`
    builds the optimizer from its name."""

    def __init__(self, kind: str, params: list, learning_rate: float):
        import torch

        self.kind, self.params, self.lr = kind, params, float(learning_rate)
        self.exp_avg: list = []  # Adam's state for update(), made on its first step (the dense
        self.exp_avg_sq: list = []  # path's programs() keep their own, for their own layout)
        if kind == "adam":
            self.steps = [torch.zeros((), dtype=torch.float32) for _ in params]
            # torch.optim.Adam's defaults, as _fused_adam_ takes them
            self._adam = dict(
                lr=self.lr, beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False
            )

    @classmethod
    def create(cls, optimizer, model, learning_rate: float, momentum: float):
        import torch

        if not isinstance(optimizer, str):
            return None
        name = optimizer.lower()
        params = [p for p in model.parameters() if p.requires_grad]
        usable = params and all(p.device.type == "cpu" and p.dtype == torch.float32 and not p.is_sparse for p in params)
        if not usable:
            return None
        if name == "adam" and hasattr(torch, "_fused_adam_"):
            return cls("adam", params, learning_rate)
        if name == "sgd" and momentum == 0:
            return cls("sgd", params, learning_rate)
        return None

    def step(self, loss) -> None:
        import torch

        self.update(torch.autograd.grad(loss, self.params, allow_unused=True))

    def programs(self, params: list, grads: list, steps: int) -> tuple[list[list], list]:
        """The update of each of an epoch's ``steps`` steps of ``params`` (the dense path's
        working copies of the model's parameters, in their own layout) with these (fixed)
        gradient buffers, and the calls to make after each epoch, all under ``no_grad``. Adam's
        step count is one number per step of the epoch (every parameter steps every time),
        advanced once an epoch."""
        from functools import partial

        import torch

        if self.kind == "sgd":
            return [[partial(torch._foreach_add_, params, grads, alpha=-self.lr)]] * steps, []
        exp_avg = [torch.zeros_like(p) for p in params]
        exp_avg_sq = [torch.zeros_like(p) for p in params]
        counts = torch.arange(1, steps + 1, dtype=torch.float32)
        updates = [
            [
                partial(
                    torch._fused_adam_,
                    params,
                    grads,
                    exp_avg,
                    exp_avg_sq,
                    [],
                    [counts[s]] * len(self.params),
                    **self._adam,
                )
            ]
            for s in range(steps)
        ]
        return updates, [partial(counts.add_, float(steps))]

    def update(self, grads) -> None:
        """Apply one step with these gradients (``None`` for a parameter the loss does not use)."""
        import torch

        keep = [i for i, g in enumerate(grads) if g is not None]
        every = len(keep) == len(grads)
        pick = (lambda xs: xs) if every else (lambda xs: [xs[i] for i in keep])
        params, grads = pick(self.params), pick(list(grads))
        if not params:
            return
        with torch.no_grad():
            if self.kind == "sgd":
                torch._foreach_add_(params, grads, alpha=-self.lr)
                return
            if not self.exp_avg:
                self.exp_avg = [torch.zeros_like(p) for p in self.params]
                self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
            steps = pick(self.steps)
            torch._foreach_add_(steps, 1.0)
            torch._fused_adam_(
                params,
                grads,
                pick(self.exp_avg),
                pick(self.exp_avg_sq),
                [],
                steps,
                **self._adam,
            )


def _evaluate(model, forward, x, y, loss_fn, classification: bool, metrics) -> dict[str, float]:
    """Validation logs; ``model`` (None on the dense path, which needs no module modes) is put in eval mode."""
    import torch

    if model is not None:
        model.eval()
    with torch.inference_mode():
        out = forward(x)
        logs = {"val_loss": float(loss_fn(out, y))}
        if classification and "accuracy" in metrics:
            logs["val_accuracy"] = float((out.argmax(1) == y).float().mean())
    return logs


# --------------------------------------------------------------------------- dense stacks
def dense_layers(model, *, dropout: bool = False) -> tuple[list, list] | None:
    """``(linears, [(weight, bias or None, activation or None), …])`` when ``model`` is a plain
    dense stack — ``nn.Sequential`` (nested or not) of ``nn.Linear`` each followed by at most
    one ReLU, sigmoid, tanh or softmax (last) activation, with identities and ``Dropout(0)``
    anywhere — and ``None`` for anything else (other modules, hooks, shared weights).

    With ``dropout=True`` a ``Dropout(p)`` (0 < p < 1) may also follow a hidden layer's
    activation, and each layer is ``(weight, bias, activation, p)`` (p = 0.0: no dropout)."""
    from torch import nn

    modules: list = []
    owned = [0]  # parameters registered on the modules met (counted here: model.parameters() is slow)

    def flatten(m) -> bool:
        if m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or getattr(m, "_backward_pre_hooks", None):
            return False
        owned[0] += sum(1 for p in m._parameters.values() if p is not None)
        if type(m) is nn.Sequential:
            return all(flatten(c) for c in m._modules.values() if c is not None)
        if m._modules:  # a leaf module with children of its own: not a plain layer
            return False
        modules.append(m)
        return True

    g = nn.modules.module
    if not flatten(model) or g._global_forward_hooks or g._global_forward_pre_hooks or g._global_backward_hooks:
        return None
    layers: list = []
    linears: list = []
    for i, m in enumerate(modules):
        kind = type(m)
        if kind is nn.Linear:
            layers.append([m.weight, m.bias, None, 0.0])
            linears.append(m)
            continue
        if kind is nn.Identity or (kind is nn.Dropout and m.p == 0):
            continue
        if kind is nn.Dropout and dropout and 0 < m.p < 1 and layers and not layers[-1][3]:
            layers[-1][3] = float(m.p)
            continue
        act = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}.get(kind)
        if kind is nn.Softmax and m.dim in (-1, 1) and all(type(r) in (nn.Identity,) for r in modules[i + 1 :]):
            act = "softmax"
        if act is None or not layers or layers[-1][2] is not None or layers[-1][3]:
            return None
        layers[-1][2] = act
    if not layers or layers[-1][3]:
        return None  # nothing, or dropout on the output
    params = [t for w, b, _, _ in layers for t in (w, b) if t is not None]
    if len({id(p) for p in params}) != len(params) or len(params) != owned[0]:
        return None  # shared or extra weights
    if any(a[0].shape[0] != b[0].shape[1] for a, b in zip(layers, layers[1:])):
        return None
    return linears, [tuple(layer) if dropout else tuple(layer[:3]) for layer in layers]


class DenseForward:
    """A plain dense stack's forward pass without ``nn.Module`` calls or autograd, for
    predicting with small models (a few matrix products, where module dispatch, grad-mode
    switches and thread hand-offs would cost more than the arithmetic). Use :func:`forward_of`.
    It reads the model's own weights (detached views), so training again or loading weights
    in place is seen; replacing a layer's weight is noticed and the model called instead."""

    def __init__(self, model, linears: list, layers: list):
        self.model = model
        # each layer's parameter dict and the weight and bias read now: current() compares them
        # without nn.Module's attribute lookup (12 lookups cost more than a small forward's product)
        self.linears = [(m._parameters, m.weight, m.bias) for m in linears]
        self.layers = [(w.detach().t(), None if b is None else b.detach(), act) for w, b, act in layers]
        self.macs = sum(w.numel() for w, _, _ in layers)
        # per layer: (wᵀ, b, activation, w, b as a column, output width), the views made once
        self._steps = [
            (wt, b, act, wt.t(), None if b is None else b[:, None], wt.shape[1]) for wt, b, act in self.layers
        ]
        self._program: ForwardProgram | None = None
        self._asked = 0

    def current(self) -> bool:
        return all(p.get("weight") is w and p.get("bias") is b for p, w, b in self.linears)

    def __call__(self, x):
        """The model's output for the float32 2-D tensor ``x`` (no graph, eval behaviour)."""
        import torch

        if x.dtype != torch.float32 or x.dim() != 2 or x.requires_grad:
            with torch.inference_mode():
                return self.model(x)
        threads = torch.get_num_threads()
        one = threads > 1 and self.macs * x.shape[0] < 2**24  # small: one thread (see _is_small)
        if one:
            torch.set_num_threads(1)
        try:
            a = x
            rows = x.shape[0]
            for wt, b, act, w, b_col, cols in self._steps:
                if cols < rows and cols < 64:  # narrow result: computed transposed (see _DenseStack.programs)
                    a = (torch.addmm(b_col, w, a.t()) if b is not None else torch.mm(w, a.t())).t()
                else:
                    a = torch.addmm(b, a, wt) if b is not None else torch.mm(a, wt)
                if act == "softmax":
                    a = torch.softmax(a, 1)
                elif act is not None:
                    getattr(a, act + "_")()
            return a
        finally:
            if one:
                torch.set_num_threads(threads)

    def program(self, rows: int) -> ForwardProgram | None:
        """The forward pass for exactly ``rows`` rows bound to preallocated buffers, from the
        second time this size is asked for (the last size is kept; ``None`` the first time): for
        callers that score batches of one size again and again, where allocating and slicing
        would cost more than the few matrix products."""
        prog = self._program
        if prog is not None and prog.rows == rows:
            return prog
        if self._asked != rows:  # the first time: a one-off call is cheaper without building buffers
            self._asked = rows
            return None
        prog = self._program = ForwardProgram(self.layers, rows)
        return prog


class ForwardProgram:
    """One dense forward pass as a list of calls on fixed buffers: fill ``x`` (rows × inputs,
    float32), call ``run()`` under ``no_grad``/``inference_mode``, read ``out``. The same
    operations as :meth:`DenseForward.__call__`, so the same numbers. Hold ``lock`` while
    using the buffers (``lock.acquire(blocking=False)``: if another thread has it, use
    :class:`DenseForward` itself). ``extra`` is for a caller's own buffers and calls."""

    def __init__(self, layers: list, rows: int):
        import threading
        from functools import partial

        import torch

        self.rows, self.lock, self.extra = rows, threading.Lock(), {}
        self.x = torch.empty(rows, layers[0][0].shape[0])
        calls: list = []
        a = self.x
        for wt, b, act in layers:
            cols = wt.shape[1]
            if cols < rows and cols < 64:  # narrow result: computed transposed, as DenseForward does
                buf = torch.empty(cols, rows)
                if b is not None:
                    calls.append(partial(torch.addmm, b[:, None], wt.t(), a.t(), out=buf))
                else:
                    calls.append(partial(torch.mm, wt.t(), a.t(), out=buf))
                a = buf.t()
            else:
                z = torch.empty(rows, cols)
                calls.append(
                    partial(torch.addmm, b, a, wt, out=z) if b is not None else partial(torch.mm, a, wt, out=z)
                )
                a = z
            if act == "softmax":
                s = torch.empty(rows, cols)
                calls.append(partial(torch.softmax, a, 1, out=s))
                a = s
            elif act is not None:
                calls.append(getattr(a, act + "_"))
        self.out = a
        self.calls = calls

    def run(self) -> None:
        for call in self.calls:
            call()


_FORWARDS: Any = None


def forward_of(model):
    """A fast callable ``x -> output`` equal to ``model.eval()(x)`` under ``inference_mode``:
    a cached :class:`DenseForward` for plain dense stacks, else a wrapper that calls the model."""
    import weakref

    global _FORWARDS
    if _FORWARDS is None:
        _FORWARDS = weakref.WeakKeyDictionary()
    fwd = _FORWARDS.get(model)
    if fwd is not None and (fwd is _MODULE_CALL or fwd.current()):
        return fwd if fwd is not _MODULE_CALL else _module_call(model)
    import torch

    found = dense_layers(model)  # when found, its weights and biases are all the model's parameters
    if found is None or not all(
        t.dtype == torch.float32 and t.device.type == "cpu" for w, b, _ in found[1] for t in (w, b) if t is not None
    ):
        _FORWARDS[model] = _MODULE_CALL
        return _module_call(model)
    fwd = DenseForward(model, *found)
    _FORWARDS[model] = fwd
    return fwd


_MODULE_CALL = object()


def _module_call(model):
    import torch

    def call(x):
        model.eval()
        with torch.inference_mode():
            return model(x)

    return call


# --------------------------------------------------------------------------- the dense fast path
_ACTIVATIONS = ("relu", "sigmoid", "tanh")


class _DenseStack:
    """Forward and backward of a plain dense stack, by hand, into preallocated buffers.

    Most learners train ``Linear → activation → … → Linear`` stacks (the teach head,
    ``neural_network``'s dense networks, the anomaly autoencoder). For them autograd's graph
    building and bookkeeping cost more than the arithmetic, so :func:`fit` runs the same
    operations itself: one ``addmm`` per layer forward; per layer backward one ``mm`` for the
    weight gradient, one ``sum`` for the bias and one ``mm`` + activation derivative for the
    layer below — the operations autograd would run, in the same order, on the same numbers.
    :meth:`compile` returns ``None`` for anything else (convolutions, dropout, custom modules,
    hooks, other losses), which then trains through autograd.
    """

    def __init__(self, layers: list, loss: str, batch_size: int, nt: int, l1: float, l2: float, two_threads: bool):
        import torch

        # When fit may step on two threads (``two_threads``: playml's own Adam/SGD, a core idle),
        # a big weight (64k numbers or more) is trained as a contiguous copy of wᵀ (inputs ×
        # units): its gradient belowᵀ·d is then written row by row, which the math library splits
        # over two threads (the units × inputs form stays on one), and the elementwise update
        # runs on the same layout; :meth:`sync` copies it back into the model. Other weights (and
        # all on one thread, where that layout is slower: teach head 0.19 → 0.21 s here) are
        # trained in place, used as the view wᵀ.
        self.inputs_major = [two_threads and w.numel() >= _BIG_WEIGHT for w, _, _, _ in layers]
        self.model_weights = [w for w, _, _, _ in layers]
        self.layers = [
            (w.detach().t().contiguous() if major else w.detach().t(), b, act, p)
            for (w, b, act, p), major in zip(layers, self.inputs_major)
        ]  # (wᵀ, bias, activation, dropout p)
        trained = [
            wt if major else w for (w, _, _, _), (wt, _, _, _), major in zip(layers, self.layers, self.inputs_major)
        ]
        self.loss, self.l1, self.l2 = loss, float(l1), float(l2)
        self.params = [t for w, (_, b, _, _) in zip(trained, layers) for t in ((w, b) if b is not None else (w,))]
        self.grads = [torch.empty(p.shape) for p in self.params]  # every step overwrites them
        width = [wt.shape[1] for wt, _, _, _ in self.layers]
        self.d_out = torch.empty(batch_size, width[-1])  # d loss / d output
        self.outputs = torch.empty(nt, width[-1])  # the epoch's outputs, for its loss

    @classmethod
    def compile_with_transform(
        cls, model, loss, x, y, xv, batch_size: int, l1: float, l2: float, *, two_threads: bool = False
    ):
        """``(stack or None, x, xv)``: :meth:`compile`, after a leading fixed transform.

        A model's first module may be marked ``fixed_transform = True`` (a class attribute): no
        trainable parameters, the same output for the same input whether training or not (such
        as standardising the inputs). When the rest is a plain dense stack, the transform is
        applied once to the training and validation inputs, which are returned in its place —
        the same arithmetic as applying it to every batch."""
        from torch import nn

        first = model[0] if type(model) is nn.Sequential and len(model) > 1 else None
        if (
            first is None
            or getattr(type(first), "fixed_transform", False) is not True
            or any(True for _ in first.parameters())
            or first._forward_hooks
            or first._forward_pre_hooks
        ):
            return cls.compile(model, loss, x, y, batch_size, l1, l2, two_threads=two_threads), x, xv
        import torch

        with torch.no_grad():
            xt = first(x)
            rest = nn.Sequential(*list(model)[1:])
            stack = cls.compile(rest, loss, xt, y, batch_size, l1, l2, two_threads=two_threads)
            if stack is None:
                return None, x, xv
            return stack, xt, first(xv) if xv is not None else None

    @classmethod
    def compile(
        cls, model, loss, x, y, batch_size: int, l1: float, l2: float, *, two_threads: bool = False
    ) -> _DenseStack | None:
        import torch

        if loss not in ("categorical_crossentropy", "mse", "mean_squared_error"):
            return None
        found = dense_layers(model, dropout=True)
        if found is None or any(act == "softmax" for _, _, act, _ in found[1]):
            return None
        layers = [list(layer) for layer in found[1]]
        params = [t for w, b, _, _ in layers for t in (w, b) if t is not None]
        if not all(
            p.requires_grad
            and p.dtype == torch.float32
            and p.device.type == "cpu"
            and p.is_contiguous()
            and not p.is_sparse
            for p in params
        ):
            return None
        if x.dim() != 2 or x.dtype != torch.float32 or x.shape[1] != layers[0][0].shape[1]:
            return None
        out = layers[-1][0].shape[0]
        if loss == "categorical_crossentropy":
            if y.dim() != 1 or y.dtype != torch.int64 or int(y.min()) < 0 or int(y.max()) >= out:
                return None
        elif y.dtype != torch.float32 or tuple(y.shape) != (x.shape[0], out):
            return None
        return cls(
            [tuple(layer) for layer in layers],
            "ce" if loss == "categorical_crossentropy" else "mse",
            batch_size,
            x.shape[0],
            l1,
            l2,
            two_threads,
        )

    def step_targets(self, yt, ys, batch_size: int, shuffle: bool) -> _StepTargets:
        """What each step's loss gradient reads (see :class:`_StepTargets`)."""
        return _StepTargets(self.loss, yt, ys, batch_size, self.outputs.shape[1], shuffle)

    def programs(self, x_batches, t_batches) -> list[list]:
        """Each step's forward and backward as a list of calls bound to fixed buffers.

        The batches are views of fit's preallocated (shuffled-in-place) buffers, so the same
        calls serve every epoch; a step is then ``for call in program: call()``, with no
        Python decisions, slicing or allocation between the arithmetic. A product whose
        result is narrow (fewer than 64 columns, fewer than rows, e.g. 256 × 15) is computed
        transposed — the math library vectorises along the long side, about 2× faster here —
        and used through a transposed view; the values are the same products. So are the activations
        of a big (inputs-major) layer for small batches (32 rows or fewer), and their gradients:
        the teach head's 16 × 1,280 → 100 product then splits over two threads (40 → 32 µs here;
        the same on one), and the ReLU derivative runs on one layout.
        """
        from functools import partial

        import torch

        aten = torch.ops.aten
        backward = {
            "relu": lambda d, y: partial(aten.threshold_backward.grad_input, d, y, 0.0, grad_input=d),
            "sigmoid": lambda d, y: partial(aten.sigmoid_backward.grad_input, d, y, grad_input=d),
            "tanh": lambda d, y: partial(aten.tanh_backward.grad_input, d, y, grad_input=d),
        }
        layers, last = self.layers, len(self.layers) - 1
        pool: dict = {}

        def buffer(key, rows: int, cols: int):
            """A (rows × cols) result buffer, and the call computing ``a @ b`` (+ bias) into it."""
            narrow = (cols < rows and cols < 64) or (rows <= 32 and self.inputs_major[key[2]])
            if key not in pool:
                pool[key] = torch.empty(cols, rows).t() if narrow else torch.empty(rows, cols)
            return pool[key], narrow

        def product(out, narrow: bool, a, b, bias=None):
            if narrow:  # outᵀ = bᵀ·aᵀ (+ bias as a column)
                if bias is None:
                    return partial(torch.mm, b.t(), a.t(), out=out.t())
                return partial(torch.addmm, bias[:, None], b.t(), a.t(), out=out.t())
            if bias is None:
                return partial(torch.mm, a, b, out=out)
            return partial(torch.addmm, bias, a, b, out=out)

        out, start = [], 0
        for xb, tb in zip(x_batches, t_batches):
            n = xb.shape[0]
            calls: list = []
            outs, ins, noises, a = [], [], [], xb
            for i, (wt, b, act, p) in enumerate(layers):  # forward: z = a·wᵀ + b, then the activation in place
                ins.append(a)
                if i == last:  # into the epoch's outputs (row-major), for its loss
                    z = self.outputs[start : start + n]
                    calls.append(product(z, False, a, wt, b))
                else:
                    z, narrow = buffer(("act", n, i), n, wt.shape[1])
                    calls.append(product(z, narrow, a, wt, b))
                if act is not None:
                    calls.append(getattr(z, act + "_"))
                outs.append(z)
                a = z
                noise = None
                if p:  # dropout as torch does it: a (rows × units) mask of bernoulli(1 − p) / (1 − p), times z
                    noise = pool.setdefault(("noise", n, i), torch.empty(n, wt.shape[1]))
                    a = pool.setdefault(("dropped", n, i), torch.empty(n, wt.shape[1]))
                    calls += [
                        partial(noise.bernoulli_, 1 - p),
                        partial(noise.div_, 1 - p),
                        partial(torch.mul, z, noise, out=a),
                    ]
                noises.append(noise)
            d = self.d_out[:n]  # d loss / d output, the loss averaged over the batch as torch does
            if self.loss == "ce":  # softmax / n − one-hot / n (tb holds −one-hot / n), as autograd's formula
                calls += [partial(torch.softmax, a, 1, out=d), partial(torch.add, tb, d, alpha=1.0 / n, out=d)]
            else:  # 2 (output − target) over the number of values
                calls += [partial(torch.sub, a, tb, out=d), partial(d.mul_, 2.0 / a.numel())]
            g = len(self.grads)
            for i in range(last, -1, -1):
                wt, b, act, _ = layers[i]
                if noises[i] is not None:  # d loss / d dropped output → d loss / d activation
                    calls.append(partial(d.mul_, noises[i]))
                if act is not None:
                    calls.append(backward[act](d, outs[i]))
                if b is not None:
                    g -= 1
                    calls.append(partial(torch.sum, d, 0, out=self.grads[g]))
                g -= 1
                below = ins[i]
                cols, rows = wt.shape
                if self.inputs_major[i]:  # gwᵀ = belowᵀ·d, in its place
                    calls.append(partial(torch.mm, below.t(), d, out=self.grads[g]))
                elif cols < rows and cols < 64:  # narrow: gwᵀ = belowᵀ·d, then copied into place
                    tmp = pool.setdefault(("grad", i), torch.empty(cols, rows))
                    calls += [partial(torch.mm, below.t(), d, out=tmp), partial(self.grads[g].copy_, tmp.t())]
                else:
                    calls.append(partial(torch.mm, d.t(), below, out=self.grads[g]))
                if i:
                    d_below, narrow = buffer(("delta", n, i - 1), n, wt.shape[0])
                    calls.append(product(d_below, narrow, d, wt.t()))
                    d = d_below
            for k in self._weight_positions():  # the l2 / l1 penalties' gradients (weights as trained)
                w, gw = self.params[k], self.grads[k]
                if self.l2:
                    calls.append(partial(gw.add_, w, alpha=2.0 * self.l2))
                if self.l1:
                    calls.append(partial(_add_sign, gw, w, self.l1))
            out.append(calls)
            start += n
        return out

    def _weight_positions(self) -> list[int]:
        """Where each layer's weight sits in :attr:`params` and :attr:`grads` (a bias follows it)."""
        out, g = [], 0
        for _, b, _, _ in self.layers:
            out.append(g)
            g += 2 if b is not None else 1
        return out

    def forward(self, x):
        """The model's output for ``x`` (no graph), for validation."""
        import torch

        a = x
        for wt, b, act, _ in self.layers:  # dropout is off when evaluating
            a = torch.addmm(b, a, wt) if b is not None else torch.mm(a, wt)
            if act is not None:
                getattr(a, act + "_")()
        return a

    def sync(self) -> None:
        """Copy the trained weights into the model's own (its biases are trained in place)."""
        for w, (wt, _, _, _), major in zip(self.model_weights, self.layers, self.inputs_major):
            if major:
                w.detach().copy_(wt.t())

    def epoch_loss(self, ys) -> float:
        import torch.nn.functional as F

        if self.loss == "ce":
            return float(F.cross_entropy(self.outputs, ys, reduction="sum")) / len(ys)
        return float(F.mse_loss(self.outputs, ys, reduction="sum")) / self.outputs.numel()


class _StepTargets:
    """The targets each dense step's loss gradient reads, in the epoch's shuffled order, as one
    view per batch (``batches``). For cross-entropy: the one-hot rows times −1/n (n the batch's
    size), so the gradient softmax/n − one-hot/n is one operation after the softmax; for mean
    squared error: the shuffled targets themselves."""

    def __init__(self, loss: str, yt, ys, batch_size: int, classes: int, shuffle: bool):
        import torch

        nt = yt.shape[0]
        self.index_select = torch.index_select
        if loss != "ce":
            self.buffer = None
            self.batches = ys.split(batch_size)
            return
        one_hot = torch.nn.functional.one_hot(yt, classes).float()
        last = nt % batch_size
        self.cut = nt - last
        self.one_hot = one_hot
        self.full = one_hot * (-1.0 / batch_size)  # every row scaled for a full batch
        self.last_scale = -1.0 / last if last else 0.0
        self.buffer = torch.empty_like(one_hot)
        self.batches = self.buffer.split(batch_size)
        self.shuffle(torch.arange(nt) if not shuffle else None)

    def shuffle(self, order) -> None:
        """Fill the buffer in this order (``None``: keep the order of the last fill)."""
        if self.buffer is None or order is None:
            return
        cut, buffer = self.cut, self.buffer
        self.index_select(self.full, 0, order[:cut], out=buffer[:cut])
        if cut < len(buffer):  # the short last batch: its own scale
            self.index_select(self.one_hot, 0, order[cut:], out=buffer[cut:])
            buffer[cut:].mul_(self.last_scale)


def _add_sign(grad, weight, scale: float) -> None:
    grad.add_(weight.sign(), alpha=scale)
