"""``playml classify`` and ``playml models``.

playml classify coffee.jpg --top-k 3
playml classify photos/ --json
playml models
playml models efficientnet-lite0
"""

from __future__ import annotations

import argparse

from playml.cli._output import expand_images, print_json, print_per_image, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "classify",
        help="label photos with ImageNet categories",
        description="Label photos with one of 1,000 ImageNet categories (offline).",
    )
    p.add_argument("images", nargs="+", metavar="IMG", help="image files or folders")
    p.add_argument("--model", default="efficientnet-lite0", help="model name (see `playml models`)")
    p.add_argument("--top-k", type=int, default=5, metavar="K", help="labels per image (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=classify_command)

    p = sub.add_parser(
        "models",
        help="list the bundled models, or show one model's card",
        description="Model cards: where each bundled model comes from and what it gets wrong.",
    )
    p.add_argument("name", nargs="?", help="show this model's full card")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=models_command)


def classify_command(args: argparse.Namespace) -> int:
    from playml.errors import InputError
    from playml.images.classifier import image_classifier

    if args.top_k < 1:
        raise InputError("--top-k must be at least 1.")
    files = expand_images(args.images)
    clf = image_classifier(args.model, top_k=args.top_k)
    print_per_image(
        files,
        clf.classify(files),
        key="predictions",
        as_json=args.json,
        title=lambda f: f"{f}  ({clf.model_card.name})",
        header=["label", "confidence"],
        rows=lambda predictions: [[p.label, f"{100 * p.confidence:5.1f}%"] for p in predictions],
    )
    return 0


def models_command(args: argparse.Namespace) -> int:
    from playml.zoo import models

    if args.name:
        card = models(args.name)
        if args.json:
            print_json(card)
        else:
            print(str(card).rstrip("\n"))
        return 0
    cards: list = list(models())  # type: ignore[arg-type]
    if args.json:
        print_json(cards)
        return 0

    def row(c) -> list:
        size, labels, params = (getattr(c, k, None) for k in ("input_size", "labels", "parameters"))
        return [
            c.name,
            f"{size}px" if isinstance(size, int) else (size or ""),
            labels or "",
            f"{params / 1e6:.1f}M" if isinstance(params, int) else "",
            str(c.license).split(" (")[0],
        ]

    print_table([row(c) for c in cards], ["name", "input", "labels", "parameters", "license"])
    print("\nShow one card with: playml models NAME")
    return 0
