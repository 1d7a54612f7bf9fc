"""``playml datasets``: list the bundled data sets, or show one's card and first rows.

playml datasets                       # names, kinds, sizes, summaries
playml datasets iris                  # the data card, counts per label, a preview
playml datasets spiral -o noise=0.2   # options of a data set
playml datasets my_photos/            # your own folder (one sub-folder per label)
playml datasets readings.csv --label activity

A bundled data set's name wins over a file or folder of the same name in the current folder
(``playml datasets photos`` shows the bundled photos, with a note that ./photos exists); write
it as a path (``./photos``, ``photos/``) to see yours. A name with a suffix (``readings.csv``)
or a slash is always a path. A CSV file read without ``--label``: a column called label,
labels, class or target (any case) is taken as the label, as ``playml anomaly`` does, and the
command says so (``--no-label`` keeps every column a feature); otherwise it says that every
column is a feature and how to name the label.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from playml.cli._output import plural, print_json, print_table

MAX_COLUMNS = 8
MAX_TEXT = 70


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "datasets",
        help="list the bundled data sets, or show one's data card and first rows",
        description="Without NAME: list the bundled data sets. With NAME (a bundled data set, a folder of "
        "label folders, or a CSV file): print its data card, counts per label and the first rows.",
    )
    p.add_argument("name", nargs="?", help="a bundled data set (e.g. iris), a folder, or a .csv file")
    p.add_argument("--rows", type=int, default=5, help="how many rows to preview (default 5)")
    p.add_argument(
        "--label",
        help="for a CSV file: the column to predict (default: a column called label, labels, class or target)",
    )
    p.add_argument("--no-label", action="store_true", help="for a CSV file: treat every column as a feature")
    p.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an option of the data set, e.g. -o noise=0.2 -o n=200 (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the list (or the summary) as JSON")
    p.set_defaults(func=run)


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"none": None, "true": True, "false": False}.get(text.lower(), text)


def _options(pairs: list[str]) -> dict[str, Any]:
    from playml.errors import InputError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"Write options as KEY=VALUE, e.g. -o noise=0.2 (got {pair!r}).")
        out[key.strip()] = _value(value.strip())
    return out


def _note(text: str) -> None:
    print(f"playml: {text}", file=sys.stderr)


def written_as_path(name: str) -> bool:
    """``./photos``, ``photos/``, ``~/x``, ``/data/x`` or ``readings.csv``: a path, never a data set name."""
    return name.startswith((".", "~")) or "/" in name or os.sep in name or Path(name).suffix != ""


def _open(args: argparse.Namespace):
    from playml import datasets
    from playml.datasets.registry import bundled_name
    from playml.errors import InputError, MissingFileError

    name = args.name
    path = Path(name).expanduser()
    bundled = bundled_name(name)
    if bundled is not None and not written_as_path(name):
        if path.exists():
            kind = "folder" if path.is_dir() else "file"
            _note(
                f"showing the bundled data set {bundled!r}; there is also a {kind} {name!r} here: "
                f"show it with playml datasets ./{name}"
            )
        return datasets.load(name, **_options(args.option))
    if args.label and args.no_label:
        raise InputError("Give --label COLUMN or --no-label, not both.")
    if path.is_dir():
        return datasets.from_folder(path, **_options(args.option))
    if path.suffix.lower() == ".csv" or path.is_file():
        return datasets.from_csv(path, label=_csv_label(path, args), **_options(args.option))
    if written_as_path(name):
        also = bundled_name(name.strip("./").rstrip("/"))
        hint = f" The bundled data set is: playml datasets {also}" if also else ""
        raise MissingFileError(f"There is no file or folder {name!r} (in {os.getcwd()}).{hint}")
    return datasets.load(name, **_options(args.option))


def _csv_label(path: Path, args: argparse.Namespace) -> str | None:
    """The label column of a CSV file: --label, else one named like a label (said on stderr)."""
    import pandas as pd

    from playml.datasets.tables import LABEL_COLUMNS

    if args.label or args.no_label:
        return args.label
    try:
        head = pd.read_csv(path, nrows=50, skipinitialspace=True, index_col=False)
    except Exception:  # noqa: BLE001  (from_csv reads it again and explains what is wrong)
        return None
    columns = [str(c).strip() for c in head.columns]
    named = [c for c in columns if c.lower() in LABEL_COLUMNS]
    if len(named) == 1:
        _note(
            f"using the column {named[0]!r} as the label (its name says so); choose another with "
            "--label COLUMN, or --no-label to treat every column as a feature"
        )
        return named[0]
    guess = ""
    last = head.columns[-1] if len(columns) > 1 else None
    if last is not None and not pd.api.types.is_numeric_dtype(head[last]):
        guess = f" Its last column {columns[-1]!r} holds text: if it is the label, add --label {columns[-1]}."
    _note(
        f"no --label given, so every column of {path.name} ({', '.join(columns[:8])}"
        f"{' …' if len(columns) > 8 else ''}) is treated as a feature. To name the column to "
        f"predict: playml datasets {args.name} --label COLUMN.{guess}"
    )
    return None


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value).replace("\n", " ")
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def preview(ds, rows: int = 5) -> None:
    """Print the first ``rows`` examples of ``ds`` as a table."""
    import numpy as np

    rows = max(0, min(rows, len(ds)))
    if rows == 0:
        return
    if ds.kind == "images" and ds.X.dtype != object:
        header = ["#", "image", ds.target_name]
        table = [
            [
                i,
                f"{ds.X.shape[1]}×{ds.X.shape[2]}×{ds.X.shape[3]} {ds.X.dtype}, mean {ds.X[i].mean():.0f}",
                _cell(ds[i][1]),
            ]
            for i in range(rows)
        ]
        print_table(table, header)
        return
    df = ds.to_pandas().head(rows)
    columns = list(df.columns)
    if len(columns) > MAX_COLUMNS:  # keep the first features and the last (extra + label) columns
        keep_tail = columns[-2:]
        columns = columns[: MAX_COLUMNS - 3] + ["…"] + keep_tail
        df = df.assign(**{"…": "…"})[columns]
    table = [
        [i] + [_cell(v.item() if isinstance(v, np.generic) else v) for v in row]
        for i, row in zip(range(rows), df.itertuples(index=False))
    ]
    print_table(table, ["#"] + [str(c) for c in columns])


def run(args: argparse.Namespace) -> int:
    from playml import datasets

    if not args.name:
        infos = datasets.list()
        if args.json:
            print_json(infos)
        else:
            print_table([[d.name, d.kind, d.size, d.summary] for d in infos], ["name", "kind", "size", "summary"])
            print("\nShow one with: playml datasets NAME   (in Python: ml.datasets.load(NAME))")
        return 0
    ds = _open(args)
    if args.json:
        print_json(
            {
                "name": ds.name,
                "kind": ds.kind,
                "examples": len(ds),
                "labels": ds.labels,
                "counts": ds.counts(),
                "feature_names": ds.feature_names,
                "notes": ds.notes,
                "skipped": ds.skipped,
            }
        )
        return 0
    print(ds.describe())
    shown = min(args.rows, len(ds))
    print(f"## First {plural(shown, 'row')}\n" if shown != 1 else "## First row\n")
    preview(ds, args.rows)
    return 0
