"""Essay features for calibration: engine findings, length and mechanics, and text n-grams.

``EssayFeatures`` is a scikit-learn transformer that turns a list of essay texts into
one sparse matrix, the horizontal stack of

* a dense block, standard-scaled:
    - generic length and mechanics features read from the raw text (characters, words,
      sentences, paragraphs, unique and long words - as counts and log/sqrt transforms -,
      sentence-length and word-length statistics, type-token ratio, spelling errors,
      punctuation counts, readability (Flesch, Flesch-Kincaid), counts of anonymisation
      tokens such as ASAP's @CAPS1 / @PERSON1 / @NUM1, ...), usable with any rubric or none;
    - optionally (``use_engine``) the rubric engine's view of the essay, taken from
      ``marker.mark(text, rubric).to_dict()``: criterion bands and scores, content-point
      coverage and confidences, flags, the rubric mark and level;
* word 1-2-gram and character 2-5-gram TF-IDF blocks (sublinear tf, l2-normalised each).

Speed.  Everything that depends on one text only (the mechanics, the engine's result,
the n-gram counts) is memoised per text hash in this process, so cross-validation,
learning curves and repeated ``transform`` calls never re-analyse or re-mark an essay.
Fitting the TF-IDF blocks only selects vocabulary columns (document frequency over the
training texts) and IDF weights from those counts: the result is the same as fitting
scikit-learn's vectorisers on the training texts, at a fraction of the cost.  Character
n-grams are taken inside word boundaries (scikit-learn's ``char_wb`` analyser), which
makes them cacheable per word type.

The fitted transformer holds plain data only (numpy arrays, scikit-learn scalers and
TF-IDF transformers), so it can be stored with ``skops`` (see ``marker.calibrate``).
"""
from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import Counter
from typing import Any, Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfTransformer
from sklearn.preprocessing import StandardScaler

__all__ = [
    "EssayFeatures",
    "FLAGS",
    "MECHANICS_FEATURES",
    "mechanics",
    "engine_available",
    "engine_result",
    "remember_engine_result",
    "text_key",
    "rubric_key",
]

# Flags of the MarkResult contract (design.md); one indicator column each.
FLAGS = (
    "off_topic", "keyword_stuffing", "repetition", "gibberish", "non_english", "too_short",
    "restatement", "narrative_only", "duplicate_text", "instructions_to_marker", "no_paragraphs",
)

MECHANICS_FEATURES = (
    "chars_log", "words", "words_log", "words_sqrt", "types", "types_log",
    "sentences", "sentences_log", "paragraphs", "paragraphs_log",
    "sentence_len_mean", "sentence_len_sd", "sentence_len_max",
    "ttr", "root_ttr", "word_len_mean", "long_word_ratio", "very_long_word_ratio",
    "spelling_error_rate", "spelling_errors_unique_log",
    "stopword_ratio", "commas_per_sentence", "punct_per_word", "exclaim_question_per_sentence",
    "lower_sentence_start_ratio", "lowercase_i_per_word", "connectives_per_sentence",
    "digits_per_word", "paragraph_len_sd",
    # raw counts and further transforms (strong on ASAP-style holistic scores)
    "chars", "chars_sqrt", "long_words", "long_words_log", "very_long_words_log",
    "commas", "commas_log", "apostrophes_log", "questions_log", "exclamations_log", "quotes_log",
    "semicolons_colons_log", "spelling_errors", "spelling_errors_log",
    "sentence_len_median", "sentence_len_min", "long_sentences_log", "word_len_sd",
    "syllables_per_word", "polysyllable_ratio", "flesch_reading_ease", "flesch_kincaid_grade",
    "anon_tokens_log", "anon_caps_log", "anon_num_log", "anon_names_log", "anon_other_log", "anon_per_word",
    "words_per_paragraph", "capitals_ratio",
)

_CONNECTIVES = frozenset(
    """however therefore because although though thus hence consequently moreover furthermore
    whereas nevertheless nonetheless since unless while whilst despite instead meanwhile
    overall ultimately firstly secondly finally additionally similarly conversely""".split()
)
_STOP = frozenset(ENGLISH_STOP_WORDS)

_WORD_RE = re.compile(r"[^\W_][\w'’\-]*")
_ALPHA_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
_PARA_BLANK_RE = re.compile(r"\n[ \t\r\f\v]*\n")
_SENT_RE = re.compile(r"(?<=[.!?])[\"')\]’”]*\s+")
_ANON_RE = re.compile(r"@([A-Za-z]+)\d*")  # ASAP-style anonymised entities, e.g. @CAPS1
_NGRAM_TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")
_VOWELS_RE = re.compile(r"[aeiouy]+")
_ANON_NAMES = frozenset(("person", "location", "organization", "city", "state", "dr"))


def _syllables(word: str) -> int:
    """Rough English syllable count (vowel groups, silent final e), at least 1."""
    w = word.lower()
    n = len(_VOWELS_RE.findall(w))
    if n > 1 and w.endswith("e") and not w.endswith(("le", "ee")):
        n -= 1
    return max(n, 1)

_MEMO_LIMIT = 200_000


def text_key(text: str) -> str:
    """Stable key of a text (sha256 hex of its UTF-8 bytes)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# ---------------------------------------------------------------------------
# spelling (pyspellchecker, memoised per lower-cased word)
_SPELL: Any = None
_KNOWN: dict[str, bool] = {}


def _known_words(words: Iterable[str]) -> dict[str, bool]:
    global _SPELL
    todo = [w for w in set(words) if w not in _KNOWN]
    if todo:
        if _SPELL is None:
            from spellchecker import SpellChecker

            _SPELL = SpellChecker(distance=1)
        unknown = _SPELL.unknown(todo)
        if len(_KNOWN) > _MEMO_LIMIT:
            _KNOWN.clear()
        for w in todo:
            _KNOWN[w] = w not in unknown
    return _KNOWN


# ---------------------------------------------------------------------------
# length and mechanics
_MECH_MEMO: dict[str, tuple[np.ndarray, frozenset[str]]] = {}


def _paragraphs(text: str) -> list[str]:
    t = text.strip()
    if not t:
        return []
    parts = _PARA_BLANK_RE.split(t) if _PARA_BLANK_RE.search(t) else t.split("\n")
    return [p for p in (q.strip() for q in parts) if p]


def _mechanics(text: str) -> tuple[np.ndarray, frozenset[str]]:
    """Mechanics vector (before rubric vocabulary) and the unknown words of a text."""
    key = text_key(text)
    hit = _MECH_MEMO.get(key)
    if hit is not None:
        return hit
    paras = _paragraphs(text)
    sentences: list[str] = []
    para_words: list[int] = []
    for p in paras:
        sentences.extend(s for s in _SENT_RE.split(p) if s.strip())
        para_words.append(len(_WORD_RE.findall(p)))
    words = _WORD_RE.findall(text)
    n = len(words)
    nw = max(n, 1)
    lower = [w.lower().replace("’", "'") for w in words]
    types = len(set(lower))
    sent_lens = np.array([len(_WORD_RE.findall(s)) for s in sentences] or [0], dtype=float)
    n_sent = len(sentences)
    wl = np.array([len(w) for w in words] or [0], dtype=float)
    alpha = _ALPHA_RE.findall(_ANON_RE.sub(" ", text).lower().replace("’", "'"))  # anonymisation tokens are not words
    alpha = [a for a in alpha if len(a) > 1]
    known = _known_words(alpha)
    unknown = frozenset(a for a in set(alpha) if not known[a])
    n_unknown_tokens = sum(1 for a in alpha if not known[a])
    anon = [m.lower() for m in _ANON_RE.findall(text)]
    plain = [w for w in words if not w.isdigit()]
    syl = [_syllables(w) for w in plain]
    n_syll, n_poly = sum(syl), sum(1 for c in syl if c >= 3)
    starts = [s.lstrip("\"'“‘([ ")[:1] for s in sentences]
    lower_starts = sum(1 for c in starts if c.islower())
    vec = np.array(
        [
            math.log1p(len(text)),
            n,
            math.log1p(n),
            math.sqrt(n),
            types,
            math.log1p(types),
            n_sent,
            math.log1p(n_sent),
            len(paras),
            math.log1p(len(paras)),
            float(sent_lens.mean()),
            float(sent_lens.std()),
            float(sent_lens.max()),
            types / nw,
            types / math.sqrt(nw),
            float(wl.mean()),
            float((wl >= 7).sum()) / nw,
            float((wl >= 10).sum()) / nw,
            n_unknown_tokens / max(len(alpha), 1),
            math.log1p(len(unknown)),
            sum(1 for w in lower if w in _STOP) / nw,
            text.count(",") / max(n_sent, 1),
            sum(text.count(c) for c in ".,;:!?\"'()-") / nw,
            (text.count("!") + text.count("?")) / max(n_sent, 1),
            lower_starts / max(n_sent, 1),
            sum(1 for w in words if w == "i") / nw,
            sum(1 for w in lower if w in _CONNECTIVES) / max(n_sent, 1),
            sum(1 for w in words if w.isdigit()) / nw,
            float(np.std(para_words)) / nw if para_words else 0.0,
            # raw counts and further transforms
            float(len(text)),
            math.sqrt(len(text)),
            float((wl >= 7).sum()) if n else 0.0,
            math.log1p(float((wl >= 7).sum()) if n else 0.0),
            math.log1p(float((wl >= 10).sum()) if n else 0.0),
            float(text.count(",")),
            math.log1p(text.count(",")),
            math.log1p(text.count("'") + text.count("’")),
            math.log1p(text.count("?")),
            math.log1p(text.count("!")),
            math.log1p(sum(text.count(c) for c in "\"“”")),
            math.log1p(text.count(";") + text.count(":")),
            float(n_unknown_tokens),
            math.log1p(n_unknown_tokens),
            float(np.median(sent_lens)),
            float(sent_lens.min()),
            math.log1p(float((sent_lens >= 25).sum())),
            float(wl.std()),
            n_syll / nw,
            n_poly / nw,
            206.835 - 1.015 * (n / max(n_sent, 1)) - 84.6 * (n_syll / nw),
            0.39 * (n / max(n_sent, 1)) + 11.8 * (n_syll / nw) - 15.59,
            math.log1p(len(anon)),
            math.log1p(sum(1 for a in anon if a == "caps")),
            math.log1p(sum(1 for a in anon if a == "num")),
            math.log1p(sum(1 for a in anon if a in _ANON_NAMES)),
            math.log1p(sum(1 for a in anon if a not in _ANON_NAMES and a not in ("caps", "num"))),
            len(anon) / nw,
            n / max(len(paras), 1),
            sum(1 for c in text if c.isupper()) / max(len(text), 1),
        ],
        dtype=float,
    )
    if len(_MECH_MEMO) > _MEMO_LIMIT:
        _MECH_MEMO.clear()
    _MECH_MEMO[key] = (vec, unknown)
    return vec, unknown


def mechanics(text: str, allowed_words: Iterable[str] = ()) -> dict[str, float]:
    """The length and mechanics features of one text, by name (for reports and debugging)."""
    vec = _mechanics_vector(text, frozenset(w.lower() for w in allowed_words))
    return dict(zip(MECHANICS_FEATURES, (float(v) for v in vec)))


def _mechanics_vector(text: str, allowed: frozenset[str]) -> np.ndarray:
    vec, unknown = _mechanics(text)
    if allowed and unknown & allowed:
        # words of the rubric's vocabulary (names, terms) are not spelling errors
        vec = vec.copy()
        alpha = [a for a in _ALPHA_RE.findall(_ANON_RE.sub(" ", text).lower().replace("’", "'")) if len(a) > 1]
        bad = unknown - allowed
        vec[MECHANICS_FEATURES.index("spelling_error_rate")] = sum(1 for a in alpha if a in bad) / max(len(alpha), 1)
        vec[MECHANICS_FEATURES.index("spelling_errors_unique_log")] = math.log1p(len(bad))
        n_bad = sum(1 for a in alpha if a in bad)
        vec[MECHANICS_FEATURES.index("spelling_errors")] = float(n_bad)
        vec[MECHANICS_FEATURES.index("spelling_errors_log")] = math.log1p(n_bad)
    return vec


# ---------------------------------------------------------------------------
# the rubric engine (optional)
_ENGINE_MEMO: dict[tuple[str, str, str], dict[str, Any]] = {}


def engine_available() -> bool:
    """True when the rubric engine's ``marker.mark`` can be imported."""
    try:
        import marker

        return callable(getattr(marker, "mark", None))
    except Exception:  # noqa: BLE001 - any import problem means "not available"
        return False


def rubric_key(rubric: Any) -> tuple[str, str]:
    return (str(rubric.id), str(rubric.version))


def remember_engine_result(text: str, rkey: tuple[str, str], result: Any) -> None:
    """Store the engine's result for a text (a MarkResult or its dict) so it is not marked again."""
    d = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    if len(_ENGINE_MEMO) > _MEMO_LIMIT // 10:
        _ENGINE_MEMO.clear()
    _ENGINE_MEMO[(rkey[0], rkey[1], text_key(text))] = d


def engine_result(text: str, rubric: Any = None, rkey: tuple[str, str] | None = None) -> dict[str, Any]:
    """``marker.mark(text, rubric).to_dict()``, memoised per (rubric id, version, text hash)."""
    if rkey is None:
        if rubric is None:
            raise ValueError("engine_result needs a rubric or a rubric key")
        rkey = rubric_key(rubric)
    key = (rkey[0], rkey[1], text_key(text))
    hit = _ENGINE_MEMO.get(key)
    if hit is not None:
        return hit
    if rubric is None or isinstance(rubric, (str, bytes)):
        raise RuntimeError(
            f"no engine result for this essay under rubric {rkey[0]} v{rkey[1]}: pass the Rubric "
            "(or the MarkResult, via remember_engine_result) so it can be marked"
        )
    import marker

    res = marker.mark(text, rubric)
    remember_engine_result(text, rkey, res)
    return _ENGINE_MEMO[key]


def _engine_vector(d: dict[str, Any], criteria: Sequence[str], points: Sequence[str], max_mark: float) -> np.ndarray:
    crit = {c["id"]: c for c in d.get("criteria", [])}
    pts = {p["id"]: p for p in d.get("points", [])}
    flags = set(d.get("flags", []))
    mm = float(d.get("max_mark") or max_mark or 1)
    row: list[float] = [
        float(d.get("mark", 0)) / mm,
        float(d.get("level", 0)),
        float(d.get("confidence", 0.0)),
        float(bool(d.get("needs_review", False))),
        float(len(flags)),
        float((d.get("stats") or {}).get("continuous_mark", d.get("mark", 0))) / mm,
    ]
    for cid in criteria:
        c = crit.get(cid)
        row.append(float(c["band"]) if c else 0.0)
        row.append(float(c.get("score", c["band"])) if c else 0.0)
        row.append(float(len(c.get("evidence", []))) if c else 0.0)
    found = explicit = 0
    for pid in points:
        p = pts.get(pid)
        f = bool(p and p.get("found"))
        found += f
        explicit += bool(p and p.get("explicit"))
        row.append(float(f))
        row.append(float(p.get("confidence", 0.0)) if p else 0.0)
    row += [float(found), float(explicit), found / max(len(points), 1)]
    row += [float(f in flags) for f in FLAGS]
    return np.array(row, dtype=float)


# ---------------------------------------------------------------------------
# n-gram counts (memoised per text; one process-wide, append-only vocabulary per block)
class _Vocab:
    __slots__ = ("ids", "terms")

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.terms: list[str] = []

    def id(self, term: str) -> int:
        i = self.ids.get(term)
        if i is None:
            i = self.ids[term] = len(self.terms)
            self.terms.append(term)
        return i


_WORD_VOCAB = _Vocab()
_CHAR_VOCAB = _Vocab()
_CHAR_OF_WORD: dict[str, np.ndarray] = {}
_COUNT_MEMO: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
# Ids are only meaningful inside one locked call: the vocabularies may be reset between calls
# (bounded memory in a long-running app), and threads (Streamlit sessions) must not interleave.
_TEXT_LOCK = threading.RLock()
_VOCAB_LIMIT = 3_000_000


def _maybe_reset_text_memo() -> None:
    """Start afresh when the process-wide n-gram memo has grown large (call with _TEXT_LOCK held)."""
    global _WORD_VOCAB, _CHAR_VOCAB
    if len(_WORD_VOCAB.terms) + len(_CHAR_VOCAB.terms) > _VOCAB_LIMIT or len(_COUNT_MEMO) > _MEMO_LIMIT // 10:
        _WORD_VOCAB, _CHAR_VOCAB = _Vocab(), _Vocab()
        _CHAR_OF_WORD.clear()
        _COUNT_MEMO.clear()


def _char_ids(word: str, lo: int, hi: int) -> np.ndarray:
    ids = _CHAR_OF_WORD.get(word)
    if ids is None:
        w = f" {word} "
        grams: list[int] = []
        for n in range(lo, hi + 1):  # exactly scikit-learn's char_wb analyser
            grams.extend(_CHAR_VOCAB.id(w[i : i + n]) for i in range(max(len(w) - n + 1, 1)))
            if len(w) <= n:  # a short word counts once
                break
        ids = _CHAR_OF_WORD[word] = np.asarray(grams, dtype=np.int64)
    return ids


def _ngram_counts(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(word ids, word counts, char ids, char counts) of a text over the global vocabularies."""
    key = text_key(text)
    hit = _COUNT_MEMO.get(key)
    if hit is not None:
        return hit
    t = _ANON_RE.sub(r" anon\1 ", text).lower()
    toks = _NGRAM_TOKEN_RE.findall(t)
    wc = Counter(toks)
    wc.update(f"{a} {b}" for a, b in zip(toks, toks[1:]))
    vid = _WORD_VOCAB.id
    w_ids = np.fromiter((vid(k) for k in wc), dtype=np.int64, count=len(wc))
    w_cnt = np.fromiter(wc.values(), dtype=np.float64, count=len(wc))
    cw = Counter(t.split())
    if cw:
        parts = [_char_ids(w, 2, 5) for w in cw]
        weights = np.concatenate([np.full(len(p), c, dtype=np.float64) for p, c in zip(parts, cw.values())])
        uniq, inv = np.unique(np.concatenate(parts), return_inverse=True)
        c_ids, c_cnt = uniq, np.bincount(inv, weights=weights)
    else:
        c_ids, c_cnt = np.zeros(0, dtype=np.int64), np.zeros(0)
    out = (w_ids, w_cnt, c_ids, c_cnt)
    _COUNT_MEMO[key] = out
    return out


def _count_matrix(rows: list[tuple[np.ndarray, np.ndarray]], width: int) -> sp.csr_matrix:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r[0]) for r in rows])
    idx = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, dtype=np.int64)
    val = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0)
    m = sp.csr_matrix((val, idx, indptr), shape=(len(rows), width))
    m.sort_indices()
    return m


# ---------------------------------------------------------------------------
def _as_texts(X: Any) -> list[str]:
    if isinstance(X, str):
        raise TypeError("EssayFeatures expects a list of essay texts, not a single string")
    texts = list(X)
    for t in texts:
        if not isinstance(t, str):
            raise TypeError(f"EssayFeatures expects essay texts (str), got {type(t).__name__}")
    return texts


class EssayFeatures(TransformerMixin, BaseEstimator):
    """Essays (list of str) -> sparse features: scaled dense [mechanics, engine] + TF-IDF.

    Parameters
    ----------
    rubric : marker.rubric.Rubric or None
        Needed for the engine features (``use_engine``) and to accept the rubric's names and
        terms as correctly spelt.  Not stored in a saved model: at prediction time the engine
        result of each text is taken from the memo (``remember_engine_result``) or, if a rubric
        is set again, by marking.
    use_engine : bool or "auto"
        Add the engine's criterion bands, content points, flags and rubric mark.  "auto": on
        when a rubric with content points is given and ``marker.mark`` is importable.
    use_text : bool
        Add the word 1-2-gram and char 2-5-gram TF-IDF blocks.
    min_df : int
        Minimum document frequency (in the training texts) of an n-gram.
    dense_weight, text_weight : float
        Multipliers of the blocks in the stacked output.
    """

    def __init__(
        self,
        rubric: Any = None,
        use_engine: bool | str = "auto",
        use_text: bool = True,
        use_mechanics: bool = True,
        min_df: int = 2,
        dense_weight: float = 1.0,
        text_weight: float = 1.0,
    ) -> None:
        self.rubric = rubric
        self.use_engine = use_engine
        self.use_text = use_text
        self.use_mechanics = use_mechanics
        self.min_df = min_df
        self.dense_weight = dense_weight
        self.text_weight = text_weight

    # -- fitting -------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> "EssayFeatures":
        texts = _as_texts(X)
        if not texts:
            raise ValueError("EssayFeatures.fit needs at least one essay")
        rub = self.rubric
        if self.use_engine == "auto":
            engine = rub is not None and not isinstance(rub, str) and bool(rub.points) and engine_available()
        else:
            engine = bool(self.use_engine)
        if engine and (rub is None or isinstance(rub, str)):
            raise ValueError("use_engine=True needs a Rubric object")
        self.use_engine_ = engine
        if rub is not None and not isinstance(rub, str):
            self.rubric_id_, self.rubric_version_ = rubric_key(rub)
            self.criteria_ids_ = np.array([c.id for c in rub.criteria], dtype=str)
            self.point_ids_ = np.array([p.id for p in rub.points], dtype=str)
            self.max_mark_ = float(rub.max_mark)
            self.allowed_words_ = np.array(sorted(_rubric_words(rub)), dtype=str)
        else:
            self.rubric_id_, self.rubric_version_ = "", ""
            self.criteria_ids_ = np.array([], dtype=str)
            self.point_ids_ = np.array([], dtype=str)
            self.max_mark_ = 0.0
            self.allowed_words_ = np.array([], dtype=str)
        dense = self._dense(texts)
        self.scaler_ = StandardScaler().fit(dense) if dense.shape[1] else None
        self.n_dense_ = int(dense.shape[1])
        if self.use_text:
            with _TEXT_LOCK:
                _maybe_reset_text_memo()
                rows = [_ngram_counts(t) for t in texts]
                self.word_terms_, self.word_tfidf_ = self._fit_block([(r[0], r[1]) for r in rows], _WORD_VOCAB)
                self.char_terms_, self.char_tfidf_ = self._fit_block([(r[2], r[3]) for r in rows], _CHAR_VOCAB)
            self.n_text_ = int(len(self.word_terms_) + len(self.char_terms_))
        else:
            self.n_text_ = 0
        self.n_features_out_ = self.n_dense_ + self.n_text_
        return self

    def _fit_block(self, rows: list[tuple[np.ndarray, np.ndarray]], vocab: _Vocab) -> tuple[np.ndarray, TfidfTransformer]:
        counts = _count_matrix(rows, len(vocab.terms))
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        keep = np.flatnonzero(df >= max(int(self.min_df), 1))
        # columns in sorted term order (as scikit-learn's vectorisers): independent of the memo's history
        order = sorted(range(len(keep)), key=lambda j: vocab.terms[keep[j]])
        keep = keep[np.asarray(order, dtype=np.int64)] if len(keep) else keep
        terms = np.array([vocab.terms[i] for i in keep], dtype=str)
        tfidf = TfidfTransformer(sublinear_tf=True).fit(counts[:, keep])
        return terms, tfidf

    # -- transforming ----------------------------------------------------------
    def transform(self, X: Any) -> sp.csr_matrix:
        texts = _as_texts(X)
        parts: list[sp.spmatrix] = []
        if self.n_dense_:
            dense = self.scaler_.transform(self._dense(texts))
            dense = np.nan_to_num(dense, nan=0.0, posinf=0.0, neginf=0.0)
            parts.append(sp.csr_matrix(dense * float(self.dense_weight)))
        if self.use_text:
            parts.append(self.text_block(texts) * float(self.text_weight))
        if not parts:
            return sp.csr_matrix((len(texts), 0))
        return sp.hstack(parts, format="csr")

    def dense_block(self, X: Any) -> np.ndarray:
        """The scaled dense features alone (n_texts x n_dense_)."""
        texts = _as_texts(X)
        if not self.n_dense_:
            return np.zeros((len(texts), 0))
        d = self.scaler_.transform(self._dense(texts))
        return np.nan_to_num(d, nan=0.0, posinf=0.0, neginf=0.0)

    def text_block(self, X: Any) -> sp.csr_matrix:
        """The word and char TF-IDF blocks alone (sparse)."""
        texts = _as_texts(X)
        if not self.use_text:
            return sp.csr_matrix((len(texts), 0))
        with _TEXT_LOCK:
            _maybe_reset_text_memo()
            rows = [_ngram_counts(t) for t in texts]
            w = self._block(rows, 0, _WORD_VOCAB, self.word_terms_, self.word_tfidf_)
            c = self._block(rows, 2, _CHAR_VOCAB, self.char_terms_, self.char_tfidf_)
        return sp.hstack([w, c], format="csr")

    @staticmethod
    def _block(rows: list, at: int, vocab: _Vocab, terms: np.ndarray, tfidf: TfidfTransformer) -> sp.csr_matrix:
        gids = np.fromiter((vocab.id(str(t)) for t in terms), dtype=np.int64, count=len(terms))
        counts = _count_matrix([(r[at], r[at + 1]) for r in rows], len(vocab.terms))
        if not len(gids):
            return sp.csr_matrix((len(rows), 0))
        local = sp.csr_matrix(counts[:, gids])
        local.sort_indices()  # canonical storage order: same floating-point sums whatever the memo's history
        out = tfidf.transform(local).tocsr()
        out.sort_indices()
        return out

    def _dense(self, texts: list[str]) -> np.ndarray:
        blocks: list[np.ndarray] = []
        if self.use_mechanics:
            allowed = frozenset(str(w) for w in self.allowed_words_)
            blocks.append(np.vstack([_mechanics_vector(t, allowed) for t in texts]))
        if self.use_engine_:
            rkey = (self.rubric_id_, self.rubric_version_)
            rub = self.rubric if self.rubric is not None and not isinstance(self.rubric, str) else None
            crit = [str(c) for c in self.criteria_ids_]
            pts = [str(p) for p in self.point_ids_]
            blocks.append(
                np.vstack([_engine_vector(engine_result(t, rub, rkey), crit, pts, self.max_mark_) for t in texts])
            )
        if not blocks:
            return np.zeros((len(texts), 0))
        return np.hstack(blocks)

    # -- names -------------------------------------------------------------------
    def dense_feature_names(self) -> list[str]:
        names: list[str] = list(MECHANICS_FEATURES) if self.use_mechanics else []
        if getattr(self, "use_engine_", False):
            names += ["engine_mark_frac", "engine_level", "engine_confidence", "engine_needs_review", "engine_n_flags",
                      "engine_continuous_mark_frac"]
            for c in self.criteria_ids_:
                names += [f"band_{c}", f"score_{c}", f"evidence_{c}"]
            for p in self.point_ids_:
                names += [f"point_{p}_found", f"point_{p}_confidence"]
            names += ["points_found", "points_explicit", "points_found_frac"]
            names += [f"flag_{f}" for f in FLAGS]
        return names

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = self.dense_feature_names()
        if self.use_text:
            names += [f"w:{t}" for t in self.word_terms_] + [f"c:{t}" for t in self.char_terms_]
        return np.array(names, dtype=object)


def _rubric_words(rubric: Any) -> set[str]:
    """Lower-cased words of the rubric's vocabulary (names, terms, historians ...)."""
    voc = getattr(rubric, "vocabulary", None)
    out: set[str] = set()
    if voc is None:
        return out
    texts: list[str] = []
    for canon, variants in voc.names.items():
        texts.append(canon)
        texts.extend(variants)
    for field in ("focus", "terms", "historians", "offices", "events"):
        texts.extend(getattr(voc, field, []) or [])
    for t in texts:
        out.update(_ALPHA_RE.findall(str(t).lower()))
    return out
