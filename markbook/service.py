"""The mark book's operations: what the Streamlit app and the CLI call.

``MarkBook`` is assembled from parts, each in its own module:

* ``accounts``: teachers, sign-in sessions, classes, students, access codes
* ``marking``: assignments and rubric snapshots, uploads, marking runs, student drafts
* ``review``: results table, essay detail, overrides, analytics, export rows
* ``calibration``: "learn from my marks" and switching an assignment to a learnt marker

Methods return plain dataclasses (``views``), never live ORM objects.
"""
from __future__ import annotations

from .accounts import AccountsMixin
from .auth import AuthError, PermissionDenied, Principal
from .calibration import (
    MIN_TEACHER_MARKS, CalibrationMixin, CalibrationRefused, CalibrationStatus, LearntModelView,
)
from .marking import MarkingMixin, Progress
from .results import CRITERIA, compare_drafts, content_hash, rubric_of, shipped_rubric_yaml
from .review import ReviewMixin
from .views import (
    AssignmentView, ClassView, MarkReport, ResultView, StudentView, SubmissionView, UploadReport,
)


class MarkBook(AccountsMixin, MarkingMixin, ReviewMixin, CalibrationMixin):
    """All operations on one database: ``MarkBook(db_or_url)``."""


__all__ = ["MarkBook", "AuthError", "PermissionDenied", "Principal", "Progress", "CalibrationRefused",
           "CalibrationStatus", "LearntModelView", "MIN_TEACHER_MARKS", "CRITERIA", "compare_drafts",
           "content_hash", "rubric_of", "shipped_rubric_yaml", "AssignmentView", "ClassView", "MarkReport",
           "ResultView", "StudentView", "SubmissionView", "UploadReport"]
