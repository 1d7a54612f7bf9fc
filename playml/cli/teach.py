"""``playml train``, ``playml predict`` and ``playml evaluate``: teach labels from folders of photos.

playml train photos/ --out my-model            # photos/puffin/*.jpg, photos/tern/*.jpg …
playml train data/ --epochs 30 --out my-model --report report.png   # data/train/…, data/validation/…
playml predict my-model new1.jpg new2.jpg
playml predict my-model held_out/ --json
playml evaluate my-model held_out/ --report report.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playml.cli._output import expand_images, plural, print_json, print_per_image, print_table

_VALIDATION_NAMES = ("validation", "val", "valid", "test")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="teach labels from folders of photos (one sub-folder per label)",
        description="Teach a classifier from photos sorted into one sub-folder per label (or train/ and "
        "validation/ sub-folders of that form). Features come from a pretrained image model; only "
        "a small head is trained. Everything runs on this computer.",
    )
    p.add_argument("data", metavar="DATA_DIR", help="folder with one sub-folder per label, or train/ + validation/")
    p.add_argument(
        "--validation",
        metavar="DIR",
        help="validate on this folder (one sub-folder per label) instead of holding out part of the training photos",
    )
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="where to save the model")
    p.add_argument(
        "--model",
        default="efficientnet-lite0",
        metavar="BACKBONE",
        help="pretrained image model for the features (see `playml models`)",
    )
    p.add_argument("--epochs", type=int, default=50, metavar="N", help="passes over the examples (default 50)")
    p.add_argument("--batch-size", type=int, default=16, metavar="N", help="examples per step (default 16)")
    p.add_argument("--learning-rate", type=float, default=0.001, metavar="LR", help="Adam's step size (0.001)")
    p.add_argument(
        "--validation-split",
        type=float,
        default=0.15,
        metavar="F",
        help="share of each label held out to validate when there is no validation folder (0.15)",
    )
    p.add_argument(
        "--hidden-units",
        type=int,
        default=100,
        metavar="N",
        help="size of the hidden layer of the head; 0 for none (default 100)",
    )
    p.add_argument(
        "--augment",
        type=int,
        default=0,
        metavar="COPIES",
        help="add this many flipped/cropped/recoloured copies of every photo (default 0)",
    )
    p.add_argument("--seed", type=int, default=None, help="make the split and the training repeatable")
    p.add_argument("--report", metavar="PNG", help="save the confusion matrix and per-label accuracy as an image")
    p.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    p.set_defaults(func=train_command)

    p = sub.add_parser(
        "predict",
        help="use a model made with `playml train` on new photos",
        description="Label photos with a model saved by `playml train` (or Python's clf.save).",
    )
    p.add_argument("model_dir", metavar="MODEL_DIR", help="the saved model's folder")
    p.add_argument("images", nargs="+", metavar="IMG", help="image files or folders")
    p.add_argument("--top-k", type=int, default=None, metavar="K", help="labels per image (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=predict_command)

    p = sub.add_parser(
        "evaluate",
        help="how well a model made with `playml train` labels a folder of photos",
        description="Label every photo of a folder with one sub-folder per label and compare: "
        "accuracy, accuracy per label, the confusion matrix and the photos it got wrong.",
    )
    p.add_argument("model_dir", metavar="MODEL_DIR", help="the saved model's folder")
    p.add_argument("folder", metavar="FOLDER", help="photos in one sub-folder per label (the true label)")
    p.add_argument("--report", metavar="PNG", help="save the confusion matrix and per-label accuracy as an image")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=evaluate_command)


def _split_folders(data: Path, validation: str | None) -> tuple[Path, Path | None]:
    """DATA_DIR, or DATA_DIR/train + DATA_DIR/validation (or val/valid/test)."""
    from playml.errors import MissingFileError

    if not data.is_dir():
        raise MissingFileError(f"There is no folder {str(data)!r}. Give a folder with one sub-folder per label.")
    train, val = data, Path(validation) if validation else None
    if (data / "train").is_dir():
        train = data / "train"
        if val is None:
            val = next((data / n for n in _VALIDATION_NAMES if (data / n).is_dir()), None)
    if val is not None and not val.is_dir():
        raise MissingFileError(f"There is no validation folder {str(val)!r}.")
    return train, val


def _label_folders(folder: Path) -> dict[str, list[str]]:
    """Sub-folder name → its image files (sorted), for sub-folders that hold images."""
    from playml.core.media import list_images

    out = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = [str(f) for f in list_images(sub)]
        if files:
            out[sub.name] = files
    return out


def _check_labels(folder: Path) -> None:
    """Fail before any photo is processed when the folder cannot teach two labels."""
    from playml.errors import DataError

    labels = _label_folders(folder)
    if not labels:
        raise DataError(
            f"No readable images in sub-folders of {folder}. Put the photos of each label in a "
            f"sub-folder named after it ({folder}/cat/, {folder}/dog/), then run `playml train` again."
        )
    if len(labels) < 2:
        found = f"only {next(iter(labels))!r}"
        raise DataError(
            f"{folder} needs at least 2 sub-folders of photos, one per label ({found} found). "
            f"Make e.g. {folder}/cat/ and {folder}/dog/ and put photos of each in it, then run "
            "`playml train` again."
        )


def _warn_skipped(caught: list) -> None:
    for w in caught:
        print(f"playml: {w.message}", file=sys.stderr)


def train_command(args: argparse.Namespace) -> int:
    import warnings

    from playml.images.transfer import ImageClassification

    train_dir, val_dir = _split_folders(Path(args.data), args.validation)
    _check_labels(train_dir)
    clf = ImageClassification(args.model, hidden_units=args.hidden_units, augment=args.augment, seed=args.seed)
    show = not args.quiet
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.add_images(train_dir, progress=show)
    _warn_skipped(caught)
    counts = ", ".join(f"{label} {n}" for label, n in clf.counts().items())
    print(
        f"{plural(clf.examples, 'photo')} in {plural(len(clf.labels), 'label')} from {train_dir} ({counts})"
        + (f", {args.augment} augmented copies each" if args.augment else "")
    )

    def on_epoch(epoch: int, logs: dict) -> None:
        if not show:
            return
        from tqdm.std import tqdm

        parts = [f"{k} {v:.4f}" for k, v in logs.items()]
        tqdm.write(f"epoch {epoch:>3}/{args.epochs}  " + "  ".join(parts))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.train(
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            validation_split=0.0 if val_dir else args.validation_split,
            validation_data=str(val_dir) if val_dir else None,
            on_epoch=on_epoch,
            progress=show,
        )
    _warn_skipped(caught)

    training = clf.evaluate(part="training")
    print(f"\ntraining accuracy   {100 * training.accuracy:5.1f}% ({plural(training.examples, 'photo')})")
    report = None
    if val_dir is not None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = clf.evaluate(str(val_dir))
        _warn_skipped(caught)
        where = str(val_dir)
    elif clf.history_ is not None and "val_accuracy" in clf.history_:
        report = clf.evaluate()
        where = f"{round(100 * args.validation_split)}% of each label held out"
    if report is not None:
        print(f"validation accuracy {100 * report.accuracy:5.1f}% ({plural(report.examples, 'photo')}: {where})\n")
        print(report.to_text().split("\n", 2)[2])
    else:
        print("no validation photos (add a validation folder, or more photos per label)")
        report = training
    saved = clf.save(args.out)
    print(f"\nsaved to {saved} (model.json, model.weights.bin, model_meta.json)")
    print(f"use it with: playml predict {saved} IMAGE…   or in Python: ml.load({str(saved)!r})")
    if args.report:
        fig = report.plot(
            title=f"{'validation' if report is not training else 'training'} accuracy {100 * report.accuracy:.1f}%"
        )
        fig.savefig(args.report, dpi=110)
        print(f"report saved to {args.report}")
    return 0


def predict_command(args: argparse.Namespace) -> int:
    from playml.core.saving import load
    from playml.errors import InputError, TaskError

    if args.top_k is not None and args.top_k < 1:
        raise InputError("--top-k must be at least 1.")
    model = load(args.model_dir)
    files = expand_images(args.images)
    if hasattr(model, "classify"):
        print_per_image(
            files,
            model.classify(files, top_k=args.top_k),
            key="predictions",
            as_json=args.json,
            title=str,
            header=["label", "confidence"],
            rows=lambda predictions: [[p.label, f"{100 * p.confidence:5.1f}%"] for p in predictions],
        )
        return 0
    if hasattr(model, "predict") and hasattr(model, "extractor"):
        values = model.predict(files)
        if args.json:
            print_json([{"image": f, "value": v} for f, v in zip(files, values)])
        else:
            print_table(
                [[f, f"{v:.4g}" if isinstance(v, float) else str(v)] for f, v in zip(files, values)], ["image", "value"]
            )
        return 0
    raise TaskError(f"{args.model_dir} holds a {type(model).__name__}, not an image model made by `playml train`.")


def evaluate_command(args: argparse.Namespace) -> int:
    from playml.core.evaluation import EvaluationReport
    from playml.core.saving import load
    from playml.errors import DataError, MissingFileError, TaskError

    folder = Path(args.folder)
    if not folder.is_dir():
        raise MissingFileError(f"There is no folder {str(folder)!r}. Give a folder with one sub-folder per label.")
    model = load(args.model_dir)
    if not hasattr(model, "classify") or not hasattr(model, "labels"):
        raise TaskError(
            f"{args.model_dir} holds a {type(model).__name__}, not an image classifier made by `playml train`."
        )
    by_label = _label_folders(folder)
    if not by_label:
        raise DataError(
            f"{folder} has no sub-folders of photos. Put the photos of each label in a sub-folder "
            f"named after it ({folder}/cat/, {folder}/dog/)."
        )
    labels = [str(label) for label in model.labels]
    unknown = sorted(set(by_label) - set(labels))
    if unknown:
        raise DataError(
            f"The model does not know the label{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)} (sub-folders of {folder}). It knows: {', '.join(labels)}."
        )
    files = [f for files in by_label.values() for f in files]
    truth = [label for label, files in by_label.items() for _ in files]
    predictions = model.classify(files)
    guessed = [p[0].label for p in predictions]
    report = EvaluationReport.from_labels(truth, guessed, labels=labels)
    wrong = [(f, t, p[0].label, p[0].confidence) for f, t, p in zip(files, truth, predictions) if p[0].label != t]
    if args.json:
        print_json(
            {
                **report.to_dict(),
                "misclassified": [{"image": f, "true": t, "predicted": g, "confidence": c} for f, t, g, c in wrong],
            }
        )
    else:
        print(report.to_text())
        print()
        if wrong:
            print(f"{plural(len(wrong), 'photo')} labelled wrongly:")
            print_table(
                [[f, t, g, f"{100 * c:5.1f}%"] for f, t, g, c in wrong], ["image", "true", "predicted", "confidence"]
            )
        else:
            print("every photo labelled right")
    if args.report:
        report.plot(title=f"{folder}: accuracy {100 * report.accuracy:.1f}%").save(args.report)
        print(f"report saved to {args.report}", file=sys.stderr if args.json else sys.stdout)
    return 0
