"""The service's base: the database, the audit log and the access checks.

Every method of the service takes the acting ``Principal`` and checks it may
touch the object (a teacher sees only their own classes, a student only their
own submissions); "not yours" and "does not exist" give the same
``PermissionDenied`` so ids cannot be probed.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .auth import PermissionDenied, Principal
from .db import Database, open_db
from .models import Assignment, AuditLog, SchoolClass, Student, Submission


class ServiceBase:
    """Database access, audit and permission checks shared by the service parts."""

    def __init__(self, db: Database | str | None = None):
        self.db = db if isinstance(db, Database) else open_db(db)

    # ---------------------------------------------------------------- audit
    @staticmethod
    def _audit(s: Session, actor: Principal | None, action: str, obj_kind: str = "", obj_id: int | None = None,
               **detail: Any) -> None:
        s.add(AuditLog(actor_kind=actor.kind if actor else "system", actor_id=actor.id if actor else None,
                       action=action, object_kind=obj_kind, object_id=obj_id, detail=detail))

    def audit_log(self, actor: Principal, limit: int = 200) -> list[dict[str, Any]]:
        """The teacher's own audit entries, newest first."""
        self._need_teacher(actor)
        with self.db.session() as s:
            rows = s.scalars(select(AuditLog).where(AuditLog.actor_kind == "teacher", AuditLog.actor_id == actor.id)
                             .order_by(AuditLog.id.desc()).limit(limit)).all()
            return [{"at": r.at, "action": r.action, "object": f"{r.object_kind} {r.object_id or ''}".strip(),
                     "detail": r.detail} for r in rows]

    # ---------------------------------------------------------------- learnt marker hooks (calibration.py)
    def _active_key(self, s: Session, a: Assignment) -> str | None:
        """Result.model of the learnt marker the assignment uses, or None (rubric marker)."""
        return None

    def _sync_learnt(self, assignment_id: int, *, raise_errors: bool = False) -> int:
        """Make the learnt marker's results that are missing; returns how many."""
        return 0

    # ---------------------------------------------------------------- access checks
    @staticmethod
    def _need_teacher(actor: Principal) -> None:
        if not actor or actor.kind != "teacher":
            raise PermissionDenied("Only teachers can do that.")

    def _class(self, s: Session, actor: Principal, class_id: int) -> SchoolClass:
        self._need_teacher(actor)
        c = s.get(SchoolClass, class_id)
        if c is None or c.teacher_id != actor.id:
            raise PermissionDenied("No such class.")
        return c

    def _assignment(self, s: Session, actor: Principal, assignment_id: int) -> Assignment:
        a = s.get(Assignment, assignment_id)
        if a is not None:
            if actor.kind == "teacher" and a.school_class.teacher_id == actor.id:
                return a
            if actor.kind == "student":
                st = s.get(Student, actor.id)
                if st is not None and st.class_id == a.class_id:
                    return a
        raise PermissionDenied("No such assignment.")

    def _submission(self, s: Session, actor: Principal, submission_id: int) -> Submission:
        sub = s.get(Submission, submission_id)
        if sub is not None:
            if actor.kind == "teacher" and sub.assignment.school_class.teacher_id == actor.id:
                return sub
            if actor.kind == "student" and sub.student_id == actor.id:
                return sub
        raise PermissionDenied("No such submission.")
