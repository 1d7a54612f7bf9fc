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

__all__ = ["Result", "Prediction", "Value", "Keypoint", "Detection", "to_builtin"]


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


class Result:
    """Mixin for result dataclasses: compact repr and ``to_dict()``."""

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


@dataclasses.dataclass(repr=False)
class Detection(Result):
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

    @property
    def x_max(self) -> float:
        return self.x + self.width

    @property
    def y_max(self) -> float:
        return self.y + self.height

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.width / 2, self.y + self.height / 2)

    def iou(self, other: "Detection") -> float:
        """Intersection over union of the two boxes (0 = apart, 1 = the same box)."""
        w = max(0.0, min(self.x_max, other.x_max) - max(self.x, other.x))
        h = max(0.0, min(self.y_max, other.y_max) - max(self.y, other.y))
        inter = w * h
        union = self.width * self.height + other.width * other.height - inter
        return inter / union if union > 0 else 0.0
