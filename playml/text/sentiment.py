"""Sentiment: is a piece of English text positive, negative or neutral?

playml uses VADER (Hutto & Gilbert, 2014), a lexicon of about 7,500 words, emoticons and
emoji rated by people, plus rules for negation ("not good"), boosters ("very good"),
capitals ("GOOD") and "but". It needs no network and runs in microseconds per sentence.

>>> import playml as ml
>>> ml.sentiment().predict("What a lovely day")
Sentiment(label='positive', confidence=0.793)
>>> ml.sentiment().predict("This is the worst film I have ever seen.").label
'negative'
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any

from playml.core.reprs import build_repr
from playml.errors import DependencyError, InputError, unknown_name
from playml.results import Result

if TYPE_CHECKING:  # pragma: no cover
    from playml.zoo.cards import ModelCard

__all__ = ["Sentiment", "SentimentAnalyzer", "sentiment"]

DEFAULT_MODEL = "vader"
_MODELS = (DEFAULT_MODEL,)


@dataclasses.dataclass(repr=False)
class Sentiment(Result):
    """The sentiment of one text.

    ``label`` is 'positive', 'negative' or 'neutral'; ``confidence`` (0–1) how clearly;
    ``score`` how positive from 0 (very negative) to 1 (very positive), like ml5.js's
    ``score``; ``scores`` holds VADER's own numbers (shares of negative, neutral and
    positive words, and the ``compound`` from −1 to 1).
    """

    label: str
    confidence: float
    score: float = dataclasses.field(repr=False, default=0.5)
    scores: dict = dataclasses.field(repr=False, default_factory=dict)


@functools.cache
def _vader():
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        raise DependencyError(
            "Sentiment uses the package 'vaderSentiment', which is not installed. "
            "Run `make setup`, or: pip install --no-deps vaderSentiment==3.3.2"
        ) from None
    return SentimentIntensityAnalyzer()


class SentimentAnalyzer:
    """Label English text as positive, negative or neutral (VADER lexicon and rules).

    A text is positive when VADER's compound score is at least ``threshold`` (0.05, as
    VADER's authors recommend), negative at most −``threshold``, neutral in between.

    >>> analyzer = SentimentAnalyzer()
    >>> [s.label for s in analyzer.predict(["I love it!", "I hate it.", "It is a table."])]
    ['positive', 'negative', 'neutral']
    """

    def __init__(self, model: str = DEFAULT_MODEL, *, threshold: float = 0.05):
        if str(model).lower() not in _MODELS:
            raise unknown_name("sentiment model", model, _MODELS)
        if not 0.0 <= threshold < 1.0:
            raise InputError(f"threshold is a compound score between 0 and 1 (got {threshold}). VADER suggests 0.05.")
        self.model_name = str(model).lower()
        self.threshold = threshold

    def __repr__(self) -> str:
        return build_repr("SentimentAnalyzer", model=self.model_name, threshold=self.threshold)

    @property
    def model(self):
        """The engine: vaderSentiment's ``SentimentIntensityAnalyzer`` (``.polarity_scores(text)``)."""
        return _vader()

    @property
    def model_card(self) -> ModelCard:
        return vader_card()

    def _one(self, text: Any, index: int | None = None) -> Sentiment:
        where = "" if index is None else f" (item {index})"
        if not isinstance(text, str):
            raise InputError(f"Sentiment needs text{where}, a string (got a {type(text).__name__}).")
        if not text.strip():
            raise InputError(f"The text{where} is empty. Pass a sentence, like 'What a lovely day'.")
        raw = self.model.polarity_scores(text)
        compound = float(raw["compound"])
        score = (compound + 1.0) / 2.0
        if compound >= self.threshold:
            label, confidence = "positive", score
        elif compound <= -self.threshold:
            label, confidence = "negative", 1.0 - score
        else:
            label, confidence = "neutral", 1.0 - abs(compound)
        scores = {"negative": raw["neg"], "neutral": raw["neu"], "positive": raw["pos"], "compound": compound}
        return Sentiment(label=label, confidence=round(confidence, 4), score=round(score, 4), scores=scores)

    def predict(self, text: str | list[str]) -> Sentiment | list[Sentiment]:
        """The :class:`Sentiment` of one text, or a list of them for a list of texts."""
        if isinstance(text, str):
            return self._one(text)
        if isinstance(text, (list, tuple)) or (hasattr(text, "__iter__") and not isinstance(text, (bytes, dict))):
            items = list(text)
            if not items:
                raise InputError("The list of texts is empty. Pass at least one sentence.")
            return [self._one(t, i) for i, t in enumerate(items)]
        raise InputError(f"Pass a text as a string, or several as a list of strings (got a {type(text).__name__}).")


def sentiment(model: str = DEFAULT_MODEL, **options) -> SentimentAnalyzer:
    """A :class:`SentimentAnalyzer` (VADER). ``ml.sentiment().predict("What a lovely day")``."""
    return SentimentAnalyzer(model, **options)


@functools.cache
def vader_card() -> ModelCard:
    from playml.zoo.cards import ModelCard, installed_version

    return ModelCard(
        name="vader",
        title="VADER sentiment lexicon and rules",
        task="sentiment of English text",
        description=(
            "A list of about 7,500 words, emoticons and emoji, each rated from −4 to +4 by ten people, "
            "plus five rules for negation, boosters, capitals, exclamation marks and 'but'. No "
            "network: every decision can be traced to the words."
        ),
        package="vaderSentiment",
        version=installed_version("vaderSentiment"),
        authors="C.J. Hutto and Eric Gilbert",
        paper="VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text (ICWSM 2014)",
        training_data="Word ratings by Amazon Mechanical Turk workers; rules checked on tweets, movie and product "
        "reviews and New York Times editorials",
        license="MIT",
        preprocessing="text split on white space; punctuation, capitals and emoji kept as signals",
        weaknesses=(
            "English only, tuned for short social-media text; long, formal or technical text is often 'neutral'.",
            "Sarcasm and irony ('Great, another Monday') are read literally.",
            "Words missing from the lexicon (new slang, domain words like 'bug' in software) count as neutral.",
            "Word ratings reflect the raters' culture; some words about identity carry sentiment they should not.",
        ),
    )


def sentiment_cards() -> list[ModelCard]:
    """Card of VADER (for ``ml.models()``)."""
    return [vader_card()]
