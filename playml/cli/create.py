"""``playml style`` and ``playml write``: paint photos and videos, write text with a trained LSTM.

playml style photo.jpg --style style-19 --out painted.png
playml style clip.mp4 --style-image painting.jpg --out painted.mp4
playml style --list
playml write bard/ --seed "ROMEO:" --length 300 --temperature 0.8
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "style",
        help="paint a photo or a video in a painting's style",
        description="Style transfer, offline: one of the 26 bundled styles (style-0 … style-25) "
        "or any picture as the style.",
    )
    p.add_argument("source", nargs="?", help="an image or a video file (.mp4, .avi, .mov …)")
    p.add_argument("--style", default="style-0", help="a bundled style, style-0 … style-25 (default style-0)")
    p.add_argument("--style-image", metavar="IMG", help="use this picture's style instead")
    p.add_argument("--out", help="where to save the painted image or video (default: SOURCE_STYLE.png/.mp4)")
    p.add_argument(
        "--size",
        type=int,
        help="longest side the network works at (default: the image's own, at most 1024; 480 for videos)",
    )
    p.add_argument("--strength", type=float, default=1.0, help="0..1, below 1 keeps some of the photo")
    p.add_argument("--list", action="store_true", help="list the bundled styles and where they come from")
    p.set_defaults(func=style_command)

    p = sub.add_parser(
        "write",
        help="write text with a trained character LSTM (ml.char_rnn)",
        description="Generate text from a model saved with CharRNN.save (TF.js layers format).",
    )
    p.add_argument("model", help="the saved model's directory, e.g. bard/")
    p.add_argument("--seed", default="", metavar="TEXT", help="text to start from, e.g. 'ROMEO:'")
    p.add_argument("--length", type=int, default=300, help="characters to write (default 300)")
    p.add_argument("--temperature", type=float, default=0.8, help="0 = always the likeliest; higher = wilder")
    p.add_argument("--random-seed", type=int, help="the same number writes the same text")
    p.set_defaults(func=write_command)


def style_command(args: argparse.Namespace) -> int:
    from playml.cli._output import print_table
    from playml.errors import InputError
    from playml.images.style import style_cards, style_transfer

    if args.list:
        print_table([[c.name, c.title, c.license.split(";")[0]] for c in style_cards()], ["style", "model", "weights"])
        print("\nShow one card with: python -c \"import playml.images.style as s; print(s.style_cards('style-3'))\"")
        return 0
    if not args.source:
        raise InputError("Give an image or a video to paint, e.g. playml style photo.jpg --style style-19")
    from playml.core.video import is_video

    if args.style_image:
        st = style_transfer(style=args.style_image, size=args.size, strength=args.strength)
    else:
        st = style_transfer(args.style, size=args.size, strength=args.strength)

    source = Path(args.source)
    if not source.exists():
        from playml.errors import MissingFileError

        raise MissingFileError(f"There is no file {source}.")
    video = is_video(source)
    label = Path(args.style_image).stem if args.style_image else args.style
    out = Path(args.out) if args.out else source.with_name(f"{source.stem}_{label}{'.mp4' if video else '.png'}")
    if video:
        from playml.core.video import VideoWriter, video_info

        fps = video_info(source).get("fps") or 30.0
        n = 0
        with VideoWriter(out, fps=fps) as writer:
            for _, painted in st.transfer_stream(source, size=args.size or 480):
                writer.write(painted)
                n += 1
        print(f"{source} -> {out}  ({n} frames, {st.name})")
    else:
        st.transfer(source).save(out)
        print(f"{source} -> {out}  ({st.name})")
    return 0


def write_command(args: argparse.Namespace) -> int:
    from playml.core.saving import load
    from playml.errors import TaskError

    model = load(args.model)
    if not hasattr(model, "generate"):
        raise TaskError(f"{args.model} holds a {type(model).__name__}, which does not write text.")
    print(model.generate(args.seed, length=args.length, temperature=args.temperature, seed=args.random_seed))
    return 0
