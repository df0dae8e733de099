"""Offline sentence embeddings for semantic similarity (student sentence vs rubric example).

The model is a static model2vec table distilled once from all-MiniLM-L6-v2 (Apache-2.0) and
shipped inside the package at ``marker/data/embeddings/minilm-distilled/`` (see that folder's
README.md and ``scripts/build_embeddings.py``). At run time the files (model2vec's
``save_pretrained`` layout) are read with safetensors and tokenizers alone, exactly as
``model2vec.StaticModel`` reads them: no torch, no transformers, no model2vec import, and nothing
is ever fetched from a model hub.

Usage::

    from marker.embed import get_encoder

    enc = get_encoder()                       # loaded once, then cached
    enc.encode(["Lenin's Testament was suppressed"])          # (1, enc.dim) float32, unit rows
    enc.similarity(student_sentences, rubric_examples)        # (len(a), len(b)) cosine matrix

A text with no known token (e.g. ``""``) encodes to a zero row, whose cosine with anything is 0.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from itertools import chain
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
        self._model = _StaticTable(model_dir)
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
        return self.encode_split([t.split() for t in texts])

    def encode_split(self, chunked: Sequence[list[str]]) -> np.ndarray:
        """:meth:`encode` for texts already split on whitespace (``text.split()``): the tokenizer splits
        there first, so this gives the same vectors, for a caller that has split the texts anyway."""
        chunked = list(chunked)
        if not chunked:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = np.zeros((len(chunked), self.dim), dtype=np.float32)
        flat, lengths = self._flat_token_ids(chunked)
        rows = np.flatnonzero(lengths)
        if rows.size:
            # One gather and one segmented sum for all texts; the mean's division by the token
            # count is left out because the rows are normalised next.
            table = self._model.embedding
            if np.issubdtype(table.dtype, np.integer) and int(lengths.max()) * 128 < 2 ** 24:
                # Integer rows sum exactly in float32 whatever the order (every partial sum is an
                # integer below 2**24), so a matrix-vector product per text gives the very numbers
                # of the segmented sum below, in about half the time (np.add.reduceat along axis 0
                # is slow here).
                rows_f = table[flat].astype(np.float32)
                ones = np.ones(int(lengths.max()), dtype=np.float32)
                end = 0
                for row, n in zip(rows.tolist(), lengths[rows].tolist()):
                    np.matmul(ones[:n], rows_f[end:end + n], out=vecs[row])
                    end += n
            else:
                starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[rows]
                vecs[rows] = np.add.reduceat(table[flat], starts, axis=0, dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        np.divide(vecs, norms, out=vecs, where=norms > 0)
        return vecs

    def _add_chunks(self, chunks: set[str]) -> None:
        """Tokenise chunks not seen before and remember their ids."""
        cache = self._chunk_ids
        unseen = sorted(chunks - cache.keys())
        if unseen:
            if len(cache) > 200_000:
                cache.clear()
            unk = self._model.unk_token_id
            for chunk, enc in zip(unseen, self._model.tokenizer.encode_batch_fast(unseen, add_special_tokens=False)):
                cache[chunk] = tuple(i for i in enc.ids if i != unk)

    def _flat_token_ids(self, chunked: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """The token ids of all texts (given split on whitespace) as one array, and each text's count of
        them (gathered with C-level iteration: this runs for every sentence of every essay). The ids are
        model2vec's tokenize() ids, memoised per whitespace-separated chunk: the tokenizer splits on
        whitespace before anything else, so a text's ids are its chunks' ids in order, and essays share
        most of their chunks."""
        chunks = list(chain.from_iterable(chunked))
        try:
            ids = list(map(self._chunk_ids.__getitem__, chunks))
        except KeyError:  # a chunk not seen before
            self._add_chunks(set(chunks))
            ids = list(map(self._chunk_ids.__getitem__, chunks))
        per_chunk = np.fromiter(map(len, ids), dtype=np.intp, count=len(ids))
        # each text's count: the sum over its chunks (a text may have none)
        bounds = np.cumsum([0, *map(len, chunked)])
        through = np.concatenate(([0], np.cumsum(per_chunk)))
        lengths = through[bounds[1:]] - through[bounds[:-1]]
        flat = np.fromiter(chain.from_iterable(ids), dtype=np.intp, count=int(through[-1]))
        return flat, lengths

    def similarity(self, a_texts: Sequence[str], b_texts: Sequence[str]) -> np.ndarray:
        """Cosine similarity matrix, shape ``(len(a_texts), len(b_texts))``, float32 in [-1, 1]."""
        a = self.encode(a_texts)
        b = self.encode(b_texts)
        sims = a @ b.T
        np.clip(sims, -1.0, 1.0, out=sims)
        return sims


class _StaticTable:
    """A model2vec static model read from its folder: the token table and the tokenizer.

    This is what ``model2vec.StaticModel`` holds, read the same way (padding off, the unknown
    token dropped from every encoding), without importing model2vec (0.3 s and 12 MB) or
    widening the table: it stays int8 (7.6 MB, not 30 MB, in every marking process) and each
    text's token rows are summed in float32, which gives the same numbers as summing a widened
    table. The int8 scale is global, so it does not change cosines.
    """

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        weights = model_dir / "model.safetensors"
        tensors = load_file(str(weights))
        if "embeddings" not in tensors:
            raise ValueError(f"{weights} holds no 'embeddings' tensor: not a model2vec model")
        if {"weights", "mapping"} & tensors.keys():
            raise ValueError(f"{weights} is a weighted or vocabulary-mapped model2vec model, which marker.embed "
                             "does not read; build a plain one with " + BUILD_SCRIPT)
        self.embedding = np.ascontiguousarray(tensors["embeddings"])
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        padding = self.tokenizer.padding
        if padding is not None:  # as model2vec does: never pad, keep the pad token
            self.tokenizer.enable_padding(pad_id=padding["pad_id"], pad_token=padding["pad_token"],
                                          pad_type_id=padding["pad_type_id"], length=0)
        vocab_size = self.tokenizer.get_vocab_size()
        if len(self.embedding) != vocab_size:
            raise ValueError(f"{weights} has {len(self.embedding)} rows for a vocabulary of {vocab_size} tokens")
        unk = getattr(self.tokenizer.model, "unk_token", None)
        self.unk_token_id = self.tokenizer.token_to_id(unk) if unk is not None else None
        self.dim = int(self.embedding.shape[1])


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
