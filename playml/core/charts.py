"""Pictures of what is going on inside: charts, returned and not shown.

Every chart playml returns is a :class:`Chart`: a ``matplotlib.figure.Figure`` that also
displays itself in a notebook (Jupyter, JupyterLab, VS Code) with no ``%matplotlib`` magic,
and has ``.save(path)`` and ``.show()`` for scripts. ``chart.figure`` is the figure itself.

>>> fig, (ax,) = new_figure(1)
>>> _ = ax.plot([1, 2, 3])
>>> type(fig).__name__, fig._repr_png_()[:4] == b"\\x89PNG"
('Chart', True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class _HasMetrics(Protocol):  # a History, or anything with per-epoch metrics
    metrics: dict[str, list[float]]


__all__ = [
    "Chart",  # noqa: F822  (Chart comes from the module's __getattr__)
    "chart_class",
    "in_notebook",
    "new_figure",
    "history_figure",
    "confusion_matrix_figure",
    "bar_figure",
]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (Jupyter, JupyterLab, VS Code notebooks)."""
    import sys

    if "IPython" not in sys.modules:
        return False
    try:
        from IPython import get_ipython

        shell = get_ipython()
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:  # noqa: BLE001 - an odd IPython: treat as no notebook
        return False


_CHART_CLASS = None


def chart_class():
    """The :class:`Chart` class (made on first use, so ``import playml`` never imports matplotlib)."""
    global _CHART_CLASS
    if _CHART_CLASS is not None:
        return _CHART_CLASS
    from matplotlib.figure import Figure

    class Chart(Figure):
        """A matplotlib figure that shows itself in notebooks and saves in one call.

        In a notebook, leave it as the last line of a cell (or ``display(chart)``); in a script,
        ``chart.save("chart.png")`` or ``chart.show()`` (a window, where there is a display).
        """

        dpi_png = 100

        def _repr_png_(self) -> bytes:
            import io

            buf = io.BytesIO()
            self.savefig(buf, format="png", dpi=self.dpi_png)
            return buf.getvalue()

        def __repr__(self) -> str:
            w, h = self.get_size_inches() * self.dpi
            return f"<Chart {int(w)}x{int(h)} with {len(self.axes)} axes: .save(path), .show()>"

        def save(self, path, *, dpi: int = 120):
            """Write the chart to ``path`` (.png, .svg, .pdf… by its extension); returns the path."""
            from pathlib import Path

            path = Path(path)
            self.savefig(path, dpi=dpi)
            return path

        def show(self, warn: bool = True) -> None:  # noqa: ARG002 - same signature as Figure.show
            """Display the chart: inline in a notebook, in a window in a script (where there is one)."""
            if in_notebook():
                from IPython.display import display

                display(self)
                return
            import matplotlib
            import matplotlib.pyplot as plt
            from matplotlib import _pylab_helpers

            backend = matplotlib.get_backend().lower()
            if backend in ("agg", "pdf", "svg", "ps", "cairo", "template"):
                print(
                    f"(no window can open here: matplotlib's backend is {backend!r}; "
                    "use chart.save('chart.png') instead)"
                )
                return
            num = max(plt.get_fignums(), default=0) + 1  # give pyplot a window for this figure
            manager = plt._get_backend_mod().new_figure_manager_given_figure(num, self)
            _pylab_helpers.Gcf._set_new_active_manager(manager)
            plt.show()

    Chart.__module__ = __name__
    _CHART_CLASS = Chart
    return Chart


def __getattr__(name: str):  # ``playml.core.charts.Chart`` without importing matplotlib up front
    if name == "Chart":
        return chart_class()
    raise AttributeError(name)


def new_figure(ncols: int = 1, *, width: float = 5.0, height: float = 3.6):
    """A :class:`Chart` with ``ncols`` side-by-side axes, made without touching pyplot's global state."""
    fig = chart_class()(figsize=(width * ncols, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def history_figure(history: _HasMetrics, title: str | None = None):
    """Loss (left) and accuracy (right, if recorded) per epoch, training and validation."""
    m = history.metrics
    has_acc = "accuracy" in m or "val_accuracy" in m
    fig, axes = new_figure(2 if has_acc else 1)
    panels = [("loss", axes[0])] + ([("accuracy", axes[1])] if has_acc else [])
    for name, ax in panels:
        for key, style, label in ((name, "-", "training"), (f"val_{name}", "--", "validation")):
            if key in m and m[key]:
                ax.plot(range(1, len(m[key]) + 1), m[key], style, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if has_acc:
        axes[1].set_ylim(-0.02, 1.02)
    if title:
        fig.suptitle(title)
    return fig


def confusion_matrix_figure(matrix: np.ndarray, labels: Sequence[str], *, ax=None, title: str = "confusion matrix"):
    """Rows are the true labels, columns the predicted ones; cells show counts."""
    matrix = np.asarray(matrix)
    fig = None
    if ax is None:
        fig, (ax,) = new_figure(1, width=1.2 + 0.6 * len(labels), height=1.0 + 0.6 * len(labels))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    top = matrix.max() if matrix.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                color="white" if top and matrix[i, j] > top / 2 else "black",
            )
    return fig if fig is not None else ax.figure


def bar_figure(values: dict[str, float], *, ax=None, title: str = "", ylabel: str = "", ylim=(0, 1)):
    """A labelled bar chart, e.g. per-class accuracy."""
    fig = None
    if ax is None:
        fig, (ax,) = new_figure(1)
    names = list(values)
    ax.bar(range(len(names)), [values[k] for k in names], color="#4c72b0")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    if ylim:
        ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig if fig is not None else ax.figure
