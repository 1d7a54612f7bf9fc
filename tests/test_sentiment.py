"""Sentiment with VADER: the obvious cases, batches, results and errors."""
from __future__ import annotations

import pytest

import playml as ml
from playml.errors import InputError, UnknownModelError
from playml.text.sentiment import Sentiment

OBVIOUS = {
    "positive": ["What a lovely day", "I love this song so much!", "This is the best pizza in town :)",
                 "Great job, thank you!", "The hotel was wonderful and the staff were friendly."],
    "negative": ["This is the worst film I have ever seen.", "I hate waiting in line.",
                 "The food was cold and disgusting.", "What a terrible, awful experience :(",
                 "The movie was not good."],
    "neutral": ["The meeting is at 3 pm.", "This is a table.", "The train leaves from platform 2."],
}


@pytest.fixture(scope="module")
def analyzer():
    return ml.sentiment()


def test_obvious_cases(analyzer):
    for label, texts in OBVIOUS.items():
        for text in texts:
            result = analyzer.predict(text)
            assert result.label == label, (text, result, result.scores)
            assert 0.5 < result.confidence <= 1.0


def test_scores_and_batches(analyzer):
    good, bad = analyzer.predict(["I love it!", "I hate it."])
    assert isinstance(good, Sentiment) and good.score > 0.5 > bad.score
    assert good.scores["compound"] > 0 > bad.scores["compound"]
    assert set(good.scores) == {"negative", "neutral", "positive", "compound"}
    # emphasis raises confidence
    assert analyzer.predict("GOOD!!!").confidence > analyzer.predict("good").confidence
    lovely = analyzer.predict("What a lovely day")
    assert repr(lovely).startswith("Sentiment(label='positive', confidence=0.")
    assert lovely.to_dict()["label"] == "positive" and 0 <= lovely.to_dict()["score"] <= 1
    assert analyzer.predict(("fine", "awful"))[1].label == "negative"


def test_errors(analyzer):
    for bad in ("", "  \n", [], ["ok", ""], 42, None, ["ok", 3]):
        with pytest.raises(InputError):
            analyzer.predict(bad)
    with pytest.raises(UnknownModelError):
        ml.sentiment("bert")
    with pytest.raises(InputError):
        ml.sentiment(threshold=2)
    assert repr(analyzer) == "SentimentAnalyzer(model='vader', threshold=0.05)"
    assert analyzer.model_card.license == "MIT"
