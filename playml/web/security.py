"""Guards for a local server that sees a camera.

* a random **token** is required on every HTTP request and WebSocket: ``?token=…`` in the
  address (opening the page with it sets a cookie and redirects to the address without it),
  the cookie, or an ``X-Playml-Token`` / ``Authorization: token …`` header — like Jupyter;
* the **Host** header must name this computer (``127.0.0.1``, ``localhost``, ``[::1]``) and
  this server's port, which defeats DNS rebinding; an **Origin** header, when present, must
  be this same address, so other web sites cannot drive the studio;
* request bodies larger than :data:`MAX_UPLOAD_BYTES` are refused with 413, images larger
  than :data:`MAX_IMAGE_SIDE` pixels on a side with 400;
* model directories are named, never given as paths: :func:`model_path` keeps them inside
  the models directory.
"""

from __future__ import annotations

import hmac
import http.cookies
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = [
    "new_token",
    "Access",
    "Guard",
    "MAX_UPLOAD_BYTES",
    "MAX_FRAME_BYTES",
    "MAX_IMAGE_SIDE",
    "MAX_IMAGE_PIXELS",
    "LOOPBACK_NAMES",
    "BadRequest",
    "model_path",
    "decode_image",
]

#: Largest request body (one upload of several photos), in bytes.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
#: Largest webcam frame sent over the live WebSocket, in bytes.
MAX_FRAME_BYTES = 2 * 1024 * 1024
#: Longest side and most pixels of an image the studio decodes.
MAX_IMAGE_SIDE = 8192
MAX_IMAGE_PIXELS = 40_000_000
#: Host names that mean "this computer".
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")


class BadRequest(ValueError):
    """A request the studio refuses, with the HTTP status to answer and a message in words."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def new_token() -> str:
    """A random, URL-safe token (32 bytes of entropy)."""
    return secrets.token_urlsafe(32)


def model_path(models_dir: str | Path, name: Any) -> Path:
    """``models_dir / name`` for a plain model name; anything path-like raises :class:`BadRequest`.

    >>> model_path("/tmp/models", "cats-vs-dogs").name
    'cats-vs-dogs'
    """
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name or name.strip() != name:
        raise BadRequest(
            "A model name may use letters, digits, spaces, '-', '_' and '.', must start with a "
            "letter or digit and be at most 64 characters (no folders, no '..')."
        )
    root = Path(models_dir).resolve()
    path = (root / name).resolve()
    if path.parent != root:
        raise BadRequest("That model name points outside the models folder.")
    return path


async def json_body(request: Any, *, allow_empty: bool = False) -> dict[str, Any]:
    """The JSON object a request carries; anything else (not JSON, nested too deeply, not an
    object) raises :class:`BadRequest`. With ``allow_empty`` an empty body is ``{}``."""
    if allow_empty and not await request.body():
        return {}
    try:
        data = await request.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deeply
        raise BadRequest("The request body must be JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


def decode_image(data: bytes, draft_size: tuple[int, int] | None = None):
    """The bytes of an uploaded image → an H×W×3 uint8 array, refusing huge or broken images.

    ``draft_size`` lets a JPEG decode at 1/2, 1/4 or 1/8 of its size when that is still at
    least this big (much faster; for models that shrink the picture anyway)."""
    import io
    import warnings

    from PIL import Image, UnidentifiedImageError

    from playml.core.media import load_image

    if not data:
        raise BadRequest("The image is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if max(w, h) > MAX_IMAGE_SIDE or w * h > MAX_IMAGE_PIXELS:
                raise BadRequest(
                    f"The image is {w}×{h} pixels; the studio takes images up to {MAX_IMAGE_SIDE} "
                    f"pixels on a side and {MAX_IMAGE_PIXELS // 1_000_000} million pixels. Make it "
                    "smaller first."
                )
            if draft_size is not None and img.format == "JPEG":
                img.draft("RGB", draft_size)
            if draft_size is None:
                from PIL import ImageOps

                img = ImageOps.exif_transpose(img)  # type: ignore[assignment]  # sideways photos stand up
            return load_image(img)
    except BadRequest:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as e:
        kind = (
            "is cut short or damaged"
            if isinstance(e, OSError) and "truncated" in str(e).lower()
            else ("is not an image the studio can read")
        )
        raise BadRequest(f"This file {kind}. Use a JPEG, PNG, GIF, BMP or WebP image.") from None


def _split_host(value: str) -> tuple[str, int | None]:
    """``'127.0.0.1:8000'`` → ``('127.0.0.1', 8000)``; ``'[::1]:80'`` → ``('::1', 80)``."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = value.partition(":")
    try:
        return name, int(port) if port else None
    except ValueError:
        return "", None


@dataclass
class Access:
    """Who may use the studio: the token, the port it listens on (``None`` accepts any port,
    until it is known), extra host names to accept besides the loopback names (the address
    given with ``--host``), ``any_host=True`` to accept every Host header (listening on all
    interfaces; the token is still required) and the largest request body."""

    token: str
    port: int | None = None
    hosts: tuple[str, ...] = ()
    any_host: bool = False
    max_body: int = MAX_UPLOAD_BYTES

    def host_names(self) -> frozenset[str]:
        return LOOPBACK_NAMES | {h.strip("[]").lower() for h in self.hosts}


class Guard:
    """ASGI middleware: token, Host and Origin checks and a request-size limit (see :class:`Access`)."""

    def __init__(self, app, access: Access):
        self.app = app
        self.access = access

    # -- checks ---------------------------------------------------------------------------
    def cookie_name(self, port: int | None) -> str:
        # cookies do not keep ports apart, so two studios on one computer need two names
        return f"playml_studio_{port or 0}"

    def _host_ok(self, host: str) -> tuple[bool, int | None]:
        name, port = _split_host(host)
        if not name:
            return False, None
        if self.access.port is not None and port != self.access.port:
            return False, port
        return (self.access.any_host or name in self.access.host_names()), port

    def _origin_ok(self, origin: str, host: str) -> bool:
        if origin == "null":
            return False
        parts = urlsplit(origin)
        if parts.scheme != "http" or not parts.netloc:  # the studio is served over plain http only
            return False
        return parts.netloc.lower() == host.strip().lower()

    def _token_from(self, headers: dict[str, str], query: dict[str, str], port: int | None) -> tuple[str, str]:
        if "token" in query:
            return query["token"], "query"
        auth = headers.get("authorization", "")
        if auth.lower().startswith("token "):
            return auth[6:].strip(), "header"
        if "x-playml-token" in headers:
            return headers["x-playml-token"], "header"
        jar = http.cookies.SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except http.cookies.CookieError:
            return "", ""
        morsel = jar.get(self.cookie_name(port))
        return (morsel.value, "cookie") if morsel is not None else ("", "")

    # -- ASGI -------------------------------------------------------------------------------
    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        names = [k.decode("latin-1").lower() for k, _ in scope.get("headers", [])]
        if names.count("host") > 1 or names.count("origin") > 1:  # which one counts is ambiguous: refuse
            return await self._refuse(scope, send, 400, "A request may have only one Host and one Origin header.")
        host = headers.get("host", "")
        ok, port = self._host_ok(host)
        if not ok:
            return await self._refuse(
                scope,
                send,
                403,
                "This address is not allowed. Open the studio at the address it printed (http://127.0.0.1:…).",
            )
        origin = headers.get("origin")
        if origin is not None and not self._origin_ok(origin, host):
            return await self._refuse(scope, send, 403, "Requests from other web sites are not allowed.")
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        given, where = self._token_from(headers, query, port)
        if not given or not hmac.compare_digest(given.encode(), self.access.token.encode()):
            return await self._refuse(
                scope,
                send,
                401,
                "The studio needs its token. Open the full address the studio printed, with ?token=… at the end.",
            )
        if scope["type"] == "http" and where == "query" and scope["path"] == "/" and scope["method"] == "GET":
            # the page: remember the token in a cookie and drop it from the address bar
            query.pop("token")
            location = scope.get("root_path", "") + scope["path"] + ("?" + urlencode(query) if query else "")
            cookie = f"{self.cookie_name(port)}={self.access.token}; Path=/; HttpOnly; SameSite=Strict"
            return await self._send_http(
                send, 303, b"", [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1"))]
            )
        if scope["type"] == "http":
            length = headers.get("content-length")
            if length is not None:
                if not length.isdigit() or int(length) > self.access.max_body:
                    return await self._too_large(send)
                return await self.app(scope, receive, send)
            if headers.get("transfer-encoding"):
                return await self._limited(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _limited(self, scope, receive, send):
        """A body sent without Content-Length (chunked) is read first, up to the limit."""
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            seen += len(message.get("body", b""))
            if seen > self.access.max_body:
                return await self._too_large(send)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send):
        mb = self.access.max_body // (1024 * 1024)
        await self._send_http(
            send,
            413,
            f'{{"detail": "The upload is too large: at most {mb} MB at once. Send fewer or smaller images."}}'.encode(),
            [(b"content-type", b"application/json")],
        )

    async def _refuse(self, scope, send, status: int, message: str):
        if scope["type"] == "websocket":
            # closing before accepting makes the server answer the handshake with 403
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            return
        import json

        await self._send_http(
            send, status, json.dumps({"detail": message}).encode(), [(b"content-type", b"application/json")]
        )

    @staticmethod
    async def _send_http(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]):
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")],
            }
        )
        await send({"type": "http.response.body", "body": body})
