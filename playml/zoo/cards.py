"""Model cards: where a bundled model came from and what it gets wrong.

>>> import playml as ml
>>> ml.models("efficientnet-lite0")                      # doctest: +SKIP
ModelCard(name='efficientnet-lite0', input_size=224, labels=1000, parameters='4.7M')
>>> print(ml.models("efficientnet-lite0"))               # the whole card, as Markdown  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from playml.results import Result

__all__ = ["ModelCard", "IMAGENET_WEAKNESSES", "installed_version"]

IMAGENET_WEAKNESSES = (
    "ImageNet has no 'person' class: people are labelled by what they wear or hold "
    "('suit', 'jersey', 'lab coat', 'microphone').",
    "The photos are mostly from North America and Western Europe; food, clothes, homes and "
    "ceremonies from elsewhere are recognised less well (DeVries et al. 2019, 'Does object "
    "recognition work for everyone?').",
    "It always answers with one of its 1,000 labels, even for things it never saw; a low "
    "confidence is a hint, not a guarantee.",
    "120 labels are dog breeds: it confuses similar breeds (and other fine-grained classes "
    "such as mushrooms or snakes) much more than everyday objects.",
    "It looks at a centre crop of a small square image: things near the edges of a wide photo "
    "are cut off and small objects get lost.",
    "Drawings, screenshots, diagrams, medical and satellite images are outside what it learned.",
)


def _format_count(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


@dataclass(repr=False)
class ModelCard(Result):
    """Facts about one bundled model. ``print(card)`` shows it as Markdown."""

    name: str
    title: str
    task: str
    description: str
    package: str
    version: str
    authors: str
    paper: str
    training_data: str
    license: str
    input_size: int | None = None
    labels: int | None = None
    parameters: int | None = None
    feature_dim: int | None = None
    layers: int | None = None
    accuracy: str | None = None
    preprocessing: str | None = None
    labels_source: str | None = None
    weaknesses: tuple = field(default_factory=tuple)

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}"]
        if self.input_size:
            parts.append(f"input_size={self.input_size}")
        if self.labels:
            parts.append(f"labels={self.labels}")
        if self.parameters:
            parts.append(f"parameters={_format_count(self.parameters)!r}")
        return f"ModelCard({', '.join(parts)})"

    def to_markdown(self) -> str:
        """The card as Markdown (what ``playml models NAME`` prints)."""
        lines = [f"# {self.title} (`{self.name}`)", "", self.description, ""]
        rows = [
            ("task", self.task),
            ("source", f"{'npm' if self.package.startswith('@') else 'pip'} package `{self.package}` {self.version}"),
            ("authors", self.authors),
            ("paper", self.paper),
            ("training data", self.training_data),
            ("license", self.license),
            ("input", f"{self.input_size}×{self.input_size} RGB" if self.input_size else None),
            ("preprocessing", self.preprocessing),
            (
                "labels",
                f"{self.labels}" + (f" ({self.labels_source})" if self.labels_source else "") if self.labels else None,
            ),
            ("parameters", f"{self.parameters:,}" if self.parameters else None),
            (
                "features",
                f"{self.feature_dim} numbers per image; {self.layers} readable layers" if self.feature_dim else None,
            ),
            ("accuracy", self.accuracy),
        ]
        lines += [f"- **{k}**: {v}" for k, v in rows if v]
        if self.weaknesses:
            lines += ["", "## Known weaknesses", ""] + [f"- {w}" for w in self.weaknesses]
        return "\n".join(lines) + "\n"

    __str__ = to_markdown

    def _repr_markdown_(self) -> str:  # notebooks
        return self.to_markdown()

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["weaknesses"] = list(self.weaknesses)
        return d


def installed_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "(not installed)"
