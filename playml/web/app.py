"""The studio's web application (FastAPI): pages, the Teach API and the live WebSockets.

>>> from playml.web.app import create_app
>>> app = create_app(token="secret", models_dir="playml-models")   # doctest: +SKIP

Every request goes through :class:`playml.web.security.Guard` (token, Host, Origin, size).
Pages are listed in :data:`PAGES`: a new explore page is one entry there plus one JavaScript
module in ``static/pages/<id>.js`` that exports ``mount(root, studio)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Request, UploadFile, WebSocket
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from playml.web.security import Access, BadRequest, Guard, decode_image, json_body, new_token

__all__ = ["create_app", "PAGES", "STATIC"]

STATIC = Path(__file__).parent / "static"
#: Seconds a file operation (listing, reading) and a save or open may take before the page is told.
FILE_TIMEOUT = 20.0
SAVE_TIMEOUT = 120.0

#: The navigation: id (also the JavaScript module's name), title and a one-line description.
PAGES: list[dict[str, str]] = [
    {"id": "teach", "title": "Teach", "description": "Teach the computer to recognise things from your examples"},
    {"id": "track", "title": "Track", "description": "Body pose, hands and face mesh on the webcam"},
    {"id": "pitch", "title": "Pitch", "description": "The note you sing or play, and whether it is in tune"},
    {"id": "create", "title": "Create", "description": "The webcam in a painting's style; a Shakespeare writer"},
    {
        "id": "playground",
        "title": "Playground",
        "description": "Watch a small neural network learn to split 2-D points",
    },
    {
        "id": "anomalies",
        "title": "Anomalies",
        "description": "Teach an autoencoder normal heartbeats and flag the odd ones",
    },
    {
        "id": "search",
        "title": "Search",
        "description": "Find the images that look most alike, with any model, layer and distance",
    },
    {
        "id": "explorer",
        "title": "Explorer",
        "description": "Look inside an image model: its layers, what they see, and where it looked",
    },
]


def create_app(
    *,
    token: str | None = None,
    models_dir: str | Path = "playml-models",
    port: int | None = None,
    hosts: tuple[str, ...] = (),
    any_host: bool = False,
    extractor: Any = None,
):
    """The studio as an ASGI app. ``app.state.access`` holds the token and the allowed port
    and hosts; ``app.state.project`` the Teach project (see :class:`playml.web.sessions.TeachProject`)."""
    from playml._version import __version__
    from playml.web.live import serve_live
    from playml.web.sessions import TeachProject

    access = Access(token=token or new_token(), port=port, hosts=tuple(hosts), any_host=any_host)
    project = TeachProject(models_dir, extractor=extractor)
    app = FastAPI(title="playml studio", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.access = access
    app.state.project = project
    app.add_middleware(Guard, access=access)

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest):
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    from playml.errors import PlaymlError

    @app.exception_handler(PlaymlError)
    async def _playml_error(request: Request, exc: PlaymlError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("cache-control", "no-store")
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["referrer-policy"] = "no-referrer"
        response.headers["x-frame-options"] = "DENY"
        response.headers["content-security-policy"] = (
            "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
            "connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'"
        )
        return response

    @app.get("/")
    async def index():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # -- about -------------------------------------------------------------------------------
    @app.get("/api/info")
    async def info():
        return {"version": __version__, "pages": PAGES, "models_dir": str(project.models_dir.resolve())}

    # -- teach: classes and examples -----------------------------------------------------------
    _json = json_body

    @app.get("/api/teach")
    async def teach_state():
        return project.to_dict()

    @app.post("/api/teach/classes", status_code=201)
    async def add_class(request: Request):
        body = await _json(request) if await request.body() else {}
        return project.class_dict(project.add_class(body.get("name")))

    @app.patch("/api/teach/classes/{class_id}")
    async def rename_class(class_id: int, request: Request):
        return project.class_dict(project.rename_class(class_id, (await _json(request)).get("name")))

    @app.delete("/api/teach/classes/{class_id}", status_code=204)
    async def delete_class(class_id: int):
        project.delete_class(class_id)
        return Response(status_code=204)

    @app.delete("/api/teach/classes/{class_id}/samples", status_code=204)
    async def clear_samples(class_id: int):
        project.clear_samples(class_id)
        return Response(status_code=204)

    async def off_loop(fn, *args, timeout: float = FILE_TIMEOUT):
        """Run blocking work (files, models) in a thread; a stuck file system answers 504, not a frozen server."""
        import asyncio

        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args), timeout)
        except TimeoutError:
            raise BadRequest(
                f"This took longer than {timeout:.0f} s (is the models folder on a slow or stuck drive?). Try again.",
                504,
            ) from None

    def _decode_all(uploads: list[tuple[str, bytes]]):
        images = []
        for name, data in uploads:
            try:
                images.append(decode_image(data))
            except BadRequest as e:
                raise BadRequest(f"{name or 'An upload'}: {e}") from None
        return images

    @app.post("/api/teach/classes/{class_id}/samples", status_code=201)
    async def add_samples(class_id: int, files: list[UploadFile] = File(...), source: str = "upload"):
        if not files:
            raise BadRequest("Send at least one image.")
        if source not in ("upload", "webcam", "microphone"):
            raise BadRequest("source must be 'upload', 'webcam' or 'microphone'.")
        uploads = [(f.filename or "", await f.read()) for f in files]
        if project.project.kind == "sound":
            images = [data for _, data in uploads]  # sound files: checked when they are kept
        else:
            images = await off_loop(_decode_all, uploads)
        added = await off_loop(project.add_samples, class_id, images, source, timeout=SAVE_TIMEOUT)
        return {"class_id": class_id, "samples": [s.id for s in added], "skipped": project.skipped}

    @app.get("/api/teach/samples/{sample_id}.jpg")
    async def sample_image(sample_id: int, size: str = "thumb"):
        data = await off_loop(project.thumbnail, sample_id) if size == "thumb" else project.sample(sample_id).data
        return Response(data, media_type="image/jpeg", headers={"cache-control": "private, max-age=3600"})

    @app.get("/api/teach/samples/{sample_id}.wav")
    async def sample_sound(sample_id: int):
        ex = project.sample(sample_id)
        if not ex.data.startswith(b"RIFF"):
            raise BadRequest("That example is not a sound.", 404)
        return Response(ex.data, media_type="audio/wav", headers={"cache-control": "private, max-age=3600"})

    @app.delete("/api/teach/samples/{sample_id}", status_code=204)
    async def delete_sample(sample_id: int):
        project.delete_sample(sample_id)
        return Response(status_code=204)

    # -- teach: training, using, saving -----------------------------------------------------------
    @app.post("/api/teach/train", status_code=202)
    async def train(request: Request):
        body = await _json(request) if await request.body() else {}
        project.start_training(
            epochs=body.get("epochs", 50),
            batch_size=body.get("batch_size", 16),
            learning_rate=body.get("learning_rate", 0.001),
        )
        return project.to_dict()

    @app.get("/api/teach/events")
    async def training_events(request: Request, since: int = 0):
        """Server-Sent Events: training progress, one JSON object per event, until it ends."""
        import asyncio
        import json

        async def stream():
            n = since
            idle = 0.0
            while not await request.is_disconnected():
                events = project.events[n:]
                for event in events:
                    yield f"data: {json.dumps(event)}\n\n"
                    if event["type"] in ("done", "error"):
                        return
                n += len(events)
                if project.status not in ("training",) and not events and n >= len(project.events):
                    yield f"data: {json.dumps({'type': 'idle', 'status': project.status})}\n\n"
                    return
                await asyncio.sleep(0.05)
                idle += 0.05
                if idle > 15:  # keep the connection alive through proxies
                    idle = 0.0
                    yield ": still training\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.post("/api/teach/classify")
    async def classify(file: UploadFile = File(...)):
        import asyncio

        rgb = decode_image(await file.read())
        return {"predictions": await asyncio.to_thread(project.classify, rgb)}

    @app.get("/api/teach/models")
    async def saved_models():
        return {"models_dir": str(project.models_dir.resolve()), "models": await off_loop(project.saved_models)}

    @app.post("/api/teach/save")
    async def save(request: Request):
        name = (await _json(request)).get("name")
        path = await off_loop(project.save, name, timeout=SAVE_TIMEOUT)
        return {"name": path.name, "path": str(path)}

    @app.post("/api/teach/export-web")
    async def export_web(request: Request):
        import asyncio

        name = (await _json(request)).get("name")
        path = await asyncio.to_thread(project.export_web, name)
        return {"name": path.name, "path": str(path), "files": sorted(p.name for p in path.iterdir())}

    @app.post("/api/teach/open")
    async def open_model(request: Request):
        body = await _json(request)
        await off_loop(project.open, body.get("name"), bool(body.get("discard", False)), timeout=SAVE_TIMEOUT)
        return project.to_dict()

    # -- projects ---------------------------------------------------------------------------------
    @app.post("/api/project/new")
    async def new_project(request: Request):
        body = await _json(request) if await request.body() else {}
        project.new_project(bool(body.get("discard", False)), body.get("kind", "image"))
        return project.to_dict()

    @app.post("/api/project/save")
    async def save_project(request: Request):
        name = (await _json(request)).get("name")
        path = await off_loop(project.save_project, name, timeout=SAVE_TIMEOUT)
        return {"name": path.name, "path": str(path), "state": project.to_dict()}

    from playml.web.create import add_routes as add_create_routes

    add_create_routes(app, _json, project.models_dir, project.saved_models)

    from playml.web.explore import register as register_explore  # playground, search, anomalies

    register_explore(app, project.models_dir)

    from playml.web.explorer import register as register_explorer  # the model explorer

    register_explorer(app, project.models_dir)

    # -- live ----------------------------------------------------------------------------------
    @app.websocket("/ws/live")
    async def live(ws: WebSocket, task: str = "classify"):
        await serve_live(ws, task, project)

    return app
