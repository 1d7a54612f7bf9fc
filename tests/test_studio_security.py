"""playml studio's guards: token, Host and Origin checks, size limits, safe model names, loopback."""
from __future__ import annotations

import io
import socket

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from playml.web.app import create_app
from playml.web.security import MAX_UPLOAD_BYTES, BadRequest, model_path

TOKEN = "t0k-for-tests"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
WS = f"ws://127.0.0.1:{PORT}/ws/live?task=classify"
AUTH = {"x-playml-token": TOKEN}


@pytest.fixture()
def app(tmp_path):
    return create_app(token=TOKEN, models_dir=tmp_path / "models", port=PORT)


@pytest.fixture()
def client(app):
    return TestClient(app, base_url=BASE)


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height)).save(buf, "PNG")
    return buf.getvalue()


# -- token ----------------------------------------------------------------------------------
@pytest.mark.parametrize("method,path", [("GET", "/"), ("GET", "/api/info"), ("GET", "/static/app.js"),
                                         ("GET", "/api/teach"), ("POST", "/api/teach/classes"),
                                         ("POST", "/api/teach/save")])
def test_every_request_needs_the_token(client, method, path):
    r = client.request(method, path)
    assert r.status_code == 401
    assert "token" in r.json()["detail"]
    assert client.request(method, path, headers={"x-playml-token": "wrong"}).status_code == 401
    assert client.request(method, path, params={"token": TOKEN[:-1]}).status_code == 401


def test_token_in_query_header_or_cookie(client):
    assert client.get("/api/info", params={"token": TOKEN}).status_code == 200
    assert client.get("/api/info", headers={"authorization": f"token {TOKEN}"}).status_code == 200
    # opening the page with the token sets a cookie and drops the token from the address
    r = client.get("/", params={"token": TOKEN}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert f"playml_studio_{PORT}={TOKEN}" in r.headers["set-cookie"]
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
    page = client.get("/")                      # the client now sends the cookie
    assert page.status_code == 200 and "playml studio" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/api/info").status_code == 200


# -- Host and Origin (DNS rebinding, other web sites) ---------------------------------------------
@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{PORT}", "127.0.0.1:9999", "192.168.1.5:8765",
                                  "127.0.0.1.evil.example:8765", ""])
def test_foreign_host_is_refused(client, host):
    r = client.get("/api/info", headers={**AUTH, "host": host})
    assert r.status_code == 403


@pytest.mark.parametrize("host", [f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}", f"LOCALHOST:{PORT}"])
def test_loopback_hosts_are_accepted(client, host):
    assert client.get("/api/info", headers={**AUTH, "host": host}).status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", f"http://evil.example:{PORT}", "null",
                                    f"http://localhost:{PORT}", f"http://127.0.0.1:{PORT + 1}", "file://"])
def test_foreign_origin_is_refused(client, origin):
    r = client.post("/api/teach/classes", json={"name": "x"}, headers={**AUTH, "origin": origin})
    assert r.status_code == 403
    assert client.get("/api/teach", headers=AUTH).json()["classes"] == []     # nothing was made


def test_same_origin_is_accepted(client):
    r = client.post("/api/teach/classes", json={"name": "x"}, headers={**AUTH, "origin": BASE})
    assert r.status_code == 201


def test_websocket_needs_token_host_and_origin(client):
    with pytest.raises(WebSocketDisconnect) as e:
        with client.websocket_connect(WS):
            pass
    assert e.value.code == 1008
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(WS, headers={**AUTH, "origin": "http://evil.example"}):
            pass
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(WS.replace("127.0.0.1", "evil.example"), headers=AUTH):
            pass
    with client.websocket_connect(WS + f"&token={TOKEN}", headers={"origin": BASE}) as ws:
        assert ws.receive_json()["type"] == "status"
        assert ws.receive_json() == {"type": "ready", "task": "classify", "kind": "image", "labels": []}


# -- size limits ------------------------------------------------------------------------------
def test_oversized_upload_is_refused(client, app):
    cls = client.post("/api/teach/classes", json={"name": "big"}, headers=AUTH).json()
    url = f"/api/teach/classes/{cls['id']}/samples"
    big = b"\0" * (MAX_UPLOAD_BYTES + 1)
    r = client.post(url, files={"files": ("big.jpg", big, "image/jpeg")}, headers=AUTH)
    assert r.status_code == 413 and "too large" in r.json()["detail"]
    # without a Content-Length (chunked), the body is counted as it arrives
    app.state.access.max_body = 10_000

    def chunks():
        for _ in range(20):
            yield b"x" * 1000

    r = client.post(url, content=chunks(), headers={**AUTH, "content-type": "application/octet-stream"})
    assert r.status_code == 413
    assert client.get("/api/teach", headers=AUTH).json()["classes"][0]["samples"] == []


def test_huge_or_broken_images_are_refused(client):
    cls = client.post("/api/teach/classes", json={"name": "odd"}, headers=AUTH).json()
    url = f"/api/teach/classes/{cls['id']}/samples"
    r = client.post(url, files={"files": ("wide.png", _png(9000, 4), "image/png")}, headers=AUTH)
    assert r.status_code == 400 and "9000×4" in r.json()["detail"]
    r = client.post(url, files={"files": ("notes.jpg", b"not an image at all", "image/jpeg")}, headers=AUTH)
    assert r.status_code == 400 and "not an image" in r.json()["detail"]
    r = client.post(url, files={"files": ("ok.png", _png(64, 48), "image/png")}, headers=AUTH)
    assert r.status_code == 201


# -- model names, never paths --------------------------------------------------------------------
BAD_NAMES = ["../outside", "..", ".", "a/b", "/etc/passwd", "a\\b", ".hidden", "x/../../y", "", " lead", "a" * 65,
             "nul\0byte", 42, None]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_path_traversal_in_save_and_open_is_refused(client, tmp_path, name):
    for route in ("/api/teach/save", "/api/teach/open"):
        r = client.post(route, json={"name": name}, headers=AUTH)
        assert r.status_code == 400, (route, name, r.text)
        assert "model name" in r.json()["detail"]
    assert not (tmp_path / "outside").exists()


def test_model_path_stays_inside(tmp_path):
    assert model_path(tmp_path, "my model-1.v2") == (tmp_path / "my model-1.v2").resolve()
    with pytest.raises(BadRequest):
        model_path(tmp_path, "../x")


# -- listening address ----------------------------------------------------------------------------
def _own_addresses() -> list[str]:
    """IPv4 addresses of this machine's network interfaces other than loopback."""
    import fcntl
    import struct

    found = []
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _, name in socket.if_nameindex():
            try:
                raw = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
            except OSError:
                continue
            addr = socket.inet_ntoa(raw[20:24])
            if not addr.startswith("127."):
                found.append(addr)
    finally:
        s.close()
    return found


def _reachable(addr: str, port: int) -> bool:
    try:
        with socket.create_connection((addr, port), timeout=2):
            return True
    except OSError:
        return False


def test_default_listens_on_loopback_only(tmp_path, capsys):
    import playml as ml

    server = ml.studio(open_browser=False, block=False, models_dir=tmp_path)
    try:
        assert server.address[0] == "127.0.0.1"
        assert server.url.startswith(f"http://127.0.0.1:{server.port}/?token=")
        assert len(server.token) >= 40
        out = capsys.readouterr()
        assert server.url in out.out and "Warning" not in out.err
        assert _reachable("127.0.0.1", server.port)
        for addr in _own_addresses():                  # none inside scripts/offline's namespace
            assert not _reachable(addr, server.port), addr
    finally:
        server.stop()
    assert not server.running


def test_explicit_host_warns_and_still_needs_the_token(tmp_path, capsys):
    import urllib.error
    import urllib.request

    import playml as ml

    server = ml.studio(host="0.0.0.0", open_browser=False, block=False, models_dir=tmp_path)
    try:
        assert server.address[0] == "0.0.0.0"
        assert "Warning" in capsys.readouterr().err
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/api/info", timeout=5)
        assert e.value.code == 401
        for addr in _own_addresses():
            assert _reachable(addr, server.port)       # the control: other addresses do reach it now
    finally:
        server.stop()


def test_busy_port_says_what_to_do(tmp_path):
    import playml as ml
    from playml.errors import InputError

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        with pytest.raises(InputError, match="--port"):
            ml.studio(port=taken.getsockname()[1], open_browser=False, block=False, quiet=True, models_dir=tmp_path)
    finally:
        taken.close()


@pytest.mark.parametrize("route", ["/api/teach/classes", "/api/playground/reset", "/api/explorer/open",
                                   "/api/create/train"])
def test_every_page_refuses_bodies_that_are_not_a_json_object(tmp_path, route):
    """One reader for every page: not JSON, JSON nested too deeply to parse, or not an object
    gets a 400 that says so (deep nesting used to reach the explore pages as a 500)."""
    from fastapi.testclient import TestClient

    from playml.web.app import create_app

    app = create_app(token="t0ken", port=8767, models_dir=tmp_path)
    client = TestClient(app, base_url="http://127.0.0.1:8767", headers={"x-playml-token": "t0ken"})
    for body in (b"{not json", b"[" * 100_000 + b"]" * 100_000, b"[1, 2]"):
        r = client.post(route, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400, (route, body[:10], r.status_code, r.text[:200])
        assert "JSON" in r.json()["detail"]
