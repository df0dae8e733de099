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


def _clauses(sentence: Sentence) -> list[str]:
    parts = [p.strip() for p in _CLAUSE_SPLIT.split(sentence.text) if p and len(p.split()) >= 4]
    return parts if len(parts) > 1 else []


ANCHOR_WORDS = 2  # content words a sentence must share with the rubric sentence it resembles...
SPECIFIC_DF = 3  # ...one of them specific: used in the rubric sentences of at most this many points
_REF_CACHE: dict[int, tuple] = {}


def content_keys(keys: list[str], lex: Lexicon) -> frozenset[str]:
    """Keys that carry meaning: not function words, not the focus people."""
    return frozenset(k for k in keys if k not in FUNCTION_KEYS and k not in lex.focus_keys and len(k) > 2)


def _reference_matrix(rubric: Rubric, lex: Lexicon) -> tuple[np.ndarray, np.ndarray, list[frozenset[str]]]:
    """Embeddings of every point's paraphrases, examples and label (one row each), the row owners,
    and each row's content keys."""
    hit = _REF_CACHE.get(id(rubric))
    if hit is not None and hit[0] is rubric:
        return hit[1], hit[2], hit[3]
    from .embed import get_encoder
    from .text import analyse

    texts, owners, anchors = [], [], []
    for p in rubric.points:
        for t in [p.label, *p.paraphrases, *p.examples]:
            texts.append(t)
            owners.append(p.id)
            anchors.append(frozenset().union(*[content_keys(lex.keys(s), lex) for s in analyse(t).sentences]))
    # Words found in the rubric sentences of many points ("party", "power") say nothing about which point.
    df: dict[str, set[str]] = {}
    for owner, anchor in zip(owners, anchors):
        for k in anchor:
            df.setdefault(k, set()).add(owner)
    anchors = [(a, frozenset(k for k in a if len(df[k]) <= SPECIFIC_DF)) for a in anchors]
    vecs = get_encoder().encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    if len(_REF_CACHE) >= 16:
        _REF_CACHE.clear()
    _REF_CACHE[id(rubric)] = (rubric, vecs, np.array(owners), anchors)
    return vecs, np.array(owners), anchors


def _sim_confidence(sim: float) -> float:
    return float(1.0 / (1.0 + np.exp(-SIM_SLOPE * (sim - SIM_MIDPOINT))))


def detect_points(doc: Document, keys: list[list[str]], signals: list[SentenceSignals], rubric: Rubric,
                  lex: Lexicon, use_similarity: bool = True) -> list[PointFinding]:
    """Find each content point of ``rubric`` in ``doc``."""
    points = rubric.points
    if not points:
        return []
    hits: dict[str, list[PointHit]] = {p.id: [] for p in points}
    key_sets = [set(k) for k in keys]

    # 1. cue matches
    cue_hit: dict[tuple[str, int], str] = {}
    partial: set[tuple[str, int]] = set()
    for s_i, (k, ks) in enumerate(zip(keys, key_sets)):
        for pid, text in lex.cue_index.matches(k, ks).items():
            cue_hit[(pid, s_i)] = text
        for pid in lex.cue_index.partial_matches(k, ks):
            partial.add((pid, s_i))

    # 2. similarity to the rubric's paraphrases and examples (sentences and their clauses)
    sims = np.zeros((len(doc.sentences), len(points)), dtype=np.float32)
    if use_similarity and doc.sentences:
        from .embed import get_encoder

        ref, owners, anchors = _reference_matrix(rubric, lex)
        texts, rows = [], []
        for s in doc.sentences:
            for t in [s.text, *_clauses(s)]:
                texts.append(t)
                rows.append(s.index)
        vecs = get_encoder().encode(texts)
        all_sims = vecs @ ref.T  # (units, refs)
        # A resemblance counts only where the sentence shares meaning-bearing words with the rubric sentence.
        sent_content = [content_keys(k, lex) for k in keys]
        for u, s_i in enumerate(rows):
            for col in np.argsort(-all_sims[u])[:12]:
                shared = sent_content[s_i] & anchors[col][0]
                if len(shared) < ANCHOR_WORDS or not shared & anchors[col][1]:
                    all_sims[u, col] = 0.0
        rows_arr = np.array(rows)
        for j, p in enumerate(points):
            cols = owners == p.id
            per_unit = all_sims[:, cols].max(axis=1)
            np.maximum.at(sims[:, j], rows_arr, per_unit)

    # 3. combine per sentence
    for s_i, sig in enumerate(signals):
        claim = sig.is_claim
        row = np.sort(sims[s_i])[::-1] if sims.shape[1] else np.zeros(2)
        best, second = float(row[0]), float(row[1]) if len(row) > 1 else 0.0
        for j, p in enumerate(points):
            cue = cue_hit.get((p.id, s_i))
            sim = float(sims[s_i, j])
            top = sim >= best and best - second >= SIM_MARGIN
            sim_conf = _sim_confidence(sim) if claim and top else 0.0
            cue_conf = (CUE_IN_CLAIM if claim else CUE_IN_LIST) if cue else \
                PARTIAL_CUE if claim and (p.id, s_i) in partial else 0.0
            conf = 1.0 - (1.0 - cue_conf) * (1.0 - sim_conf)
            if conf < 0.2:
                continue
            how = "cue+paraphrase" if cue and sim_conf >= 0.5 else "cue" if cue else "paraphrase"
            hits[p.id].append(PointHit(p.id, s_i, conf, how, cue or "", sim))

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
