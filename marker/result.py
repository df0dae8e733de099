"""MarkResult: what the marker says about one essay (the JSON contract of design.md)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Span:
    """A stretch of the essay (character offsets into the text as read) that earned credit."""

    start: int
    end: int
    text: str
    points: tuple[str, ...] = ()
    note: str = ""  # why this span was cited, e.g. "causal link", "date"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"start": self.start, "end": self.end, "text": self.text, "points": list(self.points)}
        if self.note:
            d["note"] = self.note
        return d


@dataclass
class CriterionResult:
    id: str
    band: int
    max_band: int
    feedback: str
    evidence: list[Span] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why this band, for the teacher
    score: float = 0.0  # the continuous estimate the band was rounded from

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "band": self.band,
            "max_band": self.max_band,
            "feedback": self.feedback,
            "evidence": [s.to_dict() for s in self.evidence],
            "reasons": list(self.reasons),
            "score": round(self.score, 3),
        }


@dataclass
class PointResult:
    id: str
    found: bool
    confidence: float
    spans: list[tuple[int, int]] = field(default_factory=list)
    explicit: bool = False
    how: str = ""  # "cue", "paraphrase", "cue+paraphrase"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "found": self.found,
            "confidence": round(self.confidence, 3),
            "spans": [list(s) for s in self.spans],
            "explicit": self.explicit,
            "how": self.how,
        }


@dataclass
class MarkResult:
    essay: str
    rubric: str
    rubric_version: str
    marker_version: str
    mark: int
    max_mark: int
    level: int
    confidence: float
    needs_review: bool
    criteria: list[CriterionResult]
    points: list[PointResult]
    flags: list[str]
    flag_reasons: dict[str, str]
    feedback: dict[str, list[str]]
    stats: dict[str, Any]
    review_reasons: list[str] = field(default_factory=list)
    flag_spans: dict[str, list[Span]] = field(default_factory=dict)
    similar_to: list[dict[str, Any]] = field(default_factory=list)
    model: str = "rubric"  # "rubric" or the calibrated model's id
    # feedback with its ties: {"kind", "text", "criterion", "point", "spans"}
    feedback_items: list[dict[str, Any]] = field(default_factory=list)
    # the rubric's fact checks that failed: {"start", "end", "text", "check", "correction", "point"}
    factual_errors: list[dict[str, Any]] = field(default_factory=list)

    def criterion(self, cid: str) -> CriterionResult:
        return next(c for c in self.criteria if c.id == cid)

    def point(self, pid: str) -> PointResult:
        return next(p for p in self.points if p.id == pid)

    @property
    def bands(self) -> dict[str, int]:
        return {c.id: c.band for c in self.criteria}

    def to_dict(self) -> dict[str, Any]:
        return {
            "essay": self.essay,
            "rubric": self.rubric,
            "rubric_version": self.rubric_version,
            "marker_version": self.marker_version,
            "model": self.model,
            "mark": self.mark,
            "max_mark": self.max_mark,
            "level": self.level,
            "confidence": round(self.confidence, 3),
            "needs_review": self.needs_review,
            "review_reasons": list(self.review_reasons),
            "criteria": [c.to_dict() for c in self.criteria],
            "points": [p.to_dict() for p in self.points],
            "flags": list(self.flags),
            "flag_reasons": dict(self.flag_reasons),
            "flag_spans": {k: [s.to_dict() for s in v] for k, v in self.flag_spans.items()},
            "feedback": {k: list(v) for k, v in self.feedback.items()},
            "feedback_items": [dict(i) for i in self.feedback_items],
            "stats": dict(self.stats),
            "similar_to": list(self.similar_to),
            "factual_errors": [dict(e) for e in self.factual_errors],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MarkResult":
        """Rebuild a result from its JSON (as stored by the app)."""

        def span(s: dict[str, Any]) -> Span:
            return Span(s["start"], s["end"], s["text"], tuple(s.get("points", ())), s.get("note", ""))

        return cls(
            essay=d["essay"],
            rubric=d["rubric"],
            rubric_version=d["rubric_version"],
            marker_version=d["marker_version"],
            model=d.get("model", "rubric"),
            mark=d["mark"],
            max_mark=d["max_mark"],
            level=d["level"],
            confidence=d["confidence"],
            needs_review=d["needs_review"],
            review_reasons=list(d.get("review_reasons", [])),
            criteria=[
                CriterionResult(
                    c["id"], c["band"], c["max_band"], c["feedback"], [span(s) for s in c.get("evidence", [])],
                    list(c.get("reasons", [])), c.get("score", float(c["band"])),
                )
                for c in d["criteria"]
            ],
            points=[
                PointResult(p["id"], p["found"], p["confidence"], [tuple(s) for s in p.get("spans", [])],
                            p.get("explicit", False), p.get("how", ""))
                for p in d["points"]
            ],
            flags=list(d.get("flags", [])),
            flag_reasons=dict(d.get("flag_reasons", {})),
            flag_spans={k: [span(s) for s in v] for k, v in d.get("flag_spans", {}).items()},
            feedback={k: list(v) for k, v in d.get("feedback", {}).items()},
            feedback_items=[dict(i) for i in d.get("feedback_items", [])],
            stats=dict(d.get("stats", {})),
            similar_to=list(d.get("similar_to", [])),
            factual_errors=[dict(e) for e in d.get("factual_errors", [])],
        )


def as_plain(obj: Any) -> Any:
    """dataclass -> dict helper for callers that want plain data."""
    return asdict(obj)
