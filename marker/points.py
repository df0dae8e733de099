"""Content-point detection: which of the rubric's points (A1..F1) an essay makes, and where.

Three kinds of evidence are combined per sentence:

* **cues**: the rubric's cue phrases matched over stems, with names matched
  despite misspellings (see :mod:`marker.lexicon`);
* **similarity**: sentence (and clause) embeddings compared with the rubric's
  paraphrases and example sentences, which catches a point made without its
  standard term ("Lenin's last letter criticising Stalin was kept quiet");
* **sentence-hood**: a term in a list ("nomenklatura, Lenin Enrolment, troika")
  is weak evidence, so cues in sentences that are not claims count for little.

A point is found when its best sentence reaches the threshold; its spans are
the sentences that do. Thresholds are rubric-independent constants measured on
the development corpus (see ``essay-marker evaluate``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import chain

import numpy as np

from .lexicon import Lexicon, phrase_positions
from .rubric import Rubric
from .signals import FUNCTION_KEYS, SentenceSignals
from .text import Document, Sentence

FOUND_AT = 0.5  # confidence at which a point counts as made
CUE_IN_CLAIM = 0.9  # a cue matched in a sentence that says something
CUE_IN_LIST = 0.25  # a cue matched in a list of terms
PARTIAL_CUE = 0.35  # every part of a multi-part cue but one
SIM_MIDPOINT = 0.70  # cosine at which similarity alone gives confidence 0.5
SIM_SLOPE = 25.0
SIM_MARGIN = 0.03  # similarity credit needs the point to beat every other point for the sentence by this much

_CLAUSE_SPLIT = re.compile(r"[;:,]\s+|\s+(?:because|which|while|whereas|but|so|and then|although)\s+", re.I)


@dataclass
class PointHit:
    point: str
    sentence: int
    confidence: float
    how: str  # "cue", "paraphrase" or "cue+paraphrase"
    cue: str = ""
    similarity: float = 0.0


@dataclass
class PointFinding:
    id: str
    found: bool
    confidence: float
    hits: list[PointHit]
    explicit: bool

    @property
    def sentences(self) -> list[int]:
        return [h.sentence for h in self.hits if h.confidence >= FOUND_AT]


def _clause_words(sentence: Sentence) -> list[list[str]]:
    """The words (``str.split``) of each clause of a sentence of several clauses of four or more words."""
    parts = [words for p in _CLAUSE_SPLIT.split(sentence.text) if p and len(words := p.split()) >= 4]
    return parts if len(parts) > 1 else []


ANCHOR_WORDS = 2  # content words a sentence must share with the rubric sentence it resembles...
SPECIFIC_DF = 3  # ...one of them specific: used in the rubric sentences of at most this many points


def content_keys(keys: list[str], lex: Lexicon) -> frozenset[str]:
    """Keys that carry meaning: not function words, not the focus people."""
    return frozenset(k for k in keys if k not in FUNCTION_KEYS and k not in lex.focus_keys and len(k) > 2)


@dataclass
class _References:
    """The rubric's reference sentences (labels, paraphrases, examples), grouped by point in rubric order."""

    vecs: np.ndarray  # (refs, dim) unit rows
    starts: np.ndarray  # first row of each point
    vocab: dict[str, int]  # content key -> column
    # For each column (key), its "slots", sparse: ref r where reference sentence r has the key, and
    # also refs + r where the key is moreover specific to few points. Column c's slots are
    # slots[slot_start[c]:slot_start[c + 1]].
    slot_start: np.ndarray
    slots: np.ndarray


_REF_CACHE: dict[int, tuple[Rubric, _References]] = {}


def _references(rubric: Rubric, lex: Lexicon) -> _References:
    hit = _REF_CACHE.get(id(rubric))
    if hit is not None and hit[0] is rubric:
        return hit[1]
    from .embed import get_encoder
    from .text import analyse

    texts, owners, keysets, starts = [], [], [], []
    for p in rubric.points:
        starts.append(len(texts))
        for t in [p.label, *p.paraphrases, *p.examples]:
            texts.append(t)
            owners.append(p.id)
            keysets.append(frozenset().union(*[content_keys(lex.keys(s), lex) for s in analyse(t).sentences]))
    # Words found in the rubric sentences of many points ("party", "power") say nothing about which point.
    df: dict[str, set[str]] = {}
    for owner, ks in zip(owners, keysets):
        for k in ks:
            df.setdefault(k, set()).add(owner)
    vocab = {k: i for i, k in enumerate(sorted(df))}
    slots_of: list[list[int]] = [[] for _ in vocab]
    for r, ks in enumerate(keysets):
        for k in ks:
            slots_of[vocab[k]].append(r)
            if len(df[k]) <= SPECIFIC_DF:
                slots_of[vocab[k]].append(len(texts) + r)
    refs = _References(get_encoder().encode(texts), np.array(starts), vocab,
                       np.cumsum([0, *map(len, slots_of)]), np.array([s for ss in slots_of for s in sorted(ss)],
                                                                     dtype=np.intp))
    if len(_REF_CACHE) >= 16:
        _REF_CACHE.clear()
    _REF_CACHE[id(rubric)] = (rubric, refs)
    return refs


def _similarities(doc: Document, keys: list[list[str]], rubric: Rubric,
                  lex: Lexicon) -> tuple[np.ndarray, np.ndarray]:
    """(sentences, points) best cosine of each sentence (or one of its clauses) with each point's
    reference sentences: counting only references that share meaning-bearing words with the sentence,
    and (second array) counting all of them."""
    from .embed import get_encoder

    refs = _references(rubric, lex)
    units, unit_starts = [], []  # each sentence, then its clauses, as words
    for s in doc.sentences:
        unit_starts.append(len(units))
        units.append(s.text.split())
        units.extend(_clause_words(s))
    sims = get_encoder().encode_split(units) @ refs.vecs.T  # (units, refs)
    # The words each sentence shares with each reference sentence, and how many of them are specific:
    # every (sentence, vocabulary key it has) pair adds one to each of the key's slots in the
    # sentence's row. (Every key of the vocabulary is a content key, so a sentence's columns are its
    # keys found in the vocabulary.)
    vocab = refs.vocab
    sentence_cols = [[vocab[c] for c in set(k) & vocab.keys()] for k in keys]
    cols = np.fromiter(chain.from_iterable(sentence_cols), dtype=np.intp)
    n_refs = len(refs.vecs)
    row_of = np.repeat(np.arange(len(keys)) * (2 * n_refs), [len(c) for c in sentence_cols])
    first = refs.slot_start[cols]
    n_slots = refs.slot_start[cols + 1] - first
    # the slots of every pair, one after another: pair j's run starts at first[j] in refs.slots
    runs_start = np.cumsum(n_slots) - n_slots
    at = np.arange(int(n_slots.sum())) + np.repeat(first - runs_start, n_slots)
    shared = np.bincount(np.repeat(row_of, n_slots) + refs.slots[at], minlength=len(keys) * 2 * n_refs)
    shared = shared.reshape(len(keys), 2 * n_refs)  # (sentences, 2 * refs): shared words, shared specific words
    anchored = (shared[:, :n_refs] >= ANCHOR_WORDS) & (shared[:, n_refs:] >= 1)
    counts = np.diff([*unit_starts, len(units)])

    def per_sentence(m: np.ndarray) -> np.ndarray:
        per_point = np.maximum.reduceat(m, refs.starts, axis=1)  # (units, points)
        return np.maximum.reduceat(per_point, np.array(unit_starts), axis=0)  # (sentences, points)

    return per_sentence(sims * np.repeat(anchored, counts, axis=0)), per_sentence(sims)


def detect_points(doc: Document, keys: list[list[str]], signals: list[SentenceSignals], rubric: Rubric,
                  lex: Lexicon, use_similarity: bool = True) -> list[PointFinding]:
    """Find each content point of ``rubric`` in ``doc``."""
    points = rubric.points
    if not points:
        return []
    hits: dict[str, list[PointHit]] = {p.id: [] for p in points}

    # 1. cue matches, full and partial
    cue_hit: dict[tuple[int, int], str] = {}
    partial: set[tuple[int, int]] = set()
    index_of = {p.id: j for j, p in enumerate(points)}
    for s_i, k in enumerate(keys):
        full, part = lex.cue_index.matches(k, set(k))
        for pid, text in full.items():
            cue_hit[(s_i, index_of[pid])] = text
        partial.update((s_i, index_of[pid]) for pid in part)

    # 2. similarity to the rubric's paraphrases and examples
    n = len(doc.sentences)
    claim = np.array([sig.is_claim for sig in signals], dtype=bool)
    if use_similarity and n:
        sims, raw = _similarities(doc, keys, rubric, lex)
        # Credit only the point a sentence resembles most, and clearly more than any other.
        ordered = np.sort(raw, axis=1)
        best = ordered[:, -1]
        second = ordered[:, -2] if len(points) > 1 else np.zeros(n)
        top = (raw >= best[:, None]) & ((best - second) >= SIM_MARGIN)[:, None] & claim[:, None]
        sim_conf = top / (1.0 + np.exp(-SIM_SLOPE * (sims - SIM_MIDPOINT)))
    else:
        sims = sim_conf = np.zeros((n, len(points)))

    # 3. combine per sentence and point (arrays read as Python lists: same floats, no per-item numpy calls)
    candidates = set(cue_hit) | partial | set(zip(*(ix.tolist() for ix in np.nonzero(sim_conf >= 0.2))))
    is_claim, sim_conf_at, sims_at = claim.tolist(), sim_conf.tolist(), sims.tolist()
    for s_i, j in sorted(candidates):
        cue = cue_hit.get((s_i, j))
        cue_conf = (CUE_IN_CLAIM if is_claim[s_i] else CUE_IN_LIST) if cue else \
            PARTIAL_CUE if is_claim[s_i] and (s_i, j) in partial else 0.0
        sc = sim_conf_at[s_i][j]
        conf = 1.0 - (1.0 - cue_conf) * (1.0 - sc)
        if conf < 0.2:
            continue
        how = "cue+paraphrase" if cue and sc >= 0.5 else "cue" if cue else "paraphrase"
        pid = points[j].id
        hits[pid].append(PointHit(pid, s_i, conf, how, cue or "", sims_at[s_i][j]))

    findings = []
    for p in points:
        h = sorted(hits[p.id], key=lambda x: (-x.confidence, x.sentence))
        conf = h[0].confidence if h else 0.0
        found = conf >= FOUND_AT
        explicit = False
        if found:
            for hit in h:
                if hit.confidence >= FOUND_AT and any(
                    phrase_positions(keys[hit.sentence], ph) is not None for ph in lex.explicit_phrases[p.id]
                ):
                    explicit = True
                    break
        findings.append(PointFinding(p.id, found, conf, sorted(h, key=lambda x: x.sentence), explicit))
    return findings
