"""The analysed essay: the document with every detector's findings, shared by scoring and feedback."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain

from .facts import FactualError, find_errors
from .lexicon import Lexicon, lexicon_for
from .points import FOUND_AT, PointFinding, detect_points
from .rubric import Rubric
from .signals import SentenceSignals, names_luck, sentence_signals
from .text import Document, analyse


@dataclass
class Analysis:
    doc: Document
    rubric: Rubric
    lex: Lexicon
    keys: list[list[str]]
    signals: list[SentenceSignals]
    points: list[PointFinding]
    spelling_errors: list[tuple[int, int]]  # character spans of misspelt words
    # derived per sentence
    sentence_points: list[set[str]] = field(default_factory=list)
    relevant: list[bool] = field(default_factory=list)
    off_period: list[bool] = field(default_factory=list)
    # set by the gaming detectors: sentences whose content earns no credit (repeats, salad, off-topic)
    discounted: set[int] = field(default_factory=set)
    # the rubric's fact checks that fail, in sentence order (see marker.facts)
    all_factual_errors: list[FactualError] = field(default_factory=list)

    @property
    def factual_errors(self) -> list[FactualError]:
        """Factual errors in text that counts (not in repeats, lists or words to the marker)."""
        return [e for e in self.all_factual_errors if e.sentence not in self.discounted]

    @cached_property
    def alpha_words(self) -> list[str]:
        """The essay's words (lower-cased, letters only), in order."""
        return list(filter(str.isalpha, chain.from_iterable(s.lowers for s in self.doc.sentences)))

    @cached_property
    def luck_named(self) -> list[bool]:
        """Per sentence: whether it uses a word of luck or chance (see ``signals.names_luck``)."""
        return [names_luck(sig.keys) for sig in self.signals]

    @property
    def found(self) -> dict[str, PointFinding]:
        return {p.id: p for p in self.points if p.found}

    def drop_discounted_points(self) -> None:
        """Points earn credit only from sentences that are not discounted (repeats, lists, off-topic text)."""
        for p in self.points:
            p.hits = [h for h in p.hits if h.sentence not in self.discounted]
            p.confidence = max((h.confidence for h in p.hits), default=0.0)
            p.found = p.confidence >= FOUND_AT
            if not p.found:
                p.explicit = False
        for i in self.discounted:
            if i < len(self.sentence_points):
                self.sentence_points[i] = set()

    def theme_points(self) -> dict[str, set[str]]:
        """Theme id -> ids of its points found."""
        out: dict[str, set[str]] = {}
        found = self.found
        for t in self.rubric.themes:
            out[t.id] = {p.id for p in t.points if p.id in found}
        return out

    def words_in(self, indexes) -> int:
        sentences = self.doc.sentences
        return sum(len(sentences[i].words) for i in indexes)


def analyse_essay(text: str, rubric: Rubric, use_similarity: bool = True) -> Analysis:
    doc = analyse(text)
    lex = lexicon_for(rubric)
    keys = [lex.keys(s) for s in doc.sentences]
    signals = [sentence_signals(s, k, lex) for s, k in zip(doc.sentences, keys)]
    points = detect_points(doc, keys, signals, rubric, lex, use_similarity=use_similarity)

    errors = lex.misspelt_spans(doc.sentences)

    a = Analysis(doc, rubric, lex, keys, signals, points, errors)
    a.all_factual_errors = find_errors(keys, rubric, lex)
    a.sentence_points = [set() for _ in doc.sentences]
    for p in points:
        for h in p.hits:
            if h.confidence >= FOUND_AT:
                a.sentence_points[h.sentence].add(p.id)
    period = rubric.vocabulary.period
    for s_i, sig in enumerate(signals):
        late = bool(period) and any(y > period[1] for y in sig.years) and not any(
            period[0] <= y <= period[1] for y in sig.years)
        off = bool(sig.off_topic) or late
        a.off_period.append(off)
        on = bool(a.sentence_points[s_i]) or bool(sig.focus) or bool(sig.names) or bool(sig.topic)
        a.relevant.append(on and not (off and not a.sentence_points[s_i]))
    return a
