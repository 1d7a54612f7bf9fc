"""Sentence embeddings (all-MiniLM-L6-v2): shapes, paraphrases above unrelated sentences, errors."""
from __future__ import annotations

import numpy as np
import pytest

import playml as ml
from playml.errors import InputError, MissingFileError, UnknownModelError
from playml.text.sentences import SimilarText

# (sentence, its paraphrase) — every paraphrase must beat every other sentence of the set
PARAPHRASES = [
    ("The cat is sleeping on the sofa.", "A kitten naps on the couch."),
    ("How do I reset my password?", "I forgot my password and need to change it."),
    ("The stock market fell sharply today.", "Share prices dropped a lot this afternoon."),
    ("She is learning to play the violin.", "She takes violin lessons."),
    ("It is raining heavily outside.", "There is a downpour out there."),
    ("The train to Paris was cancelled.", "Our rail journey to Paris did not run."),
    ("Eat more vegetables to stay healthy.", "A diet rich in greens keeps you well."),
    ("The football match ended in a draw.", "Neither team won the soccer game."),
]


@pytest.fixture(scope="module")
def enc():
    return ml.sentence_encoder()


def test_embeddings_are_unit_vectors_of_384(enc):
    many = enc.embed(["a cat", "a kitten", "an invoice"])
    assert many.shape == (3, 384) and many.dtype == np.float32
    assert np.allclose(np.linalg.norm(many, axis=1), 1, atol=1e-5)
    one = enc.embed("a cat")
    assert one.shape == (384,) and np.allclose(one, many[0], atol=1e-5)
    # batching and order do not change the result
    assert np.allclose(enc.embed(["an invoice", "a cat"])[1], one, atol=1e-5)
    assert enc.similarity("a cat", "a kitten") > enc.similarity("a cat", "an invoice") + 0.3


def test_paraphrases_rank_above_unrelated_sentences(enc):
    firsts = [a for a, _ in PARAPHRASES]
    seconds = [b for _, b in PARAPHRASES]
    scores = enc.similarity(firsts, seconds)
    assert scores.shape == (len(PARAPHRASES), len(PARAPHRASES))
    assert np.array_equal(scores.argmax(axis=1), np.arange(len(PARAPHRASES)))   # each row: its paraphrase wins
    for i, (query, paraphrase) in enumerate(PARAPHRASES):
        ranked = enc.most_similar(query, seconds)
        assert ranked[0].text == paraphrase and ranked[0].index == i
        assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)


def test_most_similar_options_and_files(enc, tmp_path):
    candidates = ["a joyful puppy", "tax forms are due in April", "the stock market fell"]
    top = enc.most_similar("happy dog", candidates, top_k=1)
    assert len(top) == 1 and isinstance(top[0], SimilarText) and top[0].text == "a joyful puppy"
    assert top[0].to_dict().keys() == {"text", "score", "index"}
    path = tmp_path / "candidates.txt"
    path.write_text("\n".join(candidates) + "\n\n", encoding="utf-8")
    from_file = enc.most_similar("happy dog", path)
    assert [r.text for r in from_file][0] == "a joyful puppy" and len(from_file) == 3
    row = enc.similarity("happy dog", candidates)
    assert row.shape == (3,) and row.argmax() == 0
    with pytest.raises(MissingFileError):
        enc.most_similar("happy dog", tmp_path / "missing.txt")
    with pytest.raises(InputError, match="k is"):
        enc.most_similar("happy dog", candidates, top_k=0)


def test_bad_text_gives_clear_errors(enc):
    for bad in ("", "   ", [], ["fine", ""], [1, 2], None, b"bytes"):
        with pytest.raises(InputError):
            enc.embed(bad)
    with pytest.raises(InputError):
        enc.most_similar(["not", "one"], ["a"])
    with pytest.raises(UnknownModelError):
        ml.sentence_encoder("all-mpnet")
    assert repr(enc) == "SentenceEncoder(model='all-minilm-l6-v2', dimensions=384)"
    assert enc.model_card.name == "all-minilm-l6-v2"


def test_long_text_is_cut_not_refused(enc):
    long_text = "word " * 2000
    assert enc.embed(long_text).shape == (384,)


@pytest.mark.slow
def test_onnx_engine_matches_plain_transformers(enc):
    import torch
    from transformers import AutoTokenizer

    texts = ["A man is eating food.", "Ünïcödé café — naïve résumé 😀", "Two men pushed carts through the woods."]
    tokenizer = AutoTokenizer.from_pretrained(str(enc.folder), local_files_only=True)
    batch = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.inference_mode():
        reference = enc.model(batch["input_ids"], batch["attention_mask"]).numpy()
    assert np.abs(enc.embed(texts) - reference).max() < 1e-4
