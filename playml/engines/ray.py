"""The Ray engine: run playml's work as Ray tasks, on this machine or on a cluster.

Ray is an optional extra (``pip install 'playml[ray]'``); nothing imports it until an
``engine="ray"`` call. :func:`connect` starts a local Ray (every CPU of this machine) when
no address is given and none is running, joins the cluster at ``address`` otherwise
(``"auto"``, ``"HOST:6379"`` or ``"ray://HOST:10001"``), and reuses a Ray this process
already started (``ray.init(...)`` before the call: its settings win).

The local Ray stays up for the rest of the process (starting one takes seconds), so
later ``engine="ray"`` calls are quick; ``ray.shutdown()`` stops it.
"""

from __future__ import annotations

from typing import Any

from playml.errors import DependencyError

__all__ = ["require_ray", "connect", "cpus"]

EXTRA = "pip install 'playml[ray]'"


def require_ray():
    """The ``ray`` module, with Ray Data (a :class:`DependencyError` naming the extra if missing)."""
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data is the part playml uses)
    except ImportError as e:
        raise DependencyError(
            f"engine='ray' needs Ray with Ray Data, which is not installed ({e.name or e}). Install the extra: {EXTRA}"
        ) from None
    return ray


def connect(address: str | None = None) -> Any:
    """Start or join Ray: ``None`` → a local Ray (or the one already running), else join ``address``."""
    ray = require_ray()
    if ray.is_initialized():
        return ray
    import logging

    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "configure_logging": True,
        "logging_level": logging.WARNING,
    }
    if address in (None, "", "local"):
        ray.init(**options)
    else:
        ray.init(address=str(address), **options)
    try:  # a quiet console: no per-operator progress bars from Ray Data
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
    except AttributeError:  # pragma: no cover (older Ray Data)
        pass
    return ray


def cpus() -> int:
    """CPUs of the Ray cluster this process is connected to."""
    ray = require_ray()
    return max(1, int(ray.cluster_resources().get("CPU", 1)))
