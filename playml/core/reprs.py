"""The one way playml builds the ``repr`` of its tasks and reports.

``ClassName(key=value, ...)`` with values shown alike everywhere: text quoted, floats with
four significant digits, long lists cut to their first items and a count, and fields that
are ``None`` left out.

>>> build_repr("ImageClassification", backbone="efficientnet-lite0", labels=[f"c{i}" for i in range(10)])
"ImageClassification(backbone='efficientnet-lite0', labels=['c0', 'c1', 'c2', 'c3', 'c4', … 10 in all])"
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_repr", "show_value"]

_SHOWN_ITEMS = 5


def plural(n: int, word: str, many: str | None = None) -> str:
    """``plural(1, "label")`` → ``"1 label"``; ``plural(3, "label")`` → ``"3 labels"``.

    Every count a message shows goes through it ("1 labels" reads as a bug)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def show_value(value: Any) -> str:
    """One value as it appears in a repr."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        items = [show_value(v) for v in value[:_SHOWN_ITEMS]]
        if len(value) > _SHOWN_ITEMS + 1:
            items.append(f"… {len(value)} in all")
        elif len(value) == _SHOWN_ITEMS + 1:
            items.append(show_value(value[-1]))
        return "[" + ", ".join(items) + "]"
    return repr(value)


def build_repr(name: str, **fields: Any) -> str:
    """``name(field=value, ...)``, leaving out fields whose value is ``None``."""
    return f"{name}(" + ", ".join(f"{k}={show_value(v)}" for k, v in fields.items() if v is not None) + ")"
