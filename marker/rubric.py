"""Rubric files: the schema, validation on load, and look-up of shipped rubrics.

A rubric is a YAML file (see ``rubrics/stalin_trotsky_1929.yaml`` and the README's
"Rubric format"). Everything question-specific lives here as data: levels and
their band profiles, criteria with band descriptors and feedback, content points
with cues, paraphrases, examples and feedback, the names and terms the matcher
must tolerate misspelt, and the vocabulary of relevance and off-topic drift.

Errors name the file, the field and the problem, so a teacher can fix a
hand-written rubric without reading code.
"""
from __future__ import annotations

import os
import re
from functools import cached_property, lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CRITERIA_IDS = ("relevance", "evidence", "range", "luck", "analysis", "judgement", "communication")


class RubricError(ValueError):
    """A rubric file that cannot be used; the message names file, field and problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    level: int = Field(ge=0, le=10)
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    descriptor: str
    # Typical criterion bands of an essay at this level (best-fit anchor).
    profile: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _range(self) -> "Level":
        if self.min > self.max:
            raise ValueError(f"level {self.level}: min ({self.min}) is above max ({self.max})")
        return self


class Criterion(_Strict):
    id: str
    name: str
    question: str = ""
    weight: float = Field(default=1.0, ge=0)  # weight in the best-fit level decision
    bands: dict[int, str]  # band -> descriptor (0..4)
    feedback: dict[int, str]  # band -> what the student is told at this band
    target: str = ""  # how to improve, in a student's words

    @field_validator("bands", "feedback")
    @classmethod
    def _bands_0_to_4(cls, v: dict[int, str]) -> dict[int, str]:
        missing = [b for b in range(5) if b not in v]
        if missing:
            raise ValueError(f"needs every band 0-4; missing {missing}")
        extra = [b for b in v if b not in range(5)]
        if extra:
            raise ValueError(f"bands run 0-4; unexpected {extra}")
        return v


class ContentPoint(_Strict):
    id: str
    label: str
    why: str = ""  # why the point matters to the question (shown to teachers in the rubric view)
    # Cue grammar: parts joined by " + " must all occur in one sentence;
    # alternatives inside a part are joined by " | "; each alternative is a
    # phrase matched over stems, names matched with spelling tolerance.
    cues: list[str] = Field(default_factory=list)
    # Ways students make the point without the standard term: matched by
    # sentence similarity and by their content words.
    paraphrases: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    # Terms whose presence makes the point "explicit" (the standard name for it).
    explicit_terms: list[str] = Field(default_factory=list)
    feedback_missing: str
    feedback_found: str = ""
    luck: bool = False  # a luck / contingency point (counts for the luck criterion)
    # Which side of the argument the point is on (the rubric's own ids, e.g. stalin / trotsky / luck);
    # the rubric's ``balance_sides`` say which sides a balanced answer covers.
    side: str = Field(default="context", pattern=r"^[a-z][a-z0-9_]*$")

    @model_validator(mode="after")
    def _has_a_way_to_be_found(self) -> "ContentPoint":
        if not (self.cues or self.paraphrases or self.examples):
            raise ValueError(f"point {self.id}: give at least one of cues, paraphrases or examples")
        return self


class Theme(_Strict):
    id: str
    label: str
    counts_for_range: bool = True
    points: list[ContentPoint]


class Cap(_Strict):
    """A mark-scheme ceiling, e.g. 'no access to the top level for a single-factor answer'."""

    criterion: str
    at_most: int = Field(ge=0, le=4)  # applies when that criterion's band is <= at_most
    max_level: int = Field(ge=0)
    reason: str


class FactCheck(_Strict):
    """A common factual error the marker looks for (the mark scheme: errors reduce credit for evidence).

    ``claim`` uses the cue grammar (``a | b + c``): every part in one sentence. Without ``years`` a
    sentence matching ``claim`` states the error ("Lenin's Testament named Trotsky as successor").
    With ``years`` the error is a date: a year written next to the claim's last part ("died in
    1922", "In 1923 Lenin died") that is none of the accepted ``years`` (a year or a range
    "1926-1929"). Any of the ``unless`` phrases in the sentence (a negation, a disputed point, an
    earlier true event) and it is not an error. Only list errors that are clear-cut: never a
    disputed fact. A ``minor`` check is the one exception: a contested claim stated as settled
    fact ("Stalin told him the wrong date", where the source is Trotsky's own allegation); it is
    reported with its correction but does not lower the evidence band.
    """

    id: str
    claim: str
    years: list[int | str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)
    correction: str  # what is true, in a student's words
    point: str | None = None  # the content point the fact belongs to
    minor: bool = False  # a contested claim stated as fact, not a false one

    @field_validator("years")
    @classmethod
    def _years(cls, v: list[int | str]) -> list[int | str]:
        for y in v:
            if isinstance(y, str) and not re.fullmatch(r"\d{3,4}-\d{3,4}", y.strip()):
                raise ValueError(f"{y!r} is not a year or a range like 1926-1929")
        return v

    def accepted_years(self) -> set[int]:
        out: set[int] = set()
        for y in self.years:
            if isinstance(y, int):
                out.add(y)
            else:
                lo, hi = (int(x) for x in y.split("-"))
                out.update(range(lo, hi + 1))
        return out


class Vocabulary(_Strict):
    # canonical name -> spellings and variants (misspellings are matched too)
    names: dict[str, list[str]] = Field(default_factory=dict)
    # the people the question is about (relevance needs both of them, e.g. Stalin AND Trotsky)
    focus: list[str] = Field(default_factory=list)
    # terms the spelling checker must accept
    terms: list[str] = Field(default_factory=list)
    historians: list[str] = Field(default_factory=list)
    offices: list[str] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list)
    # words and phrases of the question's topic (relevance)
    topic: list[str] = Field(default_factory=list)
    # signs of an essay answering a different question or drifting out of period
    off_topic: list[str] = Field(default_factory=list)
    # This question's own words for the marker's generic signals, added to the marker's lists:
    causal: list[str] = Field(default_factory=list)  # phrases of explaining ("gave Stalin", "cost Trotsky")
    conclusion: list[str] = Field(default_factory=list)  # openers of a concluding judgement ("so Stalin")
    outcome: list[str] = Field(default_factory=list)  # words (or stems) of the outcome asked about ("collapse")
    not_names: list[str] = Field(default_factory=list)  # words a small edit from a name, never read as it
    period: tuple[int, int] | None = None  # years the question covers, e.g. (1917, 1929)
    background_from: int | None = None  # earliest year still fine as background


class Wording(_Strict):
    """How the engine's own sentences (feedback, reasons, flags) name this question's outcome, so a
    new question needs no code. The defaults are question-neutral."""

    # completes "how a factor ..." and "how it ...": the effect an explanation must show
    outcome: str = "led to the outcome the question asks about"


class Rubric(_Strict):
    id: str
    version: str
    title: str
    question: str
    max_mark: int = Field(gt=0)
    levels: list[Level]
    criteria: list[Criterion]
    themes: list[Theme] = Field(default_factory=list)
    caps: list[Cap] = Field(default_factory=list)
    vocabulary: Vocabulary = Field(default_factory=Vocabulary)
    fact_checks: list[FactCheck] = Field(default_factory=list)
    # the sides (content points' ``side``) a balanced answer covers, e.g. [stalin, trotsky, luck]
    balance_sides: list[str] = Field(default_factory=list)
    wording: Wording = Field(default_factory=Wording)
    min_words: int = Field(default=80, ge=0)
    source: str | None = Field(default=None, exclude=True)  # the file it was read from

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, v: object) -> object:
        return str(v) if isinstance(v, (int, float)) else v

    @model_validator(mode="after")
    def _consistent(self) -> "Rubric":
        levels = sorted(self.levels, key=lambda lv: lv.level)
        if not levels:
            raise ValueError("levels: give at least one level")
        if [lv.level for lv in levels] != list(range(levels[0].level, levels[-1].level + 1)):
            raise ValueError("levels: level numbers must run without gaps")
        for lo, hi in zip(levels, levels[1:]):
            if hi.min != lo.max + 1:
                raise ValueError(
                    f"levels: level {hi.level} starts at {hi.min} but level {lo.level} ends at {lo.max}; "
                    "mark ranges must meet without gap or overlap"
                )
        if levels[-1].max != self.max_mark:
            raise ValueError(f"levels: the top level ends at {levels[-1].max}, not max_mark {self.max_mark}")
        ids = [c.id for c in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError("criteria: criterion ids must be unique")
        for lv in levels:
            unknown = set(lv.profile) - set(ids)
            if unknown:
                raise ValueError(f"levels: level {lv.level} profile names unknown criteria {sorted(unknown)}")
        point_ids = [p.id for t in self.themes for p in t.points]
        if len(set(point_ids)) != len(point_ids):
            raise ValueError("themes: content point ids must be unique")
        for cap in self.caps:
            if cap.criterion not in ids:
                raise ValueError(f"caps: unknown criterion {cap.criterion!r}")
        for fc in self.fact_checks:
            if fc.point is not None and fc.point not in point_ids:
                raise ValueError(f"fact_checks: {fc.id} names unknown content point {fc.point!r}")
        if len({fc.id for fc in self.fact_checks}) != len(self.fact_checks):
            raise ValueError("fact_checks: ids must be unique")
        unused = sorted(set(self.balance_sides) - {p.side for t in self.themes for p in t.points})
        if unused:
            raise ValueError(f"balance_sides: no content point has side {', '.join(map(repr, unused))}")
        return self

    # -- convenience -------------------------------------------------------
    @property
    def points(self) -> list[ContentPoint]:
        return [p for t in self.themes for p in t.points]

    @cached_property
    def point_by_id(self) -> dict[str, ContentPoint]:
        """Content point id -> the point (ids are unique: checked on load)."""
        return {p.id: p for t in self.themes for p in t.points}

    @cached_property
    def _theme_by_point(self) -> dict[str, Theme]:
        return {p.id: t for t in self.themes for p in t.points}

    def theme_of(self, point_id: str) -> Theme:
        return self._theme_by_point[point_id]

    @property
    def rival(self) -> str | None:
        """The other person the question is about (the last of ``vocabulary.focus``), if it names two."""
        focus = self.vocabulary.focus
        return focus[-1] if len(focus) >= 2 else None

    @cached_property
    def rival_points(self) -> frozenset[str]:
        """Ids of the content points on the rival's side (``side`` is the rival's name, e.g. trotsky)."""
        side = self.rival.lower() if self.rival else None
        return frozenset(p.id for t in self.themes for p in t.points if p.side == side)

    def balance(self, sides: set[str]) -> float:
        """How many of the ``balance_sides`` the given sides cover, on a 0-3 scale (the scale the band
        models were fitted on); 3 when the rubric asks for no particular balance."""
        if not self.balance_sides:
            return 3.0
        return 3.0 * len(set(self.balance_sides) & sides) / len(self.balance_sides)

    def balance_label(self) -> str:
        """The balance sides for a reader: focus names written as the rubric writes them ("Stalin")."""
        named = {f.lower(): f for f in self.vocabulary.focus}
        parts = [named.get(s, s.replace("_", " ")) for s in self.balance_sides]
        return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)

    def criterion(self, cid: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == cid), None)

    def level_for_mark(self, mark: int) -> int:
        for lv in self.levels:
            if lv.min <= mark <= lv.max:
                return lv.level
        raise ValueError(f"mark {mark} is outside every level")


def _format_errors(path: str, err: ValidationError) -> str:
    lines = [f"{path}: invalid rubric ({err.error_count()} problem{'s' if err.error_count() > 1 else ''})"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"  - {loc}: {msg}")
    return "\n".join(lines)


def rubrics_dir() -> Path:
    """Where shipped rubrics live: $ESSAY_MARKER_RUBRICS or the repository's ``rubrics/``."""
    env = os.environ.get("ESSAY_MARKER_RUBRICS")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "rubrics"


def parse_rubric(text: str, source: str = "<text>") -> Rubric:
    """Validate rubric YAML given as text (an uploaded file, say)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RubricError(f"{source}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise RubricError(f"{source}: a rubric must be a YAML mapping (id, version, levels, criteria, ...)")
    try:
        return Rubric.model_validate({**data, "source": source})
    except ValidationError as err:
        raise RubricError(_format_errors(source, err)) from None


def load_rubric(ref: str | os.PathLike[str] = "stalin_trotsky_1929") -> Rubric:
    """Load a rubric by id (a file in the rubrics folder) or by path to a YAML file."""
    path = Path(ref)
    if not path.suffix and not path.exists():
        path = rubrics_dir() / f"{ref}.yaml"
    return _load_path(str(path.resolve()), _mtime(path))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


@lru_cache(maxsize=32)
def _load_path(path: str, _mtime: float) -> Rubric:
    p = Path(path)
    if not p.is_file():
        known = ", ".join(list_rubrics()) or "none"
        raise RubricError(f"{path}: no such rubric file (shipped rubrics: {known})")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(f"{path}: cannot read: {exc}") from None
    return parse_rubric(text, source=path)


def list_rubrics() -> list[str]:
    """Ids of the rubrics shipped in the rubrics folder."""
    d = rubrics_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []
