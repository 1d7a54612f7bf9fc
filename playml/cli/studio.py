"""``playml studio``: teach and explore in the browser, on this computer.

playml studio
playml studio --port 8765 --no-browser --models-dir my-models
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    help_ = "start playml studio, a local web app to teach models with the webcam and see bodies, hands, faces"
    p = sub.add_parser(
        "studio",
        help=help_,
        description=help_ + ". It listens on 127.0.0.1 only and prints an address with a secret token.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this computer only; another address lets "
        "other computers in and prints a warning)",
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open the browser")
    p.add_argument(
        "--models-dir",
        default="playml-models",
        help="folder where models are saved and opened (default ./playml-models)",
    )
    p.set_defaults(func=_studio_command)


def _studio_command(args: argparse.Namespace) -> int:
    from playml.web import studio

    studio(host=args.host, port=args.port, open_browser=not args.no_browser, models_dir=args.models_dir, block=True)
    return 0
