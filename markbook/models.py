"""SQLAlchemy 2 models: the mark book's tables.

Results are one row per (submission, rubric_version, model): re-marking with a
new rubric version adds rows and never overwrites the old ones; the newest is
shown. A teacher's override is a separate row pointing at the result it
corrects, holding the effective values after the change plus what changed and
why, so the marker's original result stays visible.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON, Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, MetaData, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so Alembic migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Naive UTC (SQLite keeps no time zone; every timestamp here is UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Teacher(Base):
    __tablename__ = "teachers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    classes: Mapped[list["SchoolClass"]] = relationship(back_populates="teacher")


class SchoolClass(Base):
    __tablename__ = "classes"
    __table_args__ = (UniqueConstraint("teacher_id", "name", name="uq_classes_teacher_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teachers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    teacher: Mapped[Teacher] = relationship(back_populates="classes")
    students: Mapped[list["Student"]] = relationship(back_populates="school_class", order_by="Student.name")
    assignments: Mapped[list["Assignment"]] = relationship(back_populates="school_class")


class Student(Base):
    __tablename__ = "students"
    __table_args__ = (UniqueConstraint("class_id", "name", name="uq_students_class_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Access code: the first two characters are kept in clear to find the row,
    # the whole code is verified against an argon2 hash (see auth.py).
    code_prefix: Mapped[str | None] = mapped_column(String(8), index=True, nullable=True)
    code_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    code_issued_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    school_class: Mapped[SchoolClass] = relationship(back_populates="students")


class Assignment(Base):
    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    question: Mapped[str] = mapped_column(Text)
    rubric_id: Mapped[str] = mapped_column(String(200))
    rubric_version: Mapped[str] = mapped_column(String(50))
    rubric_yaml: Mapped[str] = mapped_column(Text)  # snapshot: marking never depends on files changing later
    feedback_only: Mapped[bool] = mapped_column(Boolean, default=False)  # students see no mark/level
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The learnt marker in use (a calibrated_models row of this assignment), or None for the rubric marker.
    # No foreign key: adding one would make SQLite rebuild the table, and dropping the old
    # assignments table with foreign keys on would cascade-delete every submission. The service
    # only ever sets it to a model of the same assignment.
    active_model_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    school_class: Mapped[SchoolClass] = relationship(back_populates="assignments")


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("assignment_id", "student_id", "draft", name="uq_submissions_draft"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    draft: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per (assignment, student)
    kind: Mapped[str] = mapped_column(String(10), default="final")  # "final" (class set) or "draft" (student)
    text: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | marked | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    student: Mapped[Student] = relationship()
    assignment: Mapped[Assignment] = relationship()
    results: Mapped[list["Result"]] = relationship(back_populates="submission", order_by="Result.id")


class Result(Base):
    __tablename__ = "results"
    __table_args__ = (
        UniqueConstraint("submission_id", "rubric_version", "model", name="uq_results_version_model"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    rubric_version: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(100))
    marker_version: Mapped[str] = mapped_column(String(50))
    mark: Mapped[int] = mapped_column(Integer, index=True)
    max_mark: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer, index=True)
    needs_review: Mapped[bool] = mapped_column(Boolean, index=True)
    flags: Mapped[str] = mapped_column(String(500), default="")  # ",off_topic,repetition," (LIKE-searchable)
    confidence: Mapped[float] = mapped_column(Float)
    result_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="results")
    overrides: Mapped[list["Override"]] = relationship(back_populates="result", order_by="Override.id")

    @property
    def flag_list(self) -> list[str]:
        return [f for f in self.flags.split(",") if f]


class Override(Base):
    __tablename__ = "overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id", ondelete="CASCADE"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teachers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The effective values after this override.
    mark: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    bands: Mapped[dict[str, int]] = mapped_column(JSON)
    feedback: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"strengths": [...], "targets": [...]}
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)  # field -> [before, after]
    reason: Mapped[str] = mapped_column(Text)

    result: Mapped[Result] = relationship(back_populates="overrides")
    teacher: Mapped[Teacher] = relationship()


class LearntModel(Base):
    """A marker learnt from the teacher's marks on one assignment ("Learn from my marks").

    ``model_file`` holds the file written by ``marker.calibrate.save_model`` (sha256-checked
    when loaded); ``report`` the cross-validated figures (``report_to_dict``). Results the
    model gives are stored as ``Result`` rows whose ``model`` is ``model_key``.
    """

    __tablename__ = "calibrated_models"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("teachers.id", ondelete="SET NULL"), nullable=True)
    rubric_id: Mapped[str] = mapped_column(String(200))
    rubric_version: Mapped[str] = mapped_column(String(50))
    model_key: Mapped[str] = mapped_column(String(100))  # the engine's model id (Result.model of its results)
    n_essays: Mapped[int] = mapped_column(Integer)
    model_file: Mapped[bytes] = mapped_column(LargeBinary)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    use_learnt: Mapped[bool] = mapped_column(Boolean, default=False)

    teacher: Mapped[Teacher | None] = relationship()


class SimilarPair(Base):
    """Two submissions of one marking batch that share much of their text."""

    __tablename__ = "similar_pairs"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    submission_a: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    submission_b: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    overlap: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AuthSession(Base):
    """A signed-in browser session. Only a hash of the token is stored."""

    __tablename__ = "auth_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # teacher | student
    user_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(10))  # teacher | student | system
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(50))
    object_kind: Mapped[str] = mapped_column(String(30), default="")
    object_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
