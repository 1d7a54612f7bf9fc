"""playml studio: teach and explore in the browser, served from your own computer.

>>> import playml as ml
>>> s = ml.studio()            # doctest: +SKIP
playml studio is running at http://127.0.0.1:51234/?token=…
>>> s.url, s.stop()            # doctest: +SKIP

The browser is the screen and the camera; playml does the learning; nothing leaves the
machine. The server listens on 127.0.0.1 only (unless ``host`` says otherwise) and every
request needs the random token in the printed address.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["studio", "Studio"]

_WILDCARDS = {"0.0.0.0", "::", ""}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    from playml.errors import InputError

    name = host.strip("[]")
    family = socket.AF_INET6 if ":" in name else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP. Without it
    # every answer on a kept-alive connection waits ~40 ms (Nagle's algorithm meets delayed ACKs).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((name, port))
    except OSError as e:
        sock.close()
        raise InputError(
            f"The studio cannot listen on {host}:{port} ({e.strerror}). Pick another port with "
            "--port, or leave it out to use a free one."
        ) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    ip = getattr(shell, "get_ipython", lambda: None)() if shell else None
    return ip is not None and "ipykernel" in sys.modules


class Studio:
    """A running studio server: ``.url`` (with the token), ``.stop()``, ``.wait()``."""

    def __init__(self, app, server, sock: socket.socket, thread: threading.Thread, url: str):
        self.app = app
        self.url = url
        self._server = server
        self._socket = sock
        self._thread = thread

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the server's socket is bound to."""
        return self._socket.getsockname()[:2]

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def token(self) -> str:
        return self.app.state.access.token

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (open pages lose their connection)."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self._socket.close()

    def wait(self) -> None:
        """Block until the server stops (Ctrl+C stops it)."""
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            self.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"Studio(url={self.url!r}, {state})"

    def _repr_html_(self) -> str:
        import html

        return (
            f"<p>playml studio is {'running' if self.running else 'stopped'}: "
            f'<a href="{html.escape(self.url)}" target="_blank">{html.escape(self.url)}</a></p>'
        )


IDLE_SECONDS = 5  # a connection that sends no request for this long is closed


def _idle_closing():
    """uvicorn's HTTP protocol, but a connection that never sends a request is closed too
    (uvicorn times out only idle connections that have had a response)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class IdleClosingH11(H11Protocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    return IdleClosingH11


def studio(
    host: str = "127.0.0.1",
    port: int = 0,
    open_browser: bool = True,
    *,
    models_dir: str | Path = "playml-models",
    block: bool | None = None,
    token: str | None = None,
    quiet: bool = False,
    extractor: Any = None,
) -> Studio:
    """Start playml studio and open it in the browser.

    ``port=0`` picks a free port. In a notebook it runs in the background and returns a
    :class:`Studio` (``.url``, ``.stop()``); in a script or the terminal it blocks until
    Ctrl+C (``block=False`` returns at once). Models are saved to and opened from
    ``models_dir``. Listening on another address than 127.0.0.1 (``host='0.0.0.0'``) lets
    other computers on the network in — with the token — and prints a warning.

    >>> s = ml.studio(open_browser=False, block=False)   # doctest: +SKIP
    >>> s.stop()                                          # doctest: +SKIP
    """
    import uvicorn

    from playml.web.app import create_app
    from playml.web.security import MAX_FRAME_BYTES

    loopback = _is_loopback(host)
    if not loopback and not quiet:
        print(
            f"Warning: the studio listens on {host}, so other computers on the network can reach it. Anyone "
            "with the address and its token can use this computer's camera pictures and models. Use the "
            "default (127.0.0.1) unless you need this.",
            file=sys.stderr,
        )
    from playml.web.live import limit_malloc_arenas

    limit_malloc_arenas()
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    app = create_app(
        token=token,
        models_dir=models_dir,
        port=bound_port,
        hosts=() if loopback or host in _WILDCARDS else (host,),
        any_host=host in _WILDCARDS,
        extractor=extractor,
    )
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        server_header=False,
        http=_idle_closing(),
        timeout_keep_alive=IDLE_SECONDS,
        ws_max_size=MAX_FRAME_BYTES + 1024,
        ws_per_message_deflate=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="playml-studio", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    shown = "127.0.0.1" if host in _WILDCARDS else (f"[{host}]" if ":" in host.strip("[]") else host)
    url = f"http://{shown}:{bound_port}/?token={app.state.access.token}"
    handle = Studio(app, server, sock, thread, url)
    if not quiet:
        print(
            f"playml studio is running at {url}\nModels are saved in {Path(models_dir).resolve()}. "
            + ("Stop it with Ctrl+C." if block is not False and not _in_notebook() else "Stop it with .stop()."),
            flush=True,
        )
    if open_browser:
        import webbrowser

        try:
            webbrowser.open(url)
        except Exception:  # noqa: BLE001 - no browser here: the printed address still works
            pass
    if block is None:
        block = not _in_notebook()
    if block:
        handle.wait()
    return handle
