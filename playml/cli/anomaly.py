"""``playml anomaly``: learn what normal data looks like, then flag what is not.

    playml anomaly train ecg5000 --normal-label normal --out ecg-detector/
    playml anomaly train readings.csv --label-column status --normal-label ok --out det/
    playml anomaly score ecg-detector/ ecg5000            # the published test part
    playml anomaly score det/ new_readings.csv --json

DATA is a CSV file (numbers in every column except an optional label column) or the name
of a bundled data set (``train`` uses its published training part, ``score`` its test part).
"""

from __future__ import annotations

import argparse

from playml.cli._output import plural, print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "anomaly",
        help="anomaly detection: train an autoencoder on normal data, score new data",
        description="Learn what normal examples look like (an autoencoder), then score new examples by how "
        "badly it rebuilds them.",
    )
    sub = p.add_subparsers(dest="anomaly_command", metavar="ACTION")

    t = sub.add_parser(
        "train",
        help="learn normal from DATA and save the detector in --out",
        description="Train on the normal rows of DATA (a CSV file or a bundled data set) and save "
        "the detector as a folder.",
    )
    t.add_argument("data", metavar="DATA", help="a CSV file or a bundled data set name (e.g. ecg5000)")
    t.add_argument("--out", required=True, metavar="DIR", help="folder to save the detector in")
    t.add_argument(
        "--normal-label",
        metavar="L",
        help="train only on rows with this label (needed when DATA has labels of several kinds)",
    )
    t.add_argument(
        "--label-column",
        metavar="C",
        help="the CSV column holding labels (found automatically when it is called label, class or target)",
    )
    t.add_argument("--hidden", default="7,3", help="hidden layer sizes, comma-separated (default 7,3)")
    t.add_argument(
        "--latent",
        type=_latent,
        default="auto",
        help="bottleneck size, or auto (the default: the fewest directions that explain 95%% of the "
        "standardised training data's variance, at most the narrowest hidden layer)",
    )
    t.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="passes over the data (default: a budget of 3000 steps, stopping early when 10%% of the "
        "normal rows held out stop improving)",
    )
    t.add_argument(
        "--batch-size", type=int, default=None, help="examples per step (default: about 1/20 of the rows, 16–256)"
    )
    t.add_argument("--learning-rate", type=float, default=0.01, help="default 0.01")
    t.add_argument("--optimizer", default="adam", help="adam, rmsprop, sgd or adamw (default adam)")
    t.add_argument("--scaling", default="standard", help="standard, minmax or none (default standard)")
    t.add_argument(
        "--threshold-percentile",
        type=float,
        default=95.0,
        help="threshold = this percentile of the training errors (default 95)",
    )
    t.add_argument("--seed", type=int, help="a number makes training repeatable")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--json", action="store_true", help="print the summary as JSON")
    t.set_defaults(func=run_train)

    s = sub.add_parser(
        "score",
        help="score DATA with a saved detector",
        description="Print the reconstruction error of every example and whether it is an anomaly. "
        "When DATA has labels and the normal label is known, also judge the detector.",
    )
    s.add_argument("model", metavar="DIR", help="a folder saved by `playml anomaly train`")
    s.add_argument("data", metavar="DATA", help="a CSV file or a bundled data set name")
    s.add_argument("--label-column", metavar="C", help="the CSV column holding labels, if any")
    s.add_argument("--normal-label", metavar="L", help="the label of normal rows (default: the one used in training)")
    s.add_argument("--threshold", type=float, help="use this threshold instead of the saved one")
    s.add_argument("--rows", type=int, default=10, help="how many of the most unusual rows to list (default 10)")
    s.add_argument("--json", action="store_true", help="print every score as JSON")
    s.set_defaults(func=run_score)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def _latent(text: str) -> int | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"give a whole number or auto (got {text!r})") from None


def _hidden(text: str) -> list[int]:
    from playml.errors import InputError

    try:
        return [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise InputError(f"--hidden takes whole numbers separated by commas, e.g. 7,3 (got {text!r}).") from None


def run_train(args: argparse.Namespace) -> int:
    from playml.tabular.anomaly import anomaly_detector

    det = anomaly_detector(
        hidden=_hidden(args.hidden),
        latent=args.latent,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        scaling=args.scaling,
        threshold_percentile=args.threshold_percentile,
        seed=args.seed,
    )
    det.fit(
        args.data,
        normal_label=args.normal_label,
        label_column=args.label_column,
        epochs=args.epochs,
        batch_size=args.batch_size,
        progress=not (args.quiet or args.json),
    )
    path = det.save(args.out)
    summary = {
        "saved": str(path),
        "layers": det.layers,
        "latent": det.latent_,
        "latent_chosen": det.latent == "auto",
        "latent_variance": det.latent_variance_,
        "examples": len(det.train_errors_),
        "normal_label": det.normal_label_,
        "epochs": len(det.history_),
        "final_loss": det.history_.last().get("loss"),
        "threshold": det.threshold_,
        "threshold_percentile": det.threshold_percentile,
    }
    if args.json:
        print_json(summary)
        return 0
    which = f" labelled {det.normal_label_!r}" if det.normal_label_ is not None else ""
    print(
        f"Learned normal from {plural(len(det.train_errors_), 'example')}{which} "
        f"({'→'.join(map(str, det.layers))}, {summary['epochs']} epochs, final loss {summary['final_loss']:.4g})."
    )
    if det.latent == "auto":
        print(
            f"Bottleneck of {det.latent_} (auto: {det.latent_variance_:.1%} of the variance of the standardised "
            "rows; choose another with --latent N)."
        )
    print(f"Threshold {det.threshold_:.4g}: the {det.threshold_percentile:g}th percentile of the training errors.")
    print(f"Saved to {path}. Score new data with: playml anomaly score {args.out} DATA")
    return 0


def run_score(args: argparse.Namespace) -> int:
    import numpy as np

    from playml.core.saving import load
    from playml.datasets.tables import to_table
    from playml.errors import FormatError
    from playml.tabular.anomaly import AnomalyDetector

    det = load(args.model)
    if not isinstance(det, AnomalyDetector):
        raise FormatError(f"{args.model} holds a {type(det).__name__}, not an anomaly detector.")
    if args.threshold is not None:
        det.threshold = args.threshold
    table = to_table(args.data, label_column=args.label_column, what="data", split="test")
    scores = det.score(table)
    flags = scores >= det.threshold_
    normal = args.normal_label if args.normal_label is not None else (det.normal_label_ or table.normal_label)
    report = None
    if table.labels is not None and normal is not None:
        report = det.evaluate(table, normal_label=normal)
    if args.json:
        print_json(
            {
                "threshold": det.threshold_,
                "examples": len(scores),
                "anomalies": int(flags.sum()),
                "scores": scores,
                "is_anomaly": flags,
                "labels": table.labels,
                "report": report,
            }
        )
        return 0
    order = np.argsort(-scores, kind="stable")[: max(args.rows, 0)]
    header = ["row", "error", "anomaly"] + (["label"] if table.labels is not None else [])
    rows = [
        [int(i), f"{scores[i]:.4g}", "yes" if flags[i] else "no"]
        + ([table.labels[i]] if table.labels is not None else [])
        for i in order
    ]
    if rows:
        print(f"The {len(rows)} most unusual rows (row numbers count from 0):")
        print_table(rows, header)
        print()
    print(f"{int(flags.sum())} of {len(scores)} examples are anomalies (error at or above {det.threshold_:.4g}).")
    if report is not None:
        auc = f"{report.roc_auc:.3f}" if report.roc_auc is not None else "n/a (one kind only)"
        print(
            f"Against the labels (normal = {normal!r}): accuracy {report.accuracy:.3f}, precision "
            f"{report.precision:.3f}, recall {report.recall:.3f}, false-positive rate {report.fpr:.3f}, "
            f"ROC AUC {auc}."
        )
    return 0
