"""Offline sentence embeddings for semantic similarity (student sentence vs rubric example).

The model is a static model2vec table distilled once from all-MiniLM-L6-v2 (Apache-2.0) and
shipped inside the package at ``marker/data/embeddings/minilm-distilled/`` (see that folder's
README.md and ``scripts/build_embeddings.py``). At run time only ``model2vec.StaticModel`` is
used (with its own dependencies safetensors and tokenizers to read the files): no torch, no
transformers, and nothing is ever fetched from a model hub.

Usage::

    from marker.embed import get_encoder

    enc = get_encoder()                       # loaded once, then cached
    enc.encode(["Lenin's Testament was suppressed"])          # (1, enc.dim) float32, unit rows
    enc.similarity(student_sentences, rubric_examples)        # (len(a), len(b)) cosine matrix

A text with no known token (e.g. ``""``) encodes to a zero row, whose cosine with anything is 0.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MODEL_DIR = Path(__file__).parent / "data" / "embeddings" / "minilm-distilled"
BUILD_SCRIPT = "scripts/build_embeddings.py"
_REQUIRED_FILES = ("model.safetensors", "tokenizer.json", "config.json")

__all__ = ["MODEL_DIR", "EmbeddingModelMissingError", "SentenceEncoder", "get_encoder"]


class EmbeddingModelMissingError(FileNotFoundError):
    """The shipped embedding model folder (or one of its files) is absent."""


class SentenceEncoder:
    """Encodes sentences into L2-normalised float32 vectors with a local static model."""

    def __init__(self, model_dir: str | os.PathLike[str] = MODEL_DIR) -> None:
        model_dir = Path(model_dir)
        missing = [name for name in _REQUIRED_FILES if not (model_dir / name).is_file()]
        if missing:
            raise EmbeddingModelMissingError(
                f"sentence-embedding model not found at {model_dir} (missing: {', '.join(missing)}). "
                f"Build it with {BUILD_SCRIPT} (its docstring gives the exact commands)."
            )
        # Offline only, and before model2vec / huggingface_hub are imported.
        os.environ["HF_HUB_OFFLINE"] = "1"
        self._model = _load_static_model(model_dir)
        self._chunk_ids: dict[str, list[int]] = {}
        self.model_dir = model_dir

    @property
    def dim(self) -> int:
        """Length of each embedding vector."""
        return int(self._model.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` -> float32 array of shape ``(len(texts), dim)`` with unit-norm rows.

        Deterministic. Empty input gives shape ``(0, dim)``. A text with no known token gives a
        zero row.
        """
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of strings, not a single string")
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = np.zeros((len(texts), self.dim), dtype=np.float32)
        ids = self._token_ids(texts)
        lengths = np.fromiter((len(i) for i in ids), dtype=np.intp, count=len(ids))
        rows = np.flatnonzero(lengths)
        if rows.size:
            # One gather and one segmented sum for all texts; the mean's division by the token
            # count is left out because the rows are normalised next.
            flat = np.fromiter((t for i in ids for t in i), dtype=np.intp, count=int(lengths.sum()))
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[rows]
            vecs[rows] = np.add.reduceat(self._model.embedding[flat], starts, axis=0)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        np.divide(vecs, norms, out=vecs, where=norms > 0)
        return vecs

    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, as model2vec's tokenize() gives them, but memoised per
        whitespace-separated chunk: the tokenizer splits on whitespace before anything else, so a
        text's ids are its chunks' ids in order, and essays share most of their chunks."""
        cache = self._chunk_ids
        chunked = [t.split() for t in texts]
        unseen = sorted({c for chunks in chunked for c in chunks} - cache.keys())
        if unseen:
            if len(cache) > 200_000:
                cache.clear()
            unk = self._model.unk_token_id
            for chunk, enc in zip(unseen, self._model.tokenizer.encode_batch_fast(unseen, add_special_tokens=False)):
                cache[chunk] = [i for i in enc.ids if i != unk]
        return [[i for c in chunks for i in cache[c]] for chunks in chunked]

    def similarity(self, a_texts: Sequence[str], b_texts: Sequence[str]) -> np.ndarray:
        """Cosine similarity matrix, shape ``(len(a_texts), len(b_texts))``, float32 in [-1, 1]."""
        a = self.encode(a_texts)
        b = self.encode(b_texts)
        sims = a @ b.T
        np.clip(sims, -1.0, 1.0, out=sims)
        return sims


def _load_static_model(model_dir: Path):
    """Build a ``model2vec.StaticModel`` from a local folder in model2vec's save_pretrained layout.

    The files are read here rather than with ``StaticModel.from_pretrained``: that also parses
    the model card through huggingface_hub and falls back to the hub for unknown paths, which
    roughly doubles the load time and is a code path we never want offline.
    """
    from model2vec import StaticModel
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    tensors = load_file(str(model_dir / "model.safetensors"))
    if "embeddings" not in tensors:
        raise ValueError(f"{model_dir / 'model.safetensors'} holds no 'embeddings' tensor: not a model2vec model")
    # The table is stored as int8 (or float16) to keep the package small; widen it once so that
    # token averaging and normalisation happen in float32. A global int8 scale does not change
    # cosines.
    vectors = np.ascontiguousarray(tensors["embeddings"], dtype=np.float32)
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    extra = {}
    if "weights" in tensors:
        extra["weights"] = tensors["weights"]
    if "mapping" in tensors:
        extra["token_mapping"] = tensors["mapping"]
    return StaticModel(
        vectors=vectors,
        tokenizer=Tokenizer.from_file(str(model_dir / "tokenizer.json")),
        config=config,
        normalize=bool(config.get("normalize", True)),
        **extra,
    )


_encoder: SentenceEncoder | None = None
_lock = threading.Lock()


def get_encoder() -> SentenceEncoder:
    """The shared encoder for the shipped model, loaded on first call."""
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                _encoder = SentenceEncoder(MODEL_DIR)
    return _encoder
