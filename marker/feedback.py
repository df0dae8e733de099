"""Feedback for the student: strengths and targets, each tied to a criterion or a content point.

Wording comes from the rubric (criterion feedback per band, point feedback when
found or missing); the engine chooses which to say and points at sentences.
A point is only ever called missing when the detector found no trace of it
(confidence below ``MISSING_BELOW``), so a student is never told to add a point
the essay already makes. Factual errors the rubric's fact checks found come first
among the targets, quoting the sentence and saying what is true.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .analysis import Analysis
from .score import CriterionScore

MISSING_BELOW = 0.3
MAX_TARGETS = 5  # a student can act on a handful of targets, not a list of everything
MAX_CRITERION_TARGETS = 3
MAX_STRENGTHS = 4
MAX_FACT_TARGETS = 2


@dataclass
class FeedbackItem:
    kind: str  # "strength" or "target"
    text: str
    criterion: str | None = None
    point: str | None = None
    sentences: list[int] = field(default_factory=list)

    def to_dict(self, a: Analysis) -> dict:
        spans = [[a.doc.sentences[i].start, a.doc.sentences[i].end] for i in self.sentences]
        return {"kind": self.kind, "text": self.text, "criterion": self.criterion, "point": self.point,
                "spans": spans}


def _opening(a: Analysis, sentence: int, n: int = 8) -> str:
    words = a.doc.sentences[sentence].text.split()
    return " ".join(words[:n]) + ("…" if len(words) > n else "")


def build_feedback(a: Analysis, scores: dict[str, CriterionScore], flags: list[str]) -> list[FeedbackItem]:
    rubric = a.rubric
    items: list[FeedbackItem] = []
    bands = {cid: s.band for cid, s in scores.items()}

    # Strengths: criteria at band 3+, then the best-made points.
    for c in sorted(rubric.criteria, key=lambda c: (-bands.get(c.id, 0), -c.weight)):
        if bands.get(c.id, 0) >= 3 and sum(i.kind == "strength" for i in items) < MAX_STRENGTHS - 1:
            items.append(FeedbackItem("strength", c.feedback[bands[c.id]], c.id, None, scores[c.id].spans[:2]))
    found = sorted(a.found.values(), key=lambda p: -p.confidence)
    for p in found:
        if sum(i.kind == "strength" for i in items) >= MAX_STRENGTHS:
            break
        point = rubric.point_by_id[p.id]
        if point.feedback_found and any(a.signals[i].explains for i in p.sentences):
            items.append(FeedbackItem("strength", point.feedback_found, None, p.id, p.sentences[:1]))

    if "off_topic" in flags:
        items.append(FeedbackItem("target", "Your essay does not answer this question: "
                                  f"\u201c{rubric.question}\u201d Re-read the question and write about it.",
                                  "relevance"))
        return items

    # Targets: facts to put right first (quick to fix, and an error can undermine the point built on it).
    first_of_each = {e.check: e for e in reversed(a.factual_errors)}  # each error once, at its first sentence
    for e in sorted(first_of_each.values(), key=lambda e: (e.minor, e.sentence))[:MAX_FACT_TARGETS]:
        lead = "Be careful how you state" if e.minor else "Check your facts in"
        items.append(FeedbackItem("target", f"{lead} \u201c{_opening(a, e.sentence)}\u201d: "
                                  f"{e.correction}", "evidence", e.point, [e.sentence]))

    # Then the weakest weighted criteria.
    weak = sorted((c for c in rubric.criteria if bands.get(c.id, 0) <= 2),
                  key=lambda c: (bands.get(c.id, 0) - c.weight, c.id))[:MAX_CRITERION_TARGETS]
    for c in weak:
        if c.id == "analysis":
            narrated = _narrated_paragraph(a)
            if narrated is not None:
                items.append(FeedbackItem(
                    "target",
                    f"Your paragraph beginning \u201c{_opening(a, narrated)}\u201d tells what happened but does not "
                    f"explain why it mattered. Add a sentence saying how it {rubric.wording.outcome} "
                    "(\u201cthis meant that…\u201d, \u201cwhich allowed him to…\u201d).", "analysis", None, [narrated]))
                continue
        items.append(FeedbackItem("target", c.feedback[bands.get(c.id, 0)], c.id))

    # Missing points: luck first when luck is weak, then themes with nothing found.
    finding_of = {f.id: f for f in a.points}
    missing = [p for p in rubric.points if finding_of[p.id].confidence < MISSING_BELOW]
    covered_themes = {t for t, pts in a.theme_points().items() if pts}
    ordered = sorted(missing, key=lambda p: (not (p.luck and bands.get("luck", 4) <= 1),
                                             rubric.theme_of(p.id).id in covered_themes, p.id))
    for p in ordered[:3]:
        if sum(i.kind == "target" for i in items) >= MAX_TARGETS:
            break
        # feedback_missing is the whole target (what to add and why it matters); ``why`` is the
        # teacher's note in the rubric view, and adding it here would say the same thing twice.
        items.append(FeedbackItem("target", p.feedback_missing, "luck" if p.luck else "range", p.id))
    return items


def _narrated_paragraph(a: Analysis) -> int | None:
    """First sentence of the first body paragraph that narrates (dated openings) without explaining."""
    for para in a.doc.paragraphs[1:] or a.doc.paragraphs:
        idx = [s.index for s in para.sentences]
        if len(idx) < 2:
            continue
        narr = sum(a.signals[i].narrative for i in idx)
        expl = sum(a.signals[i].explains for i in idx)
        if narr >= 2 and expl == 0:
            return idx[0]
    return None
