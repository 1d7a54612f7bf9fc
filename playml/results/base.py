"""Small result objects that playml's tasks return.

They print readably, allow attribute access, and turn into plain dictionaries with
``.to_dict()`` (ready for ``json.dumps``). Lists of them come sorted best-first.

>>> from playml.results import Prediction
>>> p = Prediction(label="espresso", confidence=0.953)
>>> p
Prediction(label='espresso', confidence=0.953)
>>> p.to_dict()
{'label': 'espresso', 'confidence': 0.953}
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = [
    "Result",
    "Prediction",
    "Predictions",
    "Value",
    "Keypoint",
    "Detection",
    "Text",
    "to_builtin",
    "html_table",
    "confidence_bars",
    "png_html",
]


def to_builtin(value: Any) -> Any:
    """Turn results, NumPy values and containers into JSON-ready Python objects."""
    if isinstance(value, Result):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_builtin(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy arrays and scalars, torch tensors
        return value.tolist()
    return value


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.1f}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"<array {'x'.join(map(str, value.shape))} {value.dtype}>"
    if isinstance(value, list) and len(value) > 4:
        return f"[{_short(value[0])}, {_short(value[1])}, … {len(value)} items]"
    return repr(value)


def _esc(value: Any) -> str:
    import html

    return html.escape(str(value))


def html_table(rows: list[list[Any]], header: list[str] | None = None, *, title: str | None = None) -> str:
    """A small HTML table (cells escaped) for notebook reprs."""
    head = "".join(f"<th style='text-align:left;padding:0 8px'>{_esc(h)}</th>" for h in header or [])
    body = "".join("<tr>" + "".join(f"<td style='padding:0 8px'>{_esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    caption = f"<b>{_esc(title)}</b>" if title else ""
    return f"<div>{caption}<table>{'<tr>' + head + '</tr>' if head else ''}{body}</table></div>"


def confidence_bars(items: list[tuple[str, float]]) -> str:
    """HTML: one labelled bar per (label, confidence 0–1), like Teachable Machine's preview."""
    rows = []
    for label, conf in items:
        pct = max(0.0, min(1.0, float(conf))) * 100
        rows.append(
            "<div style='display:flex;align-items:center;gap:8px;margin:2px 0;font-family:sans-serif'>"
            f"<span style='width:12em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap'>{_esc(label)}</span>"
            "<span style='flex:0 0 14em;background:#e8e8e8;height:1em;border-radius:3px'>"
            f"<span style='display:block;width:{pct:.1f}%;height:100%;background:#e67e22;border-radius:3px'></span></span>"
            f"<span style='width:4em;text-align:right'>{pct:.1f}%</span></div>"
        )
    return "<div>" + "".join(rows) + "</div>"


def png_html(chart: Any) -> str:
    """An ``<img>`` tag holding a chart (anything with ``_repr_png_``) as inline PNG."""
    import base64

    data = base64.b64encode(chart._repr_png_()).decode("ascii")
    return f"<img src='data:image/png;base64,{data}' style='max-width:100%'/>"


class Text(str):
    """A string that prints as itself (no quotes, real line breaks) and renders as Markdown in notebooks.

    >>> Text("# iris\\n\\n150 rows")
    # iris
    <BLANKLINE>
    150 rows
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return str(self)


class Result:
    """Mixin for result dataclasses: compact repr, an HTML table in notebooks and ``to_dict()``."""

    def _repr_html_(self) -> str | None:
        if hasattr(self, "_repr_markdown_"):
            return None  # cards render as Markdown
        rows = [
            [f.name, _short(getattr(self, f.name))]
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if f.repr and not (getattr(self, f.name) is None and f.default is None)
        ]
        return html_table(rows, title=type(self).__name__)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_builtin(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if not f.repr:
                continue
            v = getattr(self, f.name)
            if v is None and f.default is None:
                continue
            parts.append(f"{f.name}={_short(v)}")
        return f"{type(self).__name__}({', '.join(parts)})"


@dataclasses.dataclass(repr=False)
class Prediction(Result):
    """One label and how confident the model is about it (0–1)."""

    label: str
    confidence: float

    def _repr_html_(self) -> str:
        return confidence_bars([(self.label, self.confidence)])


class Predictions(list):
    """A list of :class:`Prediction`, best first, drawn as confidence bars in a notebook.

    It is a plain ``list`` in every other way.

    >>> Predictions([Prediction("cat", 0.9), Prediction("dog", 0.1)])[0].label
    'cat'
    """

    __slots__ = ()

    def _repr_html_(self) -> str | None:
        items = [(p.label, p.confidence) for p in self if isinstance(p, Prediction)]
        return confidence_bars(items) if len(items) == len(self) else None


@dataclasses.dataclass(repr=False)
class Value(Result):
    """One predicted number for a named output (regression)."""

    label: str
    value: float


@dataclasses.dataclass(repr=False)
class Keypoint(Result):
    """A named point in pixels of the input image; ``z`` where the model gives depth."""

    name: str
    x: float
    y: float
    confidence: float | None = None
    z: float | None = None


class Rectangle:
    """Mixin: the geometry of a rectangle given by ``x``, ``y`` (top-left), ``width`` and ``height``."""

    x: float
    y: float
    width: float
    height: float

    @property
    def x_max(self) -> float:
        return self.x + self.width

    @property
    def y_max(self) -> float:
        return self.y + self.height

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.width / 2, self.y + self.height / 2)


@dataclasses.dataclass(repr=False)
class Detection(Rectangle, Result):
    """One object found in an image: its label, confidence (0–1) and box in pixels.

    ``(x, y)`` is the box's top-left corner; the shape matches ml5.js's object detector
    (``{label, confidence, x, y, width, height}``).
    """

    label: str
    confidence: float
    x: float
    y: float
    width: float
    height: float

    def iou(self, other: "Detection") -> float:
        """Intersection over union of the two boxes (0 = apart, 1 = the same box)."""
        w = max(0.0, min(self.x_max, other.x_max) - max(self.x, other.x))
        h = max(0.0, min(self.y_max, other.y_max) - max(self.y, other.y))
        inter = w * h
        union = self.width * self.height + other.width * other.height - inter
        return inter / union if union > 0 else 0.0
