"""Learning from the teacher's marks ("Learn from my marks") and switching the marker.

Once a teacher has given their own mark to enough essays of an assignment, the engine's
calibration (``marker.calibrate.train``, public functions only) learns a marker from
those essays, reusing the stored rubric results (nothing is marked again). The model
file and its cross-validated figures are kept in ``calibrated_models``.

An essay counts as marked by the teacher when it has an override (the override form
always carries a mark; the newest override's mark is the teacher's mark). The app has no
separate "confirm the marker's mark" action, so essays the teacher agreed with without
saving an override are not counted.

When the assignment is switched to a learnt marker, each rubric result gets a companion
result row (``model`` = the learnt model's key) from ``CalibratedModel.apply``: mark and
level are the learnt ones, bands, evidence and feedback stay the rubric engine's. The
rubric rows stay, so switching back simply shows them again. Companion rows are made
lazily whenever results are read, so essays marked after the switch get them too.
"""
from __future__ import annotations

import hashlib
import importlib
import logging
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from .auth import PermissionDenied, Principal
from .base import ServiceBase
from .engine import marker
from .models import Assignment, LearntModel, Result, Submission, utcnow
from .results import LEARNT_PREFIX, family_overrides, flags_column, is_learnt, rubric_of

log = logging.getLogger(__name__)

MIN_TEACHER_MARKS = 15  # essays with the teacher's mark before "Learn from my marks" is offered
MODEL_KEY_MAX = 100  # Result.model / calibrated_models.model_key column width


class CalibrationRefused(ValueError):
    """Learning or switching is not possible; the message says why, in the teacher's words."""


@dataclass
class LearntModelView:
    id: int
    assignment_id: int
    created_at: datetime
    created_by: str
    rubric_id: str
    rubric_version: str
    model_key: str
    n_essays: int
    use_learnt: bool  # the learnt mark beat the rubric-only marker in cross-validation
    reason: str
    report: dict[str, Any]  # marker.calibrate.report_to_dict
    active: bool = False  # the assignment is using it now
    current_rubric: bool = True  # trained on the assignment's current rubric version


@dataclass
class CalibrationStatus:
    assignment_id: int
    teacher_marked: int  # essays with the teacher's mark (current rubric version)
    needed: int  # MIN_TEACHER_MARKS
    rubric_version: str
    models: list[LearntModelView] = field(default_factory=list)  # newest first
    active: LearntModelView | None = None  # the learnt marker in use (None: rubric marker)
    problem: str | None = None  # why the learnt marker in use could not give results

    @property
    def can_learn(self) -> bool:
        return self.teacher_marked >= self.needed


def _calibrate():
    """The engine's calibration module (imported on first use: it pulls in scikit-learn)."""
    return importlib.import_module("marker.calibrate")


# Loaded models, by (database url, model row id): loading is a zip read + skops load.
_models: OrderedDict[tuple[str, int], Any] = OrderedDict()
_models_lock = threading.Lock()
_MAX_LOADED = 8
# Why the learnt marker could not be applied, by (database url, assignment id), for the status.
_sync_problems: dict[tuple[str, int], str] = {}


class CalibrationMixin(ServiceBase):
    """Learn a marker from the teacher's marks; switch an assignment to it and back."""

    # ---------------------------------------------------------------- what the teacher has marked
    @staticmethod
    def _teacher_marked(s: Session, a: Assignment) -> list[tuple[Submission, Result, int]]:
        """(submission, rubric result, teacher's mark) for every essay of the assignment that
        has the teacher's mark under the current rubric version."""
        subs = s.scalars(select(Submission).where(Submission.assignment_id == a.id)
                         .options(selectinload(Submission.results).selectinload(Result.overrides))
                         .order_by(Submission.id)).all()
        out = []
        for sub in subs:
            base = next((r for r in reversed(sub.results)
                         if not is_learnt(r) and r.rubric_version == a.rubric_version), None)
            if base is None:
                continue
            ovs = family_overrides(sub.results, base)
            if ovs:
                out.append((sub, base, int(ovs[-1].mark)))
        return out

    @staticmethod
    def _model_view(m: LearntModel, a: Assignment) -> LearntModelView:
        return LearntModelView(
            id=m.id, assignment_id=m.assignment_id, created_at=m.created_at,
            created_by=m.teacher.name if m.teacher else "", rubric_id=m.rubric_id, rubric_version=m.rubric_version,
            model_key=m.model_key, n_essays=m.n_essays, use_learnt=bool(m.use_learnt),
            reason=str(m.report.get("reason", "")), report=dict(m.report), active=a.active_model_id == m.id,
            current_rubric=(m.rubric_id, m.rubric_version) == (a.rubric_id, a.rubric_version))

    @staticmethod
    def _usable(m: LearntModel | None, a: Assignment) -> bool:
        return (m is not None and m.assignment_id == a.id and bool(m.use_learnt)
                and (m.rubric_id, m.rubric_version) == (a.rubric_id, a.rubric_version))

    def _active_model(self, s: Session, a: Assignment) -> LearntModel | None:
        """The learnt marker the assignment uses, if it can be used now (same rubric version)."""
        if a.active_model_id is None:
            return None
        m = s.get(LearntModel, a.active_model_id)
        return m if self._usable(m, a) else None

    def _active_key(self, s: Session, a: Assignment) -> str | None:
        m = self._active_model(s, a)
        return m.model_key if m is not None else None

    # ---------------------------------------------------------------- status
    def calibration_status(self, actor: Principal, assignment_id: int) -> CalibrationStatus:
        """How many essays have the teacher's mark, the models learnt so far, the one in use."""
        self._need_teacher(actor)
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            models = s.scalars(select(LearntModel).where(LearntModel.assignment_id == a.id)
                               .options(selectinload(LearntModel.teacher))
                               .order_by(LearntModel.id.desc())).all()
            views = [self._model_view(m, a) for m in models]
            active = next((v for v in views if v.active and v.use_learnt and v.current_rubric), None)
            return CalibrationStatus(assignment_id=a.id, teacher_marked=len(self._teacher_marked(s, a)),
                                     needed=MIN_TEACHER_MARKS, rubric_version=a.rubric_version,
                                     models=views, active=active,
                                     problem=_sync_problems.get((self.db.url, a.id)) if active else None)

    # ---------------------------------------------------------------- learning
    def learn_from_marks(self, actor: Principal, assignment_id: int,
                         progress: Callable[[str], None] | None = None, **train_options: Any) -> LearntModelView:
        """Train a marker on the essays the teacher has marked (``marker.calibrate.train``,
        with the stored rubric results) and store it with its cross-validated figures.

        Raises ``CalibrationRefused`` with fewer than ``MIN_TEACHER_MARKS`` such essays (or when
        the engine refuses the data). The assignment keeps its current marker: switching is
        ``use_learnt_marker``. ``train_options`` go to ``train`` (folds, curve_sizes, ...).
        """
        self._need_teacher(actor)
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            marked = self._teacher_marked(s, a)
            if len(marked) < MIN_TEACHER_MARKS:
                raise CalibrationRefused(
                    f"Learning from your marks needs at least {MIN_TEACHER_MARKS} essays with your own mark; "
                    f"this assignment has {len(marked)}. Give your mark to more essays on the Review page "
                    f"(change the mark, with a reason) and try again.")
            rub = rubric_of(a.rubric_yaml, f"assignment {a.id} rubric")
            texts = [sub.text for sub, _r, _m in marked]
            marks = [m for _s, _r, m in marked]
            results = [marker.MarkResult.from_dict(r.result_json) for _s, r, _m in marked]
            rubric_id, rubric_version = a.rubric_id, a.rubric_version
        cal = _calibrate()
        try:
            report = cal.train(texts, marks, rub, rubric_results=results, progress=progress, **train_options)
        except cal.CalibrationError as exc:
            raise CalibrationRefused(f"The marker could not learn from these marks: {exc}") from exc
        with tempfile.TemporaryDirectory(prefix="essay-marker-model-") as tmp:
            path = Path(tmp) / "model.emmodel"
            cal.save_model(report.model, path)
            blob = path.read_bytes()
        figures = cal.report_to_dict(report)
        figures["summary"] = cal.format_report(report)
        key = str(report.model_id)
        if not key.startswith(LEARNT_PREFIX) or len(key) > MODEL_KEY_MAX:
            key = f"{LEARNT_PREFIX}{hashlib.sha256(key.encode()).hexdigest()[:16]}"
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            m = LearntModel(assignment_id=a.id, created_by=actor.id, rubric_id=rubric_id,
                            rubric_version=rubric_version, model_key=key, n_essays=int(report.n_essays),
                            model_file=blob, report=figures, use_learnt=bool(report.use_learnt))
            s.add(m)
            s.flush()
            self._audit(s, actor, "calibration.train", "assignment", a.id, model=m.id, essays=m.n_essays,
                        use_learnt=m.use_learnt, qwk_learnt=figures["learnt"]["qwk"],
                        qwk_rubric=(figures["rubric_only"] or {}).get("qwk"), reason=figures["reason"])
            s.flush()
            s.refresh(m)
            return self._model_view(m, a)

    # ---------------------------------------------------------------- switching
    def use_learnt_marker(self, actor: Principal, assignment_id: int, model_id: int) -> int:
        """Switch the assignment to a learnt marker of its own. Returns how many results the
        learnt marker gave now. Refused when the model did not beat the rubric-only marker
        (its reason is in the message) or was learnt under another rubric version."""
        self._need_teacher(actor)
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            m = s.get(LearntModel, model_id)
            if m is None or m.assignment_id != a.id:
                raise PermissionDenied("No such learnt marker.")
            if not m.use_learnt:
                raise CalibrationRefused("This learnt marker cannot be used: " + str(m.report.get("reason", "")))
            if (m.rubric_id, m.rubric_version) != (a.rubric_id, a.rubric_version):
                raise CalibrationRefused(
                    f"This learnt marker was learnt under rubric {m.rubric_id} v{m.rubric_version}; the assignment "
                    f"now uses v{a.rubric_version}. Learn from your marks again.")
            old = a.active_model_id
            a.active_model_id = m.id
        try:
            n = self._sync_learnt(assignment_id, raise_errors=True)
        except Exception as exc:
            with self.db.session() as s:
                s.get(Assignment, assignment_id).active_model_id = old
            raise CalibrationRefused(f"The learnt marker could not be used: {exc}") from exc
        with self.db.session() as s:
            self._audit(s, actor, "calibration.use_learnt", "assignment", assignment_id, model=model_id,
                        previous=old, results=n)
        return n

    def use_rubric_marker(self, actor: Principal, assignment_id: int) -> None:
        """Switch the assignment back to the rubric marker (the learnt results are kept)."""
        self._need_teacher(actor)
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            old = a.active_model_id
            a.active_model_id = None
            self._audit(s, actor, "calibration.use_rubric", "assignment", a.id, previous=old)

    # ---------------------------------------------------------------- learnt results
    def _load_learnt(self, m: LearntModel) -> Any:
        key = (self.db.url, m.id)
        with _models_lock:
            if key in _models:
                _models.move_to_end(key)
                return _models[key]
        with tempfile.TemporaryDirectory(prefix="essay-marker-model-") as tmp:
            path = Path(tmp) / "model.emmodel"
            path.write_bytes(m.model_file)
            model = _calibrate().load_model(path)  # sha256 and trusted types checked
        with _models_lock:
            _models[key] = model
            while len(_models) > _MAX_LOADED:
                _models.popitem(last=False)
        return model

    def _sync_learnt(self, assignment_id: int, *, raise_errors: bool = False) -> int:
        """Give every rubric result of the assignment (current rubric version) its learnt
        companion when a learnt marker is in use; redo companions older than their rubric
        result. Returns how many were written. No access check: it only derives data."""
        try:
            with self.db.session() as s:
                a = s.get(Assignment, assignment_id)
                m = self._active_model(s, a) if a is not None else None
                if m is None:
                    return 0
                rows = s.execute(select(Result, Submission.text).join(Submission)
                                 .where(Submission.assignment_id == a.id,
                                        Result.rubric_version == a.rubric_version)
                                 .order_by(Result.id)).all()
                base: dict[int, tuple[Result, str]] = {}
                learnt: dict[int, Result] = {}
                for r, text in rows:
                    if r.model == m.model_key:
                        learnt[r.submission_id] = r
                    elif not is_learnt(r):
                        base[r.submission_id] = (r, text)  # the newest wins (id order)
                todo = [(sid, r, text) for sid, (r, text) in base.items()
                        if sid not in learnt or learnt[sid].created_at < r.created_at]
                if not todo:
                    return 0
                model = self._load_learnt(m)
                for sid, r, text in todo:
                    out = model.apply(marker.MarkResult.from_dict(r.result_json), text)
                    d = out.to_dict()
                    d["model"] = m.model_key
                    if r.result_json.get("feedback_items") and not d.get("feedback_items"):
                        d["feedback_items"] = r.result_json["feedback_items"]
                    row = learnt.get(sid)
                    if row is None:
                        row = Result(submission_id=sid, rubric_version=r.rubric_version, model=m.model_key)
                        s.add(row)
                    row.marker_version, row.mark, row.max_mark, row.level = (
                        str(d["marker_version"]), int(d["mark"]), int(d["max_mark"]), int(d["level"]))
                    row.needs_review, row.flags = bool(d["needs_review"]), flags_column(d.get("flags", []))
                    row.confidence, row.result_json, row.created_at = float(d["confidence"]), d, utcnow()
            _sync_problems.pop((self.db.url, assignment_id), None)
            return len(todo)
        except IntegrityError:  # another session wrote the same rows at the same moment
            return 0
        except Exception as exc:  # noqa: BLE001 - a broken model must not hide the rubric results
            if raise_errors:
                raise
            log.warning("learnt marker for assignment %s not applied: %s", assignment_id, exc)
            _sync_problems[(self.db.url, assignment_id)] = f"{type(exc).__name__}: {exc}"
            return 0
