"""What the service returns: plain dataclasses, safe to use after the session closes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class ClassView:
    id: int
    name: str
    students: int
    assignments: int


@dataclass
class StudentView:
    id: int
    name: str
    has_code: bool
    submissions: int = 0


@dataclass
class AssignmentView:
    id: int
    class_id: int
    class_name: str
    title: str
    question: str
    rubric_id: str
    rubric_version: str
    feedback_only: bool
    submissions: int = 0
    pending: int = 0


@dataclass
class UploadReport:
    added: list[str] = field(default_factory=list)  # student names
    failures: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why: duplicate...)
    new_students: list[str] = field(default_factory=list)


@dataclass
class MarkReport:
    marked: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (student / file, reason)
    similar_pairs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ResultView:
    id: int
    rubric_version: str
    model: str
    marker_version: str
    created_at: datetime
    data: dict[str, Any]  # the MarkResult JSON
    marker_mark: int | None
    marker_level: int | None
    mark: int | None  # effective (teacher's if overridden)
    level: int | None
    marker_bands: dict[str, int]
    bands: dict[str, int]
    feedback: dict[str, list[str]]
    overridden: bool = False
    overrides: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SubmissionView:
    id: int
    assignment_id: int
    assignment_title: str
    question: str
    student_id: int
    student_name: str
    draft: int
    kind: str
    text: str
    source_name: str
    status: str
    error: str | None
    created_at: datetime
    feedback_only: bool
    rubric_id: str
    rubric_version: str
    result: ResultView | None = None
    older_results: list[dict[str, Any]] = field(default_factory=list)
    similar: list[dict[str, Any]] = field(default_factory=list)  # {submission_id, student, overlap}
    improvements: list[str] = field(default_factory=list)  # vs the student's previous submission
