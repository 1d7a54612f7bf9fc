"""``playml export``: a taught image model, whole (backbone + head), for the browser and other tools.

playml export my-model --format teachable-machine --out site-model/
playml export my-model --format web --out web/       # then: cd web && python -m http.server
playml export my-model --format onnx --out onnx-model/
playml serve web/                                      # serve an exported page on localhost
"""

from __future__ import annotations

import argparse

FORMATS = ("teachable-machine", "tfjs", "onnx", "web")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a taught image model whole: Teachable Machine, TF.js, ONNX or a web page",
        description="Write a model made with `playml train` (or clf.save) as one whole model — the "
        "pretrained backbone and the taught head together — for the browser "
        "(Teachable Machine / ml5.js layout, plain TF.js, an offline web page with the "
        "webcam) or ONNX.",
    )
    p.add_argument("model_dir", metavar="MODEL_DIR", help="the saved model's folder")
    p.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write (replaced if it exists)")
    p.set_defaults(func=export_command)

    p = sub.add_parser(
        "serve",
        help="serve a folder (e.g. a `--format web` export) on this computer only",
        description="Serve a folder over HTTP on 127.0.0.1, so a browser can open an exported web "
        "page (browsers only open the camera for pages from localhost or HTTPS).",
    )
    p.add_argument("folder", metavar="DIR", help="the folder to serve")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.set_defaults(func=serve_command)


def export_command(args: argparse.Namespace) -> int:
    from playml.core.saving import load
    from playml.errors import TaskError

    model = load(args.model_dir)
    if not hasattr(model, "export"):
        raise TaskError(
            f"{args.model_dir} holds a {type(model).__name__}; `playml export` writes image models "
            "taught with playml (`playml train`, ml.ImageClassification)."
        )
    out = model.export(args.out, format=args.format)
    files = sorted(p.name for p in out.iterdir())
    print(f"exported {args.model_dir} as {args.format} to {out}: {', '.join(files)}")
    if args.format == "web":
        print(f"open it with: cd {out} && python -m http.server   then http://localhost:8000/")
    elif args.format == "teachable-machine":
        print(f"load it with ml5.imageClassifier('…/model.json'), tmImage.load(…), or ml.load({str(out)!r})")
    return 0


def serve_command(args: argparse.Namespace) -> int:
    import functools
    import http.server
    from pathlib import Path

    from playml.errors import MissingFileError

    folder = Path(args.folder)
    if not folder.is_dir():
        raise MissingFileError(f"There is no folder {str(folder)!r} to serve.")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        print(
            f"serving {folder.resolve()} at http://localhost:{server.server_address[1]}/  (Ctrl+C to stop)", flush=True
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0
