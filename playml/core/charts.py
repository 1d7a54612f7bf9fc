"""Pictures of what is going on inside: matplotlib figures, returned and not shown.

Every function returns a ``matplotlib.figure.Figure``; call ``fig.savefig("x.png")`` in a
script, or let a notebook display it.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class _HasMetrics(Protocol):  # a History, or anything with per-epoch metrics
    metrics: dict[str, list[float]]

__all__ = ["new_figure", "history_figure", "confusion_matrix_figure", "bar_figure"]


def new_figure(ncols: int = 1, *, width: float = 5.0, height: float = 3.6):
    """A figure with ``ncols`` side-by-side axes, made without touching pyplot's global state."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
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
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center",
                    color="white" if top and matrix[i, j] > top / 2 else "black")
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
