"""A small coverage-guided fuzzer for every playml loader (run by tests/test_fuzz_loaders.py).

    python tests/fuzz_loaders.py GROUP SECONDS SEED OUT_JSON

GROUP is ``media`` (images, audio, CSV and ml5 data files), ``models`` (ml5 / TF.js / playml
network folders, image classification heads, sound classifiers, anomaly detector files) or
``index`` (image search index folders). Each loader starts from valid seed files made here,
then mutates them (bit flips, interesting integers, truncation, splicing; for JSON: values
replaced by wrong types, huge or negative numbers, paths leading outside, deep nesting; for
folders: files swapped for symbolic links, pipes, folders or removed). An input that makes
playml run a line it never ran before joins the corpus (line coverage of playml's own code,
through sys.settrace). Every input must end in a result or a PlaymlError — any other
exception, an allocation refused by the memory cap (MemoryError), or a call that takes
longer than PER_CALL seconds is a failure. The address space is capped with
resource.setrlimit at the baseline after warm-up plus ``PLAYML_FUZZ_MEMORY_MB`` (1536).
"""
from __future__ import annotations

import copy
import io
import json
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import playml as ml  # noqa: E402
from playml.errors import PlaymlError  # noqa: E402

PER_CALL = 20.0  # seconds; generous because CI shares two cores
MEMORY_MB = int(os.environ.get("PLAYML_FUZZ_MEMORY_MB", 1536))
INTERESTING = [0, 1, -1, 2, 255, 256, 65535, 65536, 2**31 - 1, 2**31, 2**32 - 1, 2**63 - 1, 10**9, -(2**31)]
JSON_VALUES = [None, True, False, 0, -1, 1, 0.5, -0.5, 1e308, -1e308, 2**31, 10**30, 200_000_000, "", "x",
               "../outside.bin", "/etc/hostname", "/proc/self/environ", "./model.weights.bin", [], {}, [1, 2],
               {"a": 1}, "NaN", [None], [-1], [0], [200_000_000], "1"]


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


# ------------------------------------------------------------------------------ coverage
COVERED: set[tuple[str, int]] = set()
_NEW = [0]
_PREFIX = str(ROOT / "playml")


def _local(frame, event, arg):
    if event == "line":
        key = (frame.f_code.co_filename, frame.f_lineno)
        if key not in COVERED:
            COVERED.add(key)
            _NEW[0] += 1
    return _local


def _global(frame, event, arg):
    if frame.f_code.co_filename.startswith(_PREFIX):
        return _local
    return None


# ------------------------------------------------------------------------------ mutators
def mutate_bytes(data: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 3, 6])):
        op = rng.randrange(8)
        if not b:
            b = bytearray(rng.randbytes(rng.randint(1, 64)))
            continue
        i = rng.randrange(len(b))
        if op == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            b[i] = rng.choice([0, 0xFF, 0x7F, 0x80, 0x01])
        elif op == 2 and len(b) > 4:
            v = rng.choice(INTERESTING) & 0xFFFFFFFF
            j = rng.randrange(len(b) - 3)
            b[j:j + 4] = v.to_bytes(4, rng.choice(["little", "big"]))
        elif op == 3:
            del b[i:i + rng.randint(1, max(1, len(b) // 8))]
        elif op == 4:
            b[i:i] = rng.randbytes(rng.randint(1, 32))
        elif op == 5:
            b = b[:i]
        elif op == 6:
            j = rng.randrange(len(b))
            b[i:i] = b[j:j + rng.randint(1, 64)]
        elif op == 7 and corpus:
            other = rng.choice(corpus)
            if other:
                j = rng.randrange(len(other))
                b = b[:i] + other[j:]
    return bytes(b)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:20]):
            yield from _paths(v, prefix + (i,))


def mutate_json(data: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return mutate_bytes(data, rng, corpus)
    doc = copy.deepcopy(doc)
    for _ in range(rng.choice([1, 1, 2, 3])):
        paths = list(_paths(doc))
        path = rng.choice(paths)
        if not path:
            if rng.random() < 0.1:
                doc = rng.choice(JSON_VALUES)
            continue
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        op = rng.randrange(6)
        if op == 0 and isinstance(parent, dict):
            parent.pop(key, None)
        elif op == 1:
            parent[key] = "__DEEP__"
        elif op == 2 and isinstance(parent[key], (int, float)) and not isinstance(parent[key], bool):
            parent[key] = rng.choice([parent[key] * 1000, -parent[key], parent[key] + 1, float("nan"),
                                      float("inf"), 0])
        elif op == 3 and isinstance(parent[key], list) and parent[key]:
            if rng.random() < 0.5:
                parent[key] = parent[key] * rng.randint(2, 4)
            else:
                del parent[key][rng.randrange(len(parent[key]))]
        else:
            parent[key] = copy.deepcopy(rng.choice(JSON_VALUES))
    try:
        text = json.dumps(doc)
    except (ValueError, RecursionError):
        return data
    depth = rng.choice([100, 1000, 100_000])
    return text.replace('"__DEEP__"', "[" * depth + "]" * depth).encode()


# ------------------------------------------------------------------------------ seeds
def media_seeds(work: Path) -> dict[str, list]:
    from PIL import Image
    import soundfile as sf

    img = np.asarray(Image.open(ROOT / "playml" / "samples" / "coffee.jpg").convert("RGB").resize((48, 32)))
    images = []
    for fmt, kw in [("PNG", {}), ("JPEG", {"quality": 80}), ("GIF", {}), ("BMP", {}), ("TIFF", {}),
                    ("WEBP", {"quality": 70})]:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, fmt, **kw)
        images.append(buf.getvalue())
    buf = io.BytesIO()
    Image.fromarray((img[:, :, 0].astype(np.uint16) * 257)).save(buf, "PNG")
    images.append(buf.getvalue())
    t = np.arange(4000) / 8000
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sounds = []
    for fmt, sub in [("WAV", "PCM_16"), ("WAV", "FLOAT"), ("FLAC", "PCM_16"), ("OGG", "VORBIS"), ("WAV", "PCM_U8")]:
        buf = io.BytesIO()
        sf.write(buf, tone, 8000, format=fmt, subtype=sub)
        sounds.append(buf.getvalue())
    csvs = [b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n", b"x,y\n0.1,1\n0.2,2\n0.3,3\n",
            b"name,size,kind\ncat,3,a\ndog,4,b\ncat,5,a\nemu,6,b\n"]
    data_json = [json.dumps({"data": [{"xs": {"a": 1, "b": 2}, "ys": {"label": "x"}},
                                      {"xs": {"a": 3, "b": 4}, "ys": {"label": "y"}}]}).encode()]
    return {"image": images, "audio": sounds, "csv": csvs, "data_json": data_json}


def model_seeds(work: Path) -> dict[str, Path]:
    import torch

    out = {}
    nn = ml.neural_network(task="classification", inputs=2, outputs=1, seed=0)
    for a, b, label in [(0, 0, "lo"), (1, 1, "hi"), (0.1, 0.2, "lo"), (0.9, 0.8, "hi")] * 4:
        nn.add_data([a, b], [label])
    nn.train(epochs=2, progress=False, validation_split=0)
    out["network"] = nn.save(work / "seed-network")
    reg = ml.neural_network(task="regression", inputs=["x"], outputs=["y"], seed=0)
    for x in range(8):
        reg.add_data([x], [2 * x])
    reg.train(epochs=2, progress=False, validation_split=0)
    out["regression"] = reg.save(work / "seed-regression")
    img = ml.neural_network(task="imageClassification", inputs=[32, 32, 3], seed=0)
    rng = np.random.default_rng(0)
    for i in range(6):
        img.add_data(rng.integers(0, 255, (32, 32, 3)).astype(np.uint8), ["a" if i % 2 else "b"])
    img.train(epochs=1, progress=False, validation_split=0)
    out["conv"] = img.save(work / "seed-conv")
    det = ml.anomaly_detector(hidden=[4], latent=2, seed=0)
    det.fit(np.random.default_rng(0).normal(size=(64, 5)), epochs=2, progress=False)
    out["detector"] = det.save(work / "seed-detector")
    from playml.sound.sounds import FEATURE_SIZE, _build_head

    snd = ml.sound_classifier(hidden_units=8)
    snd.model_ = _build_head(FEATURE_SIZE, 8, 2, 0.25).eval()
    snd.labels_, snd.history_ = ["clap", "snap"], None
    out["sound"] = snd.save(work / "seed-sound")
    head = ml.ImageClassification(hidden_units=8, seed=0)
    coffee = ROOT / "playml" / "samples" / "coffee.jpg"
    cat = ROOT / "playml" / "samples" / "chelsea.jpg"
    for path, label in [(coffee, "coffee"), (cat, "cat")] * 2:
        head.add_image(path, label)
    head.train(epochs=2, validation_split=0, progress=False)
    out["image_head"] = head.save(work / "seed-image-head")
    del torch
    return out


def index_seeds(work: Path) -> dict[str, Path]:
    samples = ROOT / "playml" / "samples"
    index = ml.image_search([samples / "coffee.jpg", samples / "chelsea.jpg", samples / "astronaut.jpg"],
                            cache=False)
    exact = index.save(work / "seed-index")
    return {"index": exact}


# ------------------------------------------------------------------------------ running
def check_result(obj) -> None:
    """Use what was loaded, as a person would right after loading it."""
    if isinstance(obj, ml.NeuralNetwork):
        units = obj.meta_["inputUnits"]
        if obj.task_ == "imageClassification":
            x = np.zeros(tuple(units), dtype=np.float32)
        else:
            x = [0.5] * len(obj.input_names)
        (obj.predict if obj.task_ == "regression" else obj.classify)(x)
    elif type(obj).__name__ == "AnomalyDetector":
        obj.score(np.zeros((2, obj.n_features_)))
    elif type(obj).__name__ == "ImageSearch":
        obj.query_vector(np.ones(obj.dim, dtype=np.float32), k=2)
    elif type(obj).__name__ == "SoundClassifier":
        obj.classify(np.zeros(16000, dtype=np.float32), sample_rate=16000)


def call(fn, stats, failures, repro):
    signal.setitimer(signal.ITIMER_REAL, PER_CALL)
    try:
        result = fn()
        if result is not None:
            check_result(result)
        stats["ok"] += 1
    except Hang:
        failures.append({"kind": "hang", "repro": repro})
    except PlaymlError as e:
        msg = str(e)
        if "MemoryError" in msg or "can't allocate" in msg or "allocate memory" in msg:
            failures.append({"kind": "memory", "error": msg[:300], "repro": repro})
        else:
            stats["playml_error"] += 1
    except MemoryError:
        failures.append({"kind": "memory", "error": "MemoryError", "repro": repro})
    except Exception as e:  # noqa: BLE001 - this is what the fuzzer looks for
        failures.append({"kind": type(e).__name__, "error": str(e)[:300], "repro": repro,
                         "where": traceback.format_exc().splitlines()[-3:]})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _vmsize() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def fuzz_files(name, seeds, loader, deadline, rng, stats, failures, work, suffix):
    corpus = list(seeds)
    is_json = name in ("data_json",)
    n = 0
    while time.monotonic() < deadline:
        parent = rng.choice(corpus)
        data = mutate_json(parent, rng, corpus) if is_json else mutate_bytes(parent, rng, corpus)
        target = work / f"input{suffix}"
        target.write_bytes(data)
        before = _NEW[0]
        repro = str(work / "repro" / f"{name}-{n}{suffix}")
        call(lambda: loader(target, data), stats, failures, repro)
        if failures and failures[-1]["repro"] == repro:
            os.makedirs(work / "repro", exist_ok=True)
            shutil.copy(target, repro)
        if _NEW[0] > before and len(corpus) < 500:
            corpus.append(data)
        n += 1
    stats["inputs"][name] = n
    stats["corpus"][name] = len(corpus)


def fuzz_folder(name, seed: Path, loader, deadline, rng, stats, failures, work):
    files = {p.name: p.read_bytes() for p in seed.iterdir()}
    corpus = [files]
    outside = work / "outside.bin"
    outside.write_bytes(files.get("model.weights.bin", b"x" * 64))
    n = 0
    while time.monotonic() < deadline:
        parent = rng.choice(corpus)
        child = dict(parent)
        special = None
        for _ in range(rng.choice([1, 1, 2])):
            fname = rng.choice(sorted(child))
            if rng.random() < 0.06:
                special = (fname, rng.choice(["symlink", "fifo", "dir", "missing"]))
            elif fname.endswith(".json") and rng.random() < 0.8:
                child[fname] = mutate_json(child[fname], rng, [])
            else:
                child[fname] = mutate_bytes(child[fname], rng, [])
        folder = work / f"case-{name}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for fname, data in child.items():
            (folder / fname).write_bytes(data)
        if special:
            fname, what = special
            (folder / fname).unlink()
            if what == "symlink":
                (folder / fname).symlink_to(outside)
            elif what == "fifo":
                os.mkfifo(folder / fname)
            elif what == "dir":
                (folder / fname).mkdir()
        before = _NEW[0]
        repro = str(work / "repro" / f"{name}-{n}")
        call(lambda: loader(folder), stats, failures, repro)
        if failures and failures[-1]["repro"] == repro and not special:
            shutil.copytree(folder, repro, dirs_exist_ok=True)
        if _NEW[0] > before and len(corpus) < 300 and not special:
            corpus.append(child)
        n += 1
    stats["inputs"][name] = n
    stats["corpus"][name] = len(corpus)


def main() -> None:
    group, seconds, seed, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    rng = random.Random(seed)
    import warnings

    warnings.simplefilter("ignore")  # version and overflow warnings about mutated files are expected
    signal.signal(signal.SIGALRM, _alarm)
    work = Path(tempfile.mkdtemp(prefix=f"playml-fuzz-{group}-"))
    stats = {"group": group, "inputs": {}, "corpus": {}, "ok": 0, "playml_error": 0}
    failures: list[dict] = []
    from playml.core.audio import load_audio
    from playml.core.media import load_image

    if group == "media":
        seeds = media_seeds(work)
        targets = [
            ("image", seeds["image"], lambda p, d: (load_image(d), load_image(p))[0] is None or None, ".img"),
            ("audio", seeds["audio"], lambda p, d: (load_audio(d, target_rate=16000), load_audio(p))[0] is None or None,
             ".wav"),
            ("csv", seeds["csv"], lambda p, d: (ml.datasets.from_csv(p), None)[1], ".csv"),
            ("csv_ml5", seeds["csv"], lambda p, d: ml.neural_network().load_data(p), ".csv"),
            ("data_json", seeds["data_json"], lambda p, d: ml.neural_network().load_data(p), ".json"),
        ]
        for name, seeds_, loader, suffix in targets:  # warm up (imports) before the clock starts
            path = work / f"warm{suffix}"
            path.write_bytes(seeds_[0])
            loader(path, seeds_[0])
    elif group == "models":
        folders = model_seeds(work)
        targets = [(k, v) for k, v in folders.items()]
        for _, v in targets:
            check_result(ml.load(v))
    else:
        folders = index_seeds(work)
        targets = list(folders.items())
        check_result(ml.load(targets[0][1]))
    baseline = _vmsize()
    cap = baseline + MEMORY_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    stats["memory_cap_mb"] = cap >> 20
    stats["baseline_mb"] = baseline >> 20
    sys.settrace(_global)
    start = time.monotonic()
    share = seconds / len(targets)
    for i, target in enumerate(targets):
        deadline = start + share * (i + 1)
        if group == "media":
            name, seeds_, loader, suffix = target
            fuzz_files(name, seeds_, loader, deadline, rng, stats, failures, work, suffix)
        else:
            name, folder = target
            fuzz_folder(name, folder, ml.load, deadline, rng, stats, failures, work)
    sys.settrace(None)
    stats["lines_covered"] = len(COVERED)
    stats["failures"] = failures[:20]
    stats["failure_count"] = len(failures)
    stats["total_inputs"] = sum(stats["inputs"].values())
    out.write_text(json.dumps(stats, indent=1, default=str))
    if not failures:
        shutil.rmtree(work, ignore_errors=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip the interpreter's teardown: with the address-space cap in force, native thread pools
    # (ONNX Runtime) have been seen to crash while shutting down, after all the work was done
    # and the results written.
    os._exit(0)


if __name__ == "__main__":
    main()
