"""Flags: signs that an essay needs a teacher's eye, each with a reason and the spans involved.

Every detector reads the :class:`~marker.analysis.Analysis`, may mark sentences
as *discounted* (they earn no credit: a repeat, a list of names, off-topic
text), and returns a :class:`Flag` when the sign is strong enough to tell a
teacher. The scorer runs after the detectors, so credit follows meaning.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .analysis import Analysis


@dataclass
class Flag:
    id: str
    reason: str
    sentences: list[int] = field(default_factory=list)


def too_short(a: Analysis) -> Flag | None:
    words = a.doc.n_words
    if words < a.rubric.min_words:
        return Flag("too_short", f"Only {words} words; an answer to this question needs at least "
                                 f"{a.rubric.min_words} to show its reasoning.")
    return None


def off_topic(a: Analysis) -> Flag | None:
    """Mostly about something else: little content-point text, or much out-of-period material."""
    n = len(a.signals)
    if n == 0:
        return None
    words = max(1, a.doc.n_words)
    point_words = a.words_in(i for i in range(n) if a.sentence_points[i])
    off_words = a.words_in(i for i in range(n) if a.off_period[i])
    focus = a.rubric.vocabulary.focus
    rival = a.lex.name_keys.get(focus[-1].lower()) if focus else None
    # Sentences about the contest itself: the rival (or both focus people) with its outcome, or a content point.
    contest = sum(1 for i, s in enumerate(a.signals) if a.sentence_points[i]
                  or (s.outcome and (rival in s.focus or len(s.focus) >= 2)))
    if len(a.found) <= 2 and point_words / words < 0.25 and (
            contest < 2 or (contest < 0.15 * n and off_words / words > 0.3)):
        off = [i for i in range(n) if a.off_period[i] or not a.relevant[i]]
        a.discounted.update(off)
        return Flag("off_topic", "The essay answers a different question: "
                                 f"only {len(a.found)} of the question's points appear, and "
                                 f"{round(100 * off_words / words)}% of it is about other topics or periods.",
                    off[:5])
    return None


def no_paragraphs(a: Analysis) -> Flag | None:
    paras = [p for p in a.doc.paragraphs if p.n_words >= 12]
    if len(paras) <= 1 and a.doc.n_words > 200:
        return Flag("no_paragraphs", f"{a.doc.n_words} words in a single block with no paragraphs.")
    return None


DETECTORS = [too_short, off_topic, no_paragraphs]


def detect_flags(a: Analysis) -> list[Flag]:
    out = []
    for detector in DETECTORS:
        flag = detector(a)
        if flag is not None:
            out.append(flag)
    return out
