"""Progress bars that suit where they are shown.

- in a notebook: a widget bar when ipywidgets is installed, else a text bar (never the
  "IProgress not found" warning of ``tqdm.auto``);
- in a terminal: a tqdm bar on stderr;
- when stderr is not a terminal (piped, redirected, a CI log): no bar at all, so logs
  hold plain lines only.

>>> bar = progress_bar(total=3, desc="demo", enabled=False)
>>> bar.update(1); bar.close()
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["progress_bar", "interactive_stderr"]


class _NoBar:
    """Stands in for a tqdm bar when none should be drawn."""

    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass

    def set_postfix_str(self, *args: Any, **kwargs: Any) -> None:
        pass

    def set_description(self, *args: Any, **kwargs: Any) -> None:
        pass

    def write(self, text: str) -> None:
        print(text, file=sys.stderr)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def interactive_stderr() -> bool:
    """True when stderr is a terminal."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def progress_bar(
    total: int | None = None, *, desc: str | None = None, unit: str = "it", leave: bool = True, enabled: bool = True
):
    """A tqdm bar, or a silent stand-in when it would only clutter (see the module docs)."""
    from playml.core.charts import in_notebook

    if not enabled:
        return _NoBar()
    if in_notebook():
        try:
            import ipywidgets  # noqa: F401
            from tqdm.notebook import tqdm
        except ImportError:
            from tqdm.std import tqdm
        return tqdm(total=total, desc=desc, unit=unit, leave=leave, file=sys.stderr)
    if not interactive_stderr():
        return _NoBar()
    from tqdm.std import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=leave)
