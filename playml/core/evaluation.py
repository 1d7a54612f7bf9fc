"""How well does a classifier do on examples it did not learn from?

An :class:`EvaluationReport` holds the accuracy, the accuracy of each label and the
confusion matrix (which label was taken for which), prints as text, and draws itself.

>>> from playml.core.evaluation import EvaluationReport
>>> report = EvaluationReport.from_labels(["cat", "cat", "dog", "dog"], ["cat", "dog", "dog", "dog"])
>>> report
EvaluationReport(accuracy=0.75, examples=4, labels=['cat', 'dog'])
>>> report.per_class
{'cat': 0.5, 'dog': 1.0}
>>> print(report.to_text())                        # doctest: +NORMALIZE_WHITESPACE
accuracy 75.0% (3 of 4 right)
<BLANKLINE>
label  examples  accuracy
-----  --------  --------
cat    2            50.0%
dog    2           100.0%
<BLANKLINE>
confusion matrix (rows: true label, columns: predicted)
       cat  dog
cat      1    1
dog      0    2
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from playml.core.reprs import build_repr
from playml.errors import DataError
from playml.results import Result, to_builtin

__all__ = ["EvaluationReport", "RegressionReport", "AnomalyReport"]


@dataclasses.dataclass(repr=False)
class EvaluationReport(Result):
    """Accuracy overall and per label, and the confusion matrix.

    ``confusion[i, j]`` counts examples of ``labels[i]`` that were predicted as
    ``labels[j]``. ``per_class[label]`` is the share of that label's examples predicted
    right (``nan`` for a label with no examples here).
    """

    accuracy: float
    examples: int
    labels: list
    per_class: dict = dataclasses.field(repr=False)
    confusion: np.ndarray = dataclasses.field(repr=False)

    @classmethod
    def from_labels(
        cls, true: Sequence[Any], predicted: Sequence[Any], labels: Sequence[Any] | None = None
    ) -> EvaluationReport:
        """Build a report from the true and the predicted label of each example."""
        true, predicted = list(true), list(predicted)
        if len(true) != len(predicted):
            raise DataError(f"There are {len(true)} true labels but {len(predicted)} predictions.")
        if not true:
            raise DataError("There is nothing to evaluate: no examples.")
        if labels is None:
            labels = list(dict.fromkeys(sorted(set(true) | set(predicted), key=str)))
        labels = list(labels)
        index = {label: i for i, label in enumerate(labels)}
        unknown = sorted({str(v) for v in [*true, *predicted] if v not in index})
        if unknown:
            raise DataError(f"These labels are not among the model's labels {labels}: {', '.join(unknown)}.")
        return cls.from_codes(np.array([index[v] for v in true]), np.array([index[v] for v in predicted]), labels)

    @classmethod
    def from_codes(cls, true: np.ndarray, predicted: np.ndarray, labels: Sequence[Any]) -> EvaluationReport:
        """Build a report from label positions (``0 … len(labels) - 1``)."""
        k = len(labels)
        true, predicted = np.asarray(true, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
        confusion = np.bincount(true * k + predicted, minlength=k * k).reshape(k, k)
        totals = confusion.sum(axis=1)
        per_class = {
            label: float(confusion[i, i] / totals[i]) if totals[i] else float("nan") for i, label in enumerate(labels)
        }
        n = int(confusion.sum())
        return cls(
            accuracy=float(np.trace(confusion) / n) if n else float("nan"),
            examples=n,
            labels=list(labels),
            per_class=per_class,
            confusion=confusion,
        )

    @property
    def counts(self) -> dict:
        """Examples of each label in the evaluated data."""
        return {label: int(c) for label, c in zip(self.labels, self.confusion.sum(axis=1))}

    def __repr__(self) -> str:
        return build_repr(
            "EvaluationReport", accuracy=float(self.accuracy), examples=self.examples, labels=list(self.labels)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "examples": self.examples,
            "labels": to_builtin(self.labels),
            "per_class": {str(k): v for k, v in self.per_class.items()},
            "counts": {str(k): v for k, v in self.counts.items()},
            "confusion": self.confusion.tolist(),
        }

    def to_text(self) -> str:
        """The report as plain text: accuracy, a per-label table and the confusion matrix."""
        names = [str(label) for label in self.labels]
        right = int(np.trace(self.confusion))
        lines = [f"accuracy {100 * self.accuracy:.1f}% ({right} of {self.examples} right)", ""]
        w = max(5, *(len(n) for n in names))
        lines.append(f"{'label':<{w}}  examples  accuracy")
        lines.append(f"{'-' * w}  --------  --------")
        for name, label in zip(names, self.labels):
            acc = self.per_class[label]
            shown = "       –" if np.isnan(acc) else f"{100 * acc:7.1f}%"
            lines.append(f"{name:<{w}}  {self.counts[label]:>8}  {shown}")
        lines += ["", "confusion matrix (rows: true label, columns: predicted)"]
        cell = max(4, *(len(n) for n in names), len(str(int(self.confusion.max(initial=0)))))
        lines.append(" " * w + "".join(f"  {n:>{cell}}" for n in names))
        for name, row in zip(names, self.confusion):
            lines.append(f"{name:<{w}}" + "".join(f"  {int(v):>{cell}}" for v in row))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def plot(self, title: str | None = None):
        """The confusion matrix (left) and the accuracy of each label (right), as a matplotlib Figure."""
        from playml.core.charts import bar_figure, confusion_matrix_figure, new_figure

        k = len(self.labels)
        fig, axes = new_figure(2, width=max(4.0, 1.4 + 0.6 * k), height=max(3.6, 1.6 + 0.5 * k))
        names = [str(label) for label in self.labels]
        confusion_matrix_figure(self.confusion, names, ax=axes[0])
        bar_figure(
            {n: (0.0 if np.isnan(v) else v) for n, v in zip(names, self.per_class.values())},
            ax=axes[1],
            title="accuracy per label",
            ylabel="accuracy",
        )
        fig.suptitle(title or f"accuracy {100 * self.accuracy:.1f}% on {self.examples} examples")
        return fig

    def _repr_html_(self) -> str:  # notebooks: accuracy bars per label, the confusion matrix, the chart
        from playml.results import confidence_bars, html_table, png_html

        right = int(np.trace(self.confusion))
        head = f"<b>accuracy {100 * self.accuracy:.1f}%</b> ({right} of {self.examples} right)"
        bars = confidence_bars(
            [(f"{label} ({self.counts[label]})", 0.0 if np.isnan(v) else v) for label, v in self.per_class.items()]
        )
        names = [str(label) for label in self.labels]
        matrix = html_table(
            [[n, *map(int, row)] for n, row in zip(names, self.confusion)],
            ["true \\ predicted", *names],
            title="confusion matrix",
        )
        chart = png_html(self.plot()) if len(self.labels) <= 30 else ""
        return f"<div>{head}<p>accuracy per label</p>{bars}{matrix}{chart}</div>"


@dataclasses.dataclass(repr=False)
class RegressionReport(Result):
    """How close predicted numbers are to the true ones: mean absolute error, root mean
    squared error and R² (1 is perfect, 0 is no better than always guessing the mean)."""

    mae: float
    rmse: float
    r2: float
    examples: int

    @classmethod
    def from_values(cls, true: Any, predicted: Any) -> RegressionReport:
        t = np.asarray(true, dtype=np.float64).reshape(len(true), -1)
        p = np.asarray(predicted, dtype=np.float64).reshape(t.shape)
        if len(t) == 0:
            raise DataError("There is nothing to evaluate: no examples.")
        err = p - t
        spread = ((t - t.mean(axis=0)) ** 2).sum()
        r2 = float(1 - (err**2).sum() / spread) if spread > 0 else float("nan")
        return cls(mae=float(np.abs(err).mean()), rmse=float(np.sqrt((err**2).mean())), r2=r2, examples=len(t))

    def to_text(self) -> str:
        return (
            f"mean absolute error {self.mae:.4g}, root mean squared error {self.rmse:.4g}, "
            f"R² {self.r2:.3f} ({self.examples} examples)"
        )

    def __str__(self) -> str:
        return self.to_text()


@dataclasses.dataclass(repr=False)
class AnomalyReport(Result):
    """How well a threshold on the reconstruction error separates anomalies from normal examples.

    ``precision``: of the examples flagged, the share that are anomalies. ``recall`` (= ``tpr``,
    true-positive rate): of the anomalies, the share flagged. ``fpr`` (false-positive rate): of
    the normal examples, the share wrongly flagged. ``roc_auc`` does not depend on the
    threshold: the chance that a random anomaly scores higher than a random normal example.

    >>> import numpy as np
    >>> r = AnomalyReport.from_scores(np.array([0.1, 0.2, 0.9, 0.3]), np.array([0, 0, 1, 1]), threshold=0.25)
    >>> r.tp, r.fp, r.fn, r.tn, r.roc_auc
    (2, 0, 0, 2, 1.0)
    >>> r.at(0.5).recall
    0.5
    """

    threshold: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    fpr: float
    roc_auc: float | None
    tp: int
    fp: int
    tn: int
    fn: int
    scores: np.ndarray = dataclasses.field(repr=False, default=None)  # type: ignore[arg-type]
    is_anomaly: np.ndarray = dataclasses.field(repr=False, default=None)  # type: ignore[arg-type]

    @property
    def tpr(self) -> float:
        """True-positive rate: the share of anomalies flagged (the same as ``recall``)."""
        return self.recall

    @classmethod
    def from_scores(cls, scores: Any, is_anomaly: Any, threshold: float) -> AnomalyReport:
        """Build a report from anomaly scores, the true answers and a threshold (flag ``score >= threshold``)."""
        from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

        s = np.asarray(scores, dtype=np.float64).ravel()
        truth = np.asarray(is_anomaly).astype(bool).ravel()
        pred = s >= threshold
        tn, fp, fn, tp = (int(v) for v in confusion_matrix(truth, pred, labels=[False, True]).ravel())
        p, r, f, _ = precision_recall_fscore_support(truth, pred, average="binary", pos_label=True, zero_division=0.0)
        auc = float(roc_auc_score(truth, s)) if 0 < truth.sum() < len(truth) else None
        return cls(
            threshold=float(threshold),
            accuracy=(tp + tn) / max(len(s), 1),
            precision=float(p),
            recall=float(r),
            f1=float(f),
            fpr=fp / max(fp + tn, 1),
            roc_auc=auc,
            tp=tp,
            fp=fp,
            tn=tn,
            fn=fn,
            scores=s,
            is_anomaly=truth,
        )

    def at(self, threshold: float) -> AnomalyReport:
        """The same examples judged with another threshold (for trying thresholds out)."""
        return type(self).from_scores(self.scores, self.is_anomaly, threshold)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in super().to_dict().items() if k not in ("scores", "is_anomaly")}
        out["tpr"] = self.tpr
        return out

    def plot(self, *, bins: int = 50, title: str | None = None):
        """Histogram of errors (normal vs anomalous) with the threshold, and the ROC curve with
        the operating point. Returns a matplotlib ``Figure``."""
        from sklearn.metrics import roc_curve

        from playml.core.charts import new_figure

        fig, (ax, ax2) = new_figure(2)
        s, truth = self.scores, self.is_anomaly
        top = max(float(np.quantile(s, 0.995)), self.threshold) * 1.05 if len(s) else 1.0
        edges = np.linspace(float(s.min(initial=0.0)), top, bins + 1)
        for mask, name, color in ((~truth, "normal", "#4c72b0"), (truth, "anomaly", "#dd8452")):
            if mask.any():
                ax.hist(
                    np.clip(s[mask], None, top), bins=edges, alpha=0.6, color=color, label=f"{name} ({int(mask.sum())})"
                )
        ax.axvline(self.threshold, color="black", linestyle="--", label=f"threshold {self.threshold:.4g}")
        ax.set_xlabel("reconstruction error")
        ax.set_ylabel("examples")
        ax.set_title("error of normal vs anomalous examples")
        ax.legend()
        if truth.any() and not truth.all():
            fpr, tpr, _ = roc_curve(truth, s)
            ax2.plot(fpr, tpr, color="#4c72b0", label=f"ROC (AUC {self.roc_auc:.3f})")
        ax2.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
        ax2.plot(
            [self.fpr], [self.tpr], "o", color="#c44e52", label=f"threshold: TPR {self.tpr:.2f}, FPR {self.fpr:.2f}"
        )
        ax2.set_xlabel("false-positive rate")
        ax2.set_ylabel("true-positive rate")
        ax2.set_xlim(-0.02, 1.02)
        ax2.set_ylim(-0.02, 1.02)
        ax2.set_title("ROC curve")
        ax2.legend(loc="lower right")
        if title:
            fig.suptitle(title)
        return fig
