"""A small character-level LSTM that learns to write like the text it reads (ml5.js's charRNN).

>>> import playml as ml
>>> rnn = ml.char_rnn()                                              # 1 LSTM layer, 128 units
>>> history = rnn.train(ml.datasets.load("shakespeare").text[:300_000], epochs=2)   # doctest: +SKIP
>>> print(rnn.generate("ROMEO:", length=200, temperature=0.8, seed=1))             # doctest: +SKIP
>>> rnn.save("bard/"); ml.load("bard/")                              # doctest: +SKIP

The network is ``Embedding → LSTM → Dense(softmax)``: it reads character ids and gives, after
every character, the probabilities of the next one. It trains through the one training loop
(:func:`playml.core.training.fit`) on windows of ``sequence_length`` characters, and saves in the
TensorFlow.js layers format (``model.json`` + ``model.weights.bin``), so TensorFlow.js loads the
same model with ``tf.loadLayersModel``. ``model_meta.json`` keeps the alphabet and what the
model learned from (:attr:`CharRNN.model_card`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playml.core.threads import torch_threads
from playml.errors import DataError, InputError, not_trained

if TYPE_CHECKING:  # pragma: no cover
    from playml.core.training import History

__all__ = ["CharRNN", "char_rnn", "bigram_loss"]


def _sequence_loss(out, y):
    """Cross-entropy per character (nats) of N×T×V logits against N×T ids."""
    import torch.nn.functional as F

    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def bigram_loss(train: str, validation: str, vocabulary: str | None = None) -> float:
    """Cross-entropy per character (nats) on ``validation`` of a character bigram model counted on
    ``train`` (add-one smoothing): the baseline a character LSTM has to beat."""
    vocab = sorted(set(vocabulary or train) | set(validation))
    index = {c: i for i, c in enumerate(vocab)}
    v = len(vocab)
    a = np.fromiter((index[c] for c in train), dtype=np.int64, count=len(train))
    counts = np.ones((v, v))
    np.add.at(counts, (a[:-1], a[1:]), 1)
    logp = np.log(counts / counts.sum(1, keepdims=True))
    b = np.fromiter((index[c] for c in validation), dtype=np.int64, count=len(validation))
    return float(-logp[b[:-1], b[1:]].mean())


class CharRNN:
    """A character-level LSTM text generator.

    Parameters
    ----------
    hidden : LSTM units (128: trains on a laptop CPU in minutes).
    embedding : size of each character's learned vector.
    sequence_length : characters per training window (how far back it learns to look).
    seed : makes the initial weights (and the training order) repeatable.
    """

    FORMAT_VERSION = 1
    KIND = "char_rnn"

    def __init__(self, hidden: int = 128, *, embedding: int = 32, sequence_length: int = 64, seed: int | None = 0):
        for name, value, low in (
            ("hidden", hidden, 1),
            ("embedding", embedding, 1),
            ("sequence_length", sequence_length, 2),
        ):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise InputError(f"{name} must be a whole number of at least {low} (got {value!r}).")
        self.hidden = int(hidden)
        self.embedding = int(embedding)
        self.sequence_length = int(sequence_length)
        self.seed = seed
        self.vocabulary: str = ""  # the characters it knows, in the order of its outputs ("" until trained)
        self.history: Any = None
        self.baseline_loss: float | None = None
        self._model: Any = None
        self._trained_on: dict[str, Any] = {}

    def __repr__(self) -> str:
        state = f"{len(self.vocabulary)} characters" if self.vocabulary else "not trained"
        return f"CharRNN(hidden={self.hidden}, embedding={self.embedding}, {state})"

    # ------------------------------------------------------------------ the network
    def _build(self, vocab_size: int):
        import torch
        from torch import nn

        from playml.formats.tfjs import LSTMSequence

        if self.seed is not None:
            torch.manual_seed(self.seed)
        return nn.Sequential(
            nn.Embedding(vocab_size, self.embedding),
            LSTMSequence(self.embedding, self.hidden, return_sequences=True),
            nn.Linear(self.hidden, vocab_size),
        ).eval()

    @property
    def model(self):
        """The PyTorch network (character ids N×T → next-character logits N×T×V)."""
        if self._model is None:
            raise not_trained(
                "text generator", "write or score text", "Call .train(text) first, or ml.load('folder/') a saved one."
            )
        return self._model

    def _encode(self, text: str, what: str = "text") -> np.ndarray:
        index = {c: i for i, c in enumerate(self.vocabulary)}
        missing = sorted(set(text) - set(index))
        if missing:
            shown = ", ".join(repr(c) for c in missing[:10])
            raise InputError(
                f"The {what} has characters this model never saw: {shown}. "
                "It knows only the characters of the text it was trained on."
            )
        return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))

    # ------------------------------------------------------------------ training
    def train(
        self,
        text: str,
        *,
        epochs: int = 1,
        batch_size: int = 64,
        learning_rate: float = 0.005,
        validation_split: float = 0.1,
        source: str | None = None,
        progress: bool = True,
        on_epoch: Callable[[int, dict[str, float]], Any] | None = None,
    ) -> History:
        """Learn to continue ``text``; returns a :class:`~playml.core.training.History` with ``loss``
        and ``val_loss`` in nats per character.

        The last ``validation_split`` of the text is held out (not shuffled into training), and
        its loss under a character bigram model is kept as :attr:`baseline_loss`. ``source``
        names the text for the model card. Training again continues from the current weights.
        """
        import torch

        from playml.core.training import fit

        if isinstance(text, (list, tuple)):
            text = "\n\n".join(str(t) for t in text)
        if not isinstance(text, str):
            raise InputError(
                f"train() needs text (a str), got {type(text).__name__}. "
                "For a bundled data set use ml.datasets.load('shakespeare').text."
            )
        if not 0.0 <= validation_split < 0.5:
            raise InputError(f"validation_split must be between 0 and 0.5 (got {validation_split}).")
        t = self.sequence_length
        cut = len(text) - int(len(text) * validation_split)
        train_text, val_text = text[:cut], text[cut:]
        if len(train_text) < 2 * (t + 1):
            raise DataError(
                f"The text is too short to learn from: {len(train_text)} characters for training, "
                f"at least {2 * (t + 1)} needed (sequence_length={t})."
            )
        if self._model is None:
            self.vocabulary = "".join(sorted(set(text)))
            self._model = self._build(len(self.vocabulary))
        ids = self._encode(train_text)
        x, y = self._windows(ids)
        validation = None
        if validation_split and len(val_text) > t + 1:
            vx, vy = self._windows(self._encode(val_text, "validation text"))
            validation = (torch.from_numpy(vx), torch.from_numpy(vy))
            self.baseline_loss = bigram_loss(train_text, val_text, self.vocabulary)
        else:
            self.baseline_loss = None
        history = fit(
            self._model,
            torch.from_numpy(x),
            torch.from_numpy(y),
            loss=_sequence_loss,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            validation_data=validation,
            metrics=(),
            progress=progress,
            seed=self.seed,
            on_epoch=on_epoch,
            description="training char_rnn",
        )
        if self.history is None:
            self.history = history
        else:
            for k, v in history.metrics.items():
                self.history.metrics.setdefault(k, []).extend(v)
        done = self._trained_on
        done["characters"] = done.get("characters", 0) + len(train_text)
        done["epochs"] = done.get("epochs", 0) + len(history)
        done["source"] = source or done.get("source") or "text given to train()"
        done["start"] = done.get("start") or train_text[:80]
        last = history.last()
        done["val_loss"] = last.get("val_loss")
        done["baseline_loss"] = self.baseline_loss
        return history

    def _windows(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = self.sequence_length
        n = (len(ids) - 1) // t
        x = ids[: n * t].reshape(n, t)
        y = ids[1 : n * t + 1].reshape(n, t)
        return np.ascontiguousarray(x), np.ascontiguousarray(y)

    # ------------------------------------------------------------------ using it
    def probabilities(self, text: str) -> np.ndarray:
        """The next-character probabilities after each character of ``text`` (len × vocabulary)."""
        import torch

        ids = self._encode(text)
        if not len(ids):
            raise InputError("Give at least one character.")
        # one character at a time: tiny operations, where waiting for a second thread costs far
        # more than it saves (measured under load: 300 characters in 12.7 s on two threads, 0.54 s on one)
        with torch.no_grad(), torch_threads(1):
            logits = self.model(torch.from_numpy(ids)[None])[0]
            return torch.softmax(logits.double(), -1).numpy()

    def generate(
        self, prompt: str = "", *, length: int = 300, temperature: float = 0.8, seed: int | None = None
    ) -> str:
        """Write ``length`` characters after ``prompt`` (which is included in the result).

        ``temperature`` 0 always picks the likeliest character; 1 samples the model's own
        probabilities; higher is wilder. The same ``seed`` writes the same text.
        """
        import torch

        model = self.model
        if not isinstance(length, (int, np.integer)) or length < 0:
            raise InputError(f"length must be a whole number of characters, 0 or more (got {length!r}).")
        if temperature < 0:
            raise InputError(f"temperature must be 0 or more (got {temperature}). Try 0.5 to 1.")
        rng = np.random.default_rng(seed)
        start = prompt or ("\n" if "\n" in self.vocabulary else self.vocabulary[rng.integers(len(self.vocabulary))])
        ids = self._encode(start, "prompt")
        embed, lstm, dense = model[0], model[1].lstm, model[2]
        out_chars = []
        with torch.no_grad(), torch_threads(1):
            h, state = lstm(embed(torch.from_numpy(ids)[None]))
            logits = dense(h[0, -1]).double().numpy()
            for _ in range(int(length)):
                if temperature == 0:
                    nxt = int(np.argmax(logits))
                else:
                    z = logits / temperature
                    p = np.exp(z - z.max())
                    nxt = int(rng.choice(len(p), p=p / p.sum()))
                out_chars.append(self.vocabulary[nxt])
                h, state = lstm(embed(torch.tensor([[nxt]])), state)
                logits = dense(h[0, -1]).double().numpy()
        return (prompt or "") + "".join(out_chars)

    # ------------------------------------------------------------------ cards, saving
    @property
    def model_card(self):
        """What this model learned from and what it gets wrong."""
        import playml
        from playml.zoo.cards import ModelCard

        done = self._trained_on
        if not done:
            raise not_trained("text generator", "describe what it learned from", "Call .train(text) first.")
        val, base = done.get("val_loss"), done.get("baseline_loss")
        score = (
            f"validation loss {val:.3f} nats/character (character bigram baseline {base:.3f})"
            if val is not None and base is not None
            else None
        )
        return ModelCard(
            name="char-rnn",
            title="Character-level LSTM (trained here)",
            task="text generation",
            description=f"Embedding({len(self.vocabulary)}→{self.embedding}) → LSTM({self.hidden}) → "
            f"Dense({len(self.vocabulary)}, softmax), trained with playml on this computer.",
            package="trained with playml",
            version=playml.__version__,
            authors="you",
            paper="Graves 2013, Generating sequences with recurrent neural networks",
            training_data=f"{done['characters']:,} characters of {done['source']} ({done['epochs']} epochs, "
            f"alphabet of {len(self.vocabulary)} characters); it starts: {done['start'][:60]!r}",
            license="the licence of the text it was trained on",
            accuracy=score,
            weaknesses=(
                "It imitates spelling and layout, not meaning: sentences drift and contradict themselves.",
                "It only knows the characters of its training text and repeats its biases and its era's language.",
                "It can reproduce passages of the training text word for word.",
            ),
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Save as a TF.js layers model (``model.json``, ``model.weights.bin``) plus ``model_meta.json``."""
        from torch import nn

        from playml.core.saving import save_directory
        from playml.formats.tfjs import sequence_to_tfjs

        model = self.model
        model_json, weights = sequence_to_tfjs(nn.Sequential(*model, nn.Softmax(dim=-1)))
        meta = {
            "playml": {"kind": self.KIND, "version": self.FORMAT_VERSION},
            "vocabulary": list(self.vocabulary),
            "hidden": self.hidden,
            "embedding": self.embedding,
            "sequence_length": self.sequence_length,
            "trained_on": self._trained_on,
            "history": self.history.to_dict() if self.history is not None else None,
        }
        return save_directory(path, {"model.json": model_json, "model.weights.bin": weights, "model_meta.json": meta})

    @classmethod
    def _from_directory(cls, path: Path, meta: dict) -> "CharRNN":
        from torch import nn

        from playml.core.training import History
        from playml.errors import FormatError
        from playml.formats.tfjs import LSTMSequence, read_tfjs, sequence_from_tfjs

        model_json, weights = read_tfjs(path)
        net = sequence_from_tfjs(model_json, weights)
        mods = [m for m in net if not isinstance(m, (nn.Softmax, nn.Dropout))]
        if len(mods) != 3 or not isinstance(mods[0], nn.Embedding) or not isinstance(mods[1], LSTMSequence):
            raise FormatError(f"{path} is not a char_rnn model (Embedding → LSTM → Dense).")
        vocab = "".join(meta.get("vocabulary") or [])
        if len(vocab) != mods[0].num_embeddings:
            raise FormatError(
                f"{path}: model_meta.json lists {len(vocab)} characters but the model has {mods[0].num_embeddings}."
            )
        mods[1].return_sequences = True
        rnn = cls(
            mods[1].lstm.hidden_size,
            embedding=mods[0].embedding_dim,
            sequence_length=int(meta.get("sequence_length", 64)),
            seed=None,
        )
        rnn.vocabulary = vocab
        rnn._model = nn.Sequential(*mods).eval()
        rnn._trained_on = dict(meta.get("trained_on") or {})
        rnn.baseline_loss = rnn._trained_on.get("baseline_loss")
        hist = meta.get("history")
        if hist:
            rnn.history = History(metrics={k: list(v) for k, v in hist.get("metrics", {}).items()})
        return rnn


def char_rnn(hidden: int = 128, *, embedding: int = 32, sequence_length: int = 64, seed: int | None = 0) -> CharRNN:
    """A new, untrained :class:`CharRNN` (``rnn.train(text)``, then ``rnn.generate("ROMEO:")``)."""
    return CharRNN(hidden, embedding=embedding, sequence_length=sequence_length, seed=seed)
