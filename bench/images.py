"""Benchmark: the default image model (EfficientNet-Lite0) in playml vs plain PyTorch.

    .venv/bin/python -m bench.images

Measured in one run on this machine:

1. ms per image at batch 1 and batch 32: playml's ONNX Runtime session vs the same network
   in PyTorch eager mode (``torch.no_grad``, same number of threads);
2. end-to-end images per second over a folder of 200 JPEGs of 640×480 (decode + preprocess
   + infer): ``FeatureExtractor.features(folder)`` vs a naive PIL + PyTorch loop;
3. cold start in a new process with a warm export cache (import + first prediction):
   ``playml`` vs a PyTorch script that builds the network and loads the state dict;
4. ``precision="int8"`` against float32 in the same run: batch-1 and batch-32 ms/image,
   end-to-end images/s, and the agreement of the int8 model with float32 on crops of real
   photos it was not calibrated on (``playml.zoo.agreement.measure_agreement``).

``python -m bench.images --int8`` runs part 4 only.

Prints a table and writes it to ``bench/results/images.md``.
"""
from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = "efficientnet-lite0"
THREADS = 2
N_FOLDER = 200


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def timed(fn, repeat: int, warmup: int = 2, cpu: list | None = None) -> float:
    """Median wall seconds of ``fn()`` over ``repeat`` runs (median CPU seconds appended to ``cpu``)."""
    for _ in range(warmup):
        fn()
    times, cpus = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    if cpu is not None:
        cpu.append(statistics.median(cpus))
    return statistics.median(times)


def make_folder(folder: Path, n: int = N_FOLDER) -> list[Path]:
    """``n`` 640×480 JPEGs cut from real photos (random crops, flips, scales)."""
    import matplotlib.cbook
    import sklearn.datasets
    from PIL import Image
    from skimage import data

    photos = [data.coffee(), data.chelsea(), data.astronaut(), data.rocket(),
              sklearn.datasets.load_sample_image("china.jpg"), sklearn.datasets.load_sample_image("flower.jpg")]
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        photos.append(np.asarray(Image.open(f).convert("RGB")))
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        img = Image.fromarray(photos[i % len(photos)])
        w, h = img.size
        scale = rng.uniform(0.6, 1.0)
        cw, ch = int(w * scale), int(h * scale)
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        img = img.resize((640, 480), Image.Resampling.BILINEAR, box=(x, y, x + cw, y + ch))
        if rng.random() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        path = folder / f"{i:04d}.jpg"
        img.save(path, quality=90)
        paths.append(path)
    return paths


def bench_inference(rows: list) -> None:
    import torch

    import playml as ml

    torch.set_num_threads(THREADS)
    fe = ml.feature_extractor(MODEL, threads=THREADS)
    clf = ml.image_classifier(MODEL, threads=THREADS)
    net = clf.model
    size = fe.input_size
    rng = np.random.default_rng(0)
    for batch in (1, 32):
        session = clf._get_runner()._session(batch == 1)  # as playml runs one image, or many
        x = rng.standard_normal((batch, 3, size, size)).astype(np.float32)
        xt = torch.from_numpy(x)
        cpu: list[float] = []
        ours = timed(lambda: session.run(["logits"], {"images": x}), repeat=60 if batch == 1 else 8, cpu=cpu)

        def eager():
            with torch.no_grad():
                net(xt)

        peer = timed(eager, repeat=30 if batch == 1 else 4, cpu=cpu)
        ours, peer, (ours_cpu, peer_cpu) = ours / batch, peer / batch, (c / batch for c in cpu)
        target = "≤ 5 ms" if batch == 1 else ""
        rows.append([f"inference, batch {batch} (ms/image; CPU ms)", f"{ours * 1e3:.2f}; {ours_cpu * 1e3:.1f}",
                     f"{peer * 1e3:.2f}; {peer_cpu * 1e3:.1f}", f"{peer / ours:.1f}× faster", target])


def naive_pipeline(paths: list[Path], net, spec) -> np.ndarray:
    """What one would write by hand: PIL open, resize, crop, normalise, PyTorch."""
    import torch
    from PIL import Image

    size = spec.input_size
    out = []
    for start in range(0, len(paths), 32):
        batch = []
        for p in paths[start:start + 32]:
            img = Image.open(p).convert("RGB")
            w, h = img.size
            s = (size + 32) / min(w, h)
            img = img.resize((round(w * s), round(h * s)), Image.Resampling.BICUBIC)
            left, top = (img.width - size) // 2, (img.height - size) // 2
            img = img.crop((left, top, left + size, top + size))
            batch.append((np.asarray(img, dtype=np.float32) / 255.0 - 0.5) / 0.5)
        x = torch.from_numpy(np.stack(batch).transpose(0, 3, 1, 2).copy())
        with torch.no_grad():
            out.append(net.features(x).numpy())
    return np.concatenate(out)


def bench_end_to_end(rows: list, folder: Path, paths: list[Path]) -> None:
    import torch

    import playml as ml

    torch.set_num_threads(THREADS)
    fe = ml.feature_extractor(MODEL, threads=THREADS)
    fe.session
    net = ml.image_classifier(MODEL).model
    ours = timed(lambda: fe.features(folder, progress=False), repeat=3, warmup=1)
    peer = timed(lambda: naive_pipeline(paths, net, fe.spec), repeat=2, warmup=1)
    n = len(paths)
    rows.append([f"end to end, {n} JPEGs 640×480 (images/s)", f"{n / ours:.0f}", f"{n / peer:.0f}",
                 f"{peer / ours:.1f}× faster", "≥ 150"])


def bench_int8(rows: list, folder: Path, n: int) -> dict:
    """float32 vs int8 in the same run: inference ms/image (batch 1, 32), end to end images/s, agreement."""
    import playml as ml
    from playml.zoo import get_backbone
    from playml.zoo.agreement import measure_agreement

    rng = np.random.default_rng(0)
    extractors = {p: ml.feature_extractor(MODEL, threads=THREADS, precision=p) for p in ("float32", "int8")}
    size = extractors["float32"].input_size
    for batch in (1, 32):
        # the session playml runs one image on (threads spin through a run) or many (they sleep)
        sessions = {p: fe._get_runner()._session(batch == 1) for p, fe in extractors.items()}
        x = rng.standard_normal((batch, 3, size, size)).astype(np.float32)
        ms = {}
        for _ in range(2):  # interleaved twice: both see the same machine load; keep the best
            for p, sess in sessions.items():
                t = timed(lambda: sess.run(["features"], {"images": x}), repeat=40 if batch == 1 else 5) / batch
                ms[p] = min(ms.get(p, 1e9), t * 1e3)
        rows.append([f"inference, batch {batch} (ms/image)", f"{ms['float32']:.2f}", f"{ms['int8']:.2f}",
                     f"{ms['float32'] / ms['int8']:.2f}× faster", "≤ 2.5" if batch == 1 else ""])
    speed = {}
    for _ in range(2):
        for p, fe in extractors.items():
            speed[p] = max(speed.get(p, 0), n / timed(lambda: fe.features(folder, progress=False), repeat=2, warmup=1))
    rows.append([f"end to end, {n} JPEGs 640×480 (images/s)", f"{speed['float32']:.0f}", f"{speed['int8']:.0f}",
                 f"{speed['int8'] / speed['float32']:.2f}× faster", "≥ 200"])
    classify_ms = bench_classifier_recheck()
    rows.append(["classifier, batch 1, 240 crops one by one (ms/image): float32; int8; int8 re-running near-ties",
                 f"{classify_ms['float32']:.2f}", f"{classify_ms['int8']:.2f}; {classify_ms['recheck']:.2f}",
                 f"{classify_ms['float32'] / classify_ms['int8']:.2f}×; {classify_ms['float32'] / classify_ms['recheck']:.2f}×"
                 " faster", ""])
    agreement = measure_agreement(get_backbone(MODEL), threads=THREADS)
    rows.append([f"top-1 agreement with float32 ({agreement['images']} crops)", "1", f"{agreement['top1_agreement']:.3f}",
                 "", "≥ 0.99"])
    rows.append([f"the same, classifier re-running in float32 when int8's two best logits are within "
                 f"{agreement['margin']} (share re-run)", "1",
                 f"{agreement['top1_rechecked']:.3f} ({agreement['rechecked_share']:.3f})", "", "≥ 0.99"])
    rows.append([f"top-5 accuracy ({agreement['labelled']} labelled crops)", f"{agreement['top5_float32']:.3f}",
                 f"{agreement['top5_int8']:.3f}", "", "within 0.01"])
    from playml.zoo.quantize import imagenet_photos

    photos, truth = imagenet_photos()
    val = measure_agreement(get_backbone(MODEL), threads=THREADS, crops=photos, truth=truth)
    rows.append([f"{val['images']} ImageNet validation photos (foolbox 3.3.4): top-1 agreement; with re-runs (share)",
                 "1", f"{val['top1_agreement']:.3f}; {val['top1_rechecked']:.3f} ({val['rechecked_share']:.3f})", "",
                 "≥ 0.99"])
    rows.append(["the same photos: top-1; top-5 accuracy", f"{val['top1_float32']:.2f}; {val['top5_float32']:.2f}",
                 f"{val['top1_int8']:.2f}; {val['top5_int8']:.2f}", "", "within 0.01"])
    sys.path.insert(0, str(ROOT / "tests"))
    import _gcompris

    if _gcompris.available():  # the Debian package gcompris-qt-data (.ci/run installs it)
        photos, _ = _gcompris.gcompris_photos()
        gc = measure_agreement(get_backbone(MODEL), threads=THREADS, crops=photos)
        rows.append([f"{gc['images']} GCompris photos (Debian gcompris-qt-data 3.1): top-1 agreement; with re-runs "
                     "(share)", "1", f"{gc['top1_agreement']:.3f}; {gc['top1_rechecked']:.3f} "
                     f"({gc['rechecked_share']:.3f})", "", "≥ 0.99"])
    rows.append(["feature cosine to float32 (mean; lowest)", "1", f"{agreement['cosine_mean']:.4f}; "
                 f"{agreement['cosine_min']:.4f}", "", "mean ≥ 0.98"])
    return agreement


def bench_classifier_recheck() -> dict:
    """Mean ms per image of the image classifier's inference over the 240 agreement crops, one at
    a time (as a user classifying images one by one): float32, pure int8, int8 re-running
    near-ties in float32. Interleaved four times; the best pass of each."""
    import playml as ml
    from playml.zoo.preprocessing import preprocess
    from playml.zoo.quantize import agreement_photos

    crops, _ = agreement_photos(240)
    runners = {
        "float32": ml.image_classifier(MODEL, threads=THREADS)._get_runner(),
        "int8": ml.image_classifier(MODEL, threads=THREADS, precision="int8", recheck=False)._get_runner(),
        "recheck": ml.image_classifier(MODEL, threads=THREADS, precision="int8")._get_runner(),
    }
    batch = preprocess(crops, runners["float32"].spec)
    singles = [batch[i : i + 1] for i in range(len(batch))]
    ms: dict[str, float] = {}
    for turn in range(4):
        for name in runners if turn % 2 else reversed(list(runners)):
            runner = runners[name]
            for x in singles[:5]:
                runner.run(x, ["logits"], alone=True)
            start = time.perf_counter()
            for x in singles:
                runner.run(x, ["logits"], alone=True)
            ms[name] = min(ms.get(name, 1e9), (time.perf_counter() - start) / len(singles) * 1e3)
    return ms


def table(header: list, rows: list) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |" for r in [header, *rows]]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main_int8() -> None:
    load_before = load_average()
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_folder(Path(tmp))
        bench_int8(rows, Path(tmp), len(paths))
    text = table(["measure", "float32", "int8", "ratio", "target"], rows)
    print(text)
    note = (f"# int8 vs float32 ({MODEL})\n\n{datetime.date.today().isoformat()} · {machine()} · {THREADS} threads · "
            f"load average {load_before} at the start, {load_average()} at the end (both precisions measured "
            "interleaved in the same run; compare the ratios).\n\n" + text + "\n\n"
            "- int8: ONNX Runtime static quantisation (QDQ, weights int8 per channel, activations uint8 per tensor, "
            "asymmetric 99.999th-percentile calibration on 64 crops of the left part of real photos, weights re-rounded "
            "with GPTQ on the same crops, layer after layer against the partly quantised model's inputs, first 2 convolutions, pooling and classifier float32); agreement measured on 240 crops of "
            "their right part and of a photo never calibrated on (`playml.zoo.agreement.measure_agreement`).\n"
            "- classifier rows: the image classifier's inference on the 240 crops one at a time, as a user classifying "
            "photos one by one; 'int8 re-running near-ties' is the default `precision=\"int8\"` classifier, which runs an "
            "image again in float32 when int8's two best logits are within `RECHECK_MARGIN` and answers with float32's "
            "outputs for it; the best of four interleaved passes.\n")
    out = ROOT / "bench" / "results" / "images_int8.md"
    out.write_text(note, encoding="utf-8")
    print(f"\nwritten to {out.relative_to(ROOT)}")


def cold_start(code: str, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_cold_start(rows: list, image: Path) -> None:
    ours = cold_start(f"import playml as ml; print(ml.image_classifier({MODEL!r}).classify({str(image)!r})[0])")
    peer = cold_start(
        "import torch, numpy as np\n"
        "from PIL import Image\n"
        "from playml.zoo import get_backbone\n"
        f"spec = get_backbone({MODEL!r}); net = spec.build()\n"
        f"img = Image.open({str(image)!r}).convert('RGB').resize((224, 224))\n"
        "x = torch.from_numpy(((np.asarray(img, np.float32) / 255 - 0.5) / 0.5).transpose(2, 0, 1)[None].copy())\n"
        "with torch.no_grad(): print(int(net(x).argmax()))\n")
    rows.append(["cold start, new process (s)", f"{ours:.2f}", f"{peer:.2f}", f"{peer / ours:.1f}× faster",
                 "≤ 2 s"])


def main() -> None:
    load_before = load_average()
    rows: list[list[str]] = []
    bench_inference(rows)
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_folder(Path(tmp))
        bench_end_to_end(rows, Path(tmp), paths)
    bench_cold_start(rows, ROOT / "playml" / "samples" / "coffee.jpg")

    header = ["measure", "playml (ONNX Runtime)", "PyTorch eager", "ratio", "target"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |" for r in [header, *rows]]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    table = "\n".join(lines)
    print(table)
    note = (f"# Image backbone benchmark ({MODEL})\n\n"
            f"{datetime.date.today().isoformat()} · {machine()} · {THREADS} threads for both engines · "
            f"load average {load_before} at the start, {load_average()} at the end (a load above "
            f"{os.cpu_count()} means other jobs shared the CPUs: absolute figures are then slower than on an "
            "idle machine; compare the ratios).\n\n"
            f"{table}\n\n"
            "- inference: preprocessed 224×224 input, median of repeated runs; wall ms per image, then the "
            "CPU ms per image the process used (all threads).\n"
            f"- end to end: `fe.features(folder)` (draft JPEG decoding, one-call crop+resize, preprocessing "
            f"in a background thread overlapped with inference) vs a naive loop (PIL open, resize, crop, "
            f"NumPy normalise, PyTorch batch of 32) over {N_FOLDER} JPEGs cut from scikit-image/scikit-learn/"
            "matplotlib photos.\n"
            "- cold start: a new Python process with a warm ONNX cache, import + classify one photo; the "
            "peer imports PyTorch, builds the network and loads the state dict.\n")
    out = ROOT / "bench" / "results" / "images.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(note, encoding="utf-8")
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    if "--int8" in sys.argv[1:]:
        main_int8()
    else:
        main()
        main_int8()
