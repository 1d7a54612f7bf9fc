"""``playml pitch``, ``playml similar`` and ``playml sentiment``.

playml pitch hum.wav                      # A4  440.2 Hz  (confidence 0.93)
playml pitch hum.wav --track --plot pitch.png
playml similar "happy dog" sentences.txt  # one candidate per line
playml similar "happy dog" "a joyful puppy" "tax forms" -k 1
playml sentiment "What a lovely day"
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playml.cli._output import print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pitch",
        help="find the pitch of a sound file (CREPE)",
        description="Find the pitch (frequency and note) of a WAV, FLAC or OGG file with CREPE.",
    )
    p.add_argument("file", metavar="FILE", help="a WAV, FLAC or OGG file")
    p.add_argument("--model", default="tiny", choices=["tiny", "full"], help="CREPE size (default tiny)")
    p.add_argument("--track", action="store_true", help="print the pitch every 10 ms instead of one summary")
    p.add_argument("--plot", metavar="PNG", help="save a chart of the pitch over time to this image file")
    p.add_argument(
        "--threshold", type=float, default=0.5, help="minimum confidence for a pitch (default 0.5, like ml5.js)"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=pitch_command)

    p = sub.add_parser(
        "similar",
        help="rank sentences by how similar their meaning is to a query",
        description="Rank candidate sentences by similarity of meaning to QUERY "
        "(all-MiniLM-L6-v2 sentence embeddings).",
    )
    p.add_argument("query", metavar="QUERY", help="the sentence to compare with")
    p.add_argument(
        "candidates",
        nargs="+",
        metavar="FILE_OR_TEXT",
        help="a text file with one candidate per line, or the candidates themselves",
    )
    p.add_argument("-k", "--top-k", type=int, default=None, metavar="K", help="show only the K most similar")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=similar_command)

    p = sub.add_parser(
        "sentiment",
        help="is a text positive, negative or neutral? (VADER)",
        description="Label English text as positive, negative or neutral (VADER lexicon).",
    )
    p.add_argument("texts", nargs="+", metavar="TEXT", help="one or more texts (quote each one)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=sentiment_command)


def pitch_command(args: argparse.Namespace) -> int:
    from playml.sound.pitch import frequency_to_note, pitch_detection

    detector = pitch_detection(args.model, threshold=args.threshold)
    track = detector.track(args.file)
    summary = track.summary()
    if args.plot:
        fig = track.plot(title=f"pitch of {Path(args.file).name} (CREPE {args.model})")
        fig.savefig(args.plot, dpi=120)
    if args.json:
        frames = None
        if args.track:  # JSON has no NaN: frames without a clear pitch get null
            frames = track.to_dict()
            for key in ("frequency", "raw_frequency"):
                frames[key] = [None if f != f else f for f in frames[key]]
        print_json({"file": args.file, "model": args.model, "pitch": summary, "track": frames})
    elif args.track:
        rows = [
            [f"{t:.2f}", "-" if f != f else f"{f:.1f}", f"{c:.2f}", frequency_to_note(f) or "-"]
            for t, f, c in zip(track.times, track.frequency, track.confidence)
        ]
        print_table(rows, ["time (s)", "frequency (Hz)", "confidence", "note"])
    elif summary.frequency is None:
        print(f"{args.file}: no clear pitch (confidence {summary.confidence:.2f})")
    else:
        print(
            f"{args.file}: {summary.note}  {summary.frequency:.1f} Hz  {summary.cents:+.0f} cents  "
            f"(confidence {summary.confidence:.2f})"
        )
    if args.plot and not args.json:
        print(f"chart saved to {args.plot}")
    return 0


def similar_command(args: argparse.Namespace) -> int:
    from playml.text.sentences import read_lines, sentence_encoder

    one = args.candidates[0]
    if len(args.candidates) == 1 and Path(one).is_file():
        candidates = read_lines(one)
    else:
        candidates = args.candidates
    results = sentence_encoder().most_similar(args.query, candidates, top_k=args.top_k)
    if args.json:
        print_json({"query": args.query, "results": results})
        return 0
    print_table([[f"{r.score:.3f}", r.text] for r in results], ["similarity", "text"])
    return 0


def sentiment_command(args: argparse.Namespace) -> int:
    from playml.text.sentiment import sentiment

    results = sentiment().predict(list(args.texts))
    assert isinstance(results, list)
    if args.json:
        print_json([{"text": t, **r.to_dict()} for t, r in zip(args.texts, results)])
        return 0
    print_table(
        [[r.label, f"{r.confidence:.2f}", f"{r.scores['compound']:+.3f}", t] for t, r in zip(args.texts, results)],
        ["sentiment", "confidence", "compound", "text"],
    )
    return 0
