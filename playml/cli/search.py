"""``playml search``: build, query, map, score and merge image search indexes.

playml search build photos/ --out photos.index --layer blocks.5 --metric cosine
playml search add photos.index more_photos/      # add images; files already in it are kept
playml search query photos.index query.jpg -k 15
playml search map photos.index --out map.png
playml search evaluate photos.index
playml search build photos/ --out photos.index --ray             # Ray Data on a local Ray
playml search build /shared/photos --out photos.index --ray HEAD:6379   # … or join a cluster
playml search build photos/ --out part-0.index --shard 0/4      # on machine 0 of 4 …
playml search merge part-*.index --out photos.index
"""

from __future__ import annotations

import argparse
import time

from playml.cli._output import expand_images, plural, print_json, print_per_image, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "search",
        help="find similar images (build, query, map, evaluate, merge)",
        description="Image similarity search with any model, layer and distance metric (offline).",
    )
    ss = p.add_subparsers(dest="search_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])

    b = ss.add_parser(
        "build",
        help="embed a folder of images into an index",
        description="Embed every image of FOLDER (one sub-folder per label, if you want labels) "
        "into a search index. Interrupted builds resume; unchanged files are not "
        "embedded again.",
    )
    b.add_argument("folder", metavar="FOLDER")
    b.add_argument("--out", required=True, metavar="INDEX", help="where to save the index (a directory)")
    b.add_argument("--model", default=None, help="backbone (default efficientnet-lite0; see `playml models`)")
    b.add_argument("--layer", default=None, help="layer to read features from (default: features)")
    b.add_argument("--metric", default="cosine", help="cosine (default), euclidean, sqeuclidean, minkowski or dot")
    b.add_argument("--p", type=float, default=3, help="exponent of the minkowski metric (default 3)")
    b.add_argument("--exact", action="store_true", help="never use the approximate index")
    b.add_argument("--shard", default=None, metavar="I/N", help="embed only part I of N (then `search merge`)")
    b.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="embed with Ray Data: a local Ray, or join the cluster at ADDRESS (needs playml[ray])",
    )
    b.add_argument("--int8", action="store_true", help="use the int8 (quantised) backbone: about twice as fast")
    b.add_argument("--batch-size", type=int, default=32)
    b.add_argument(
        "--cache",
        default=None,
        metavar="DIR",
        help="folder for finished chunks (default: playml's cache); 'off' to disable",
    )
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=build_command)

    a = ss.add_parser(
        "add",
        help="add the images of more folders or files to an index",
        description="Embed the images of FOLDER… and add them to INDEX (saved in place). Files "
        "already in the index are kept; changed files are embedded again.",
    )
    a.add_argument("index", metavar="INDEX")
    a.add_argument("folders", nargs="+", metavar="FOLDER", help="folders (one sub-folder per label) or image files")
    a.add_argument("--batch-size", type=int, default=32)
    a.add_argument("--quiet", action="store_true", help="no progress bar")
    a.set_defaults(func=add_command)

    q = ss.add_parser("query", help="the images most like IMG", description="The K images of INDEX most like IMG.")
    q.add_argument("index", metavar="INDEX")
    q.add_argument("images", nargs="+", metavar="IMG")
    q.add_argument("-k", type=int, default=15, help="how many results (default 15)")
    q.add_argument("--metric", default=None, help="search with another metric than the index's")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=query_command)

    m = ss.add_parser(
        "map", help="draw a 2-D map of the index (UMAP)", description="Draw the embeddings in 2-D, coloured by label."
    )
    m.add_argument("index", metavar="INDEX")
    m.add_argument("--out", required=True, metavar="PNG")
    m.add_argument("--method", default="auto", choices=["auto", "umap", "pca"])
    m.set_defaults(func=map_command)

    e = ss.add_parser(
        "evaluate",
        help="ConvNet Playground search score of a labelled index",
        description="Mean position-weighted share of same-label images in each image's top K.",
    )
    e.add_argument("index", metavar="INDEX")
    e.add_argument("-k", type=int, default=15)
    e.add_argument("--metric", default=None, help="score another metric on the same vectors")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=evaluate_command)

    g = ss.add_parser(
        "merge",
        help="join indexes (e.g. shards) into one",
        description="Join indexes built with the same model and layer.",
    )
    g.add_argument("indexes", nargs="+", metavar="INDEX")
    g.add_argument("--out", required=True, metavar="INDEX")
    g.set_defaults(func=merge_command)


def build_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from playml.images.search import ImageSearch

    cache = True if args.cache is None else (False if args.cache.lower() in ("off", "no", "none") else args.cache)
    out = Path(args.out)
    start = time.perf_counter()
    before = None
    if out.exists():  # update: reuse the vectors of files that did not change
        index = ImageSearch.load(out, model=args.model, layer=args.layer, metric=args.metric)
        index.cache, index.batch_size = cache, args.batch_size
        before = len(index)
    else:
        index = ImageSearch(
            args.model or "efficientnet-lite0",
            args.layer,
            args.metric,
            p=args.p,
            exact=True if args.exact else None,
            batch_size=args.batch_size,
            cache=cache,
            precision="int8" if args.int8 else "float32",
        )
    if args.ray is not None:
        index.engine, index.address = "ray", None if args.ray == "local" else args.ray
    same_root = (
        before is not None and index.root_ is not None and Path(index.root_).resolve() == Path(args.folder).resolve()
    )
    if before is None or same_root:
        # a new index, or the same folder again: its images as they are now (deleted files leave)
        index.build(args.folder, progress=not args.quiet and None, shard=args.shard)
    else:
        # another folder into an existing index: add its images, keep the others
        index.add(args.folder, progress=not args.quiet and None)
    index.save(out)
    if before is not None:
        how = "refreshed from" if same_root else "added"
        print(
            f"{out} existed with {plural(before, 'image')}: {how} {args.folder} (use `playml search add` to add more)"
        )
    stats = index.last_build_
    labels = len(index.labels)
    with_labels = f", {plural(labels, 'label')}" if labels else ""
    print(
        f"{out}: {plural(len(index), 'image')}{with_labels} · {index.extractor!r} · "
        f"metric {index.index_._metric} · embedded {stats['embedded']}, reused "
        f"{stats['kept'] + stats['from_cache']}, skipped {stats['skipped']} · {time.perf_counter() - start:.1f} s"
    )
    for path, why in index.skipped_[:10]:
        print(f"  skipped {path}: {why}")
    return 0


def add_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from playml.errors import MissingFileError

    if not Path(args.index).exists():
        raise MissingFileError(
            f"There is no index {args.index!r}. Make one first: playml search build FOLDER --out {args.index}"
        )
    start = time.perf_counter()
    index = _load(args.index)
    index.batch_size = args.batch_size
    before = len(index)
    for folder in args.folders:
        index.add(folder, progress=not args.quiet and None)
    index.save(args.index)
    print(
        f"{args.index}: {before} → {plural(len(index), 'image')} ({len(index) - before} added) · "
        f"{time.perf_counter() - start:.1f} s"
    )
    return 0


def _load(path: str, metric: str | None = None):
    from playml.images.search import ImageSearch

    return ImageSearch.load(path, metric=metric)


def query_command(args: argparse.Namespace) -> int:
    from playml.errors import InputError

    if args.k < 1:
        raise InputError("-k must be at least 1.")
    index = _load(args.index, args.metric)
    files = expand_images(args.images)
    layer = index.extractor.layer or "features"
    print_per_image(
        files,
        index.query(files, top_k=args.k),
        key="matches",
        as_json=args.json,
        title=lambda f: f"{f}  ({index.index_._metric}, {index.extractor.model_name} {layer})",
        rows=lambda matches: [
            [n + 1, m.path, m.label or "", f"{m.distance:.4g}", f"{m.score:.4g}"] for n, m in enumerate(matches)
        ],
        header=["#", "image", "label", "distance", "score"],
    )
    return 0


def map_command(args: argparse.Namespace) -> int:
    import sys

    index = _load(args.index)
    if args.method == "umap" or (args.method == "auto" and len(index) >= 20):
        print(
            f"drawing a UMAP of {len(index)} images (the first map of a session takes 10–30 s while UMAP "
            "compiles; --method pca is instant)…",
            file=sys.stderr,
            flush=True,
        )
    index.plot_map(args.method).save(args.out, dpi=120)
    print(f"{args.out}: map of {plural(len(index), 'image')}")
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    index = _load(args.index, args.metric)
    result = index.evaluate(top_k=args.k)
    if args.json:
        print_json(result)
        return 0
    print(
        f"search score (top {result.k}, position weighted): {result.score:.3f}   random: {result.baseline:.3f}   "
        f"best possible: {result.ideal:.3f}   ({result.queries} queries)"
    )
    print_table([[label, f"{score:.3f}"] for label, score in result.per_label.items()], ["label", "score"])
    return 0


def merge_command(args: argparse.Namespace) -> int:
    from playml.images.search import ImageSearch

    index = ImageSearch.merge(args.indexes)
    index.save(args.out)
    print(f"{args.out}: {plural(len(index), 'image')} from {plural(len(args.indexes), 'index', 'indexes')}")
    return 0
