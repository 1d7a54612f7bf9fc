"""The ``playml`` command.

Each group of sub-commands lives in ``playml/cli/<area>.py`` with a
``register(subparsers)`` function; this file only wires them together, so adding a
command never touches another area's code. Heavy libraries are imported inside the
command handlers, so ``playml --help`` is instant.

    playml classify photo.jpg --top-k 3
    playml models
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Areas whose commands `playml` offers, in the order `playml --help` lists them.
COMMAND_MODULES = [
    "playml.cli.images",  # classify, models
    "playml.cli.teach",  # train, predict
    "playml.cli.datasets",  # datasets
    "playml.cli.bodies",  # pose, hands, face, segment
    "playml.cli.audio_text",  # pitch, similar, sentiment
    "playml.cli.search",  # search build|query|map
    "playml.cli.anomaly",  # anomaly train|score
    "playml.cli.create",  # style, write
    "playml.cli.studio",  # studio
    "playml.cli.bridge",  # export
]


def build_parser() -> argparse.ArgumentParser:
    from playml._version import __version__

    parser = argparse.ArgumentParser(
        prog="playml",
        description="Friendly, local-first machine learning. Everything runs on this computer.",
    )
    parser.add_argument("--version", action="version", version=f"playml {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # that area is not built yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from playml.errors import PlaymlError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        result = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except PlaymlError as e:
        print(f"playml: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("playml: stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`playml … | head -1`): what it wanted is printed; stop quietly.
        _silence_stdout()
        return 0
    return int(result or 0)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit flush does not fail again on the closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
