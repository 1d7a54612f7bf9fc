"""``playml datasets``: list the bundled data sets, or show one's card and first rows.

playml datasets                       # names, kinds, sizes, summaries
playml datasets iris                  # the data card, counts per label, a preview
playml datasets spiral -o noise=0.2   # options of a data set
playml datasets my_photos/            # your own folder (one sub-folder per label)
playml datasets readings.csv --label activity
"""

from __future__ import annotations

import argparse
from typing import Any

from playml.cli._output import print_json, print_table

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
    p.add_argument("--label", help="for a CSV file: the column to predict")
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


def _open(args: argparse.Namespace):
    from pathlib import Path

    from playml import datasets

    path = Path(args.name)
    if path.is_dir():
        return datasets.from_folder(path, **_options(args.option))
    if path.suffix.lower() == ".csv" or path.is_file():
        return datasets.from_csv(path, label=args.label, **_options(args.option))
    return datasets.load(args.name, **_options(args.option))


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
    print(f"## First {min(args.rows, len(ds))} rows\n")
    preview(ds, args.rows)
    return 0
