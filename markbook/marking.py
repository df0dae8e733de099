"""Assignments, uploads and marking.

Marking calls only the engine's public API (``marker.mark``, ``marker.mark_many``,
``marker.parse_rubric``...). Submissions are committed before marking starts and
each result is committed as soon as it is known, so a crash or a browser
refresh mid-run loses nothing: the unmarked essays stay "pending" and the next
``mark_pending`` picks them up.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .auth import PermissionDenied, Principal
from .engine import marker
from .models import Assignment, Result, SchoolClass, SimilarPair, Student, Submission, utcnow
from .names import name_key, student_name_from_filename
from .base import ServiceBase
from .results import flags_column, content_hash, rubric_of, shipped_rubric_yaml
from .views import AssignmentView, MarkReport, SubmissionView, UploadReport


Progress = Callable[[int, int, str], None]
CSV_NAME_COLUMNS = ("student", "name", "student name")
CSV_TEXT_COLUMNS = ("essay", "text", "answer")


class MarkingMixin(ServiceBase):
    """Assignments and their rubric snapshots; uploads; marking runs; student drafts."""

    # ---------------------------------------------------------------- assignments & rubrics
    def create_assignment(self, actor: Principal, class_id: int, title: str, *, rubric_id: str | None = None,
                          rubric_yaml: str | None = None, question: str | None = None,
                          feedback_only: bool = False) -> int:
        """Create an assignment from a shipped rubric id or uploaded rubric YAML.

        Raises ``marker.RubricError`` (message names file, field, problem) for bad YAML.
        """
        if rubric_yaml is None:
            if not rubric_id:
                raise ValueError("Choose a rubric.")
            rubric_yaml = shipped_rubric_yaml(rubric_id)
            source = f"{rubric_id}.yaml"
        else:
            source = "uploaded rubric"
        rub = marker.parse_rubric(rubric_yaml, source=source)
        with self.db.session() as s:
            c = self._class(s, actor, class_id)
            a = Assignment(class_id=c.id, title=title.strip() or rub.title, question=(question or rub.question).strip(),
                           rubric_id=rub.id, rubric_version=str(rub.version), rubric_yaml=rubric_yaml,
                           feedback_only=feedback_only)
            s.add(a)
            s.flush()
            self._audit(s, actor, "assignment.create", "assignment", a.id, rubric=rub.id, version=str(rub.version))
            return a.id

    def set_rubric(self, actor: Principal, assignment_id: int, *, rubric_id: str | None = None,
                   rubric_yaml: str | None = None) -> str:
        """Switch an assignment to another rubric version. Old results are kept; call
        ``mark_pending`` to mark the class set again. Returns the new version."""
        if rubric_yaml is None:
            rubric_yaml = shipped_rubric_yaml(rubric_id or "")
        rub = marker.parse_rubric(rubric_yaml, source=f"{rubric_id or 'uploaded rubric'}")
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            self._need_teacher(actor)
            old = a.rubric_version
            a.rubric_id, a.rubric_version, a.rubric_yaml = rub.id, str(rub.version), rubric_yaml
            self._audit(s, actor, "assignment.rubric", "assignment", a.id, old=old, new=str(rub.version))
            return str(rub.version)

    def set_feedback_only(self, actor: Principal, assignment_id: int, feedback_only: bool) -> None:
        self._need_teacher(actor)
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            a.feedback_only = feedback_only
            self._audit(s, actor, "assignment.feedback_only", "assignment", a.id, value=feedback_only)

    def _assignment_view(self, s: Session, a: Assignment) -> AssignmentView:
        subs = s.execute(select(Submission.status, func.count()).where(Submission.assignment_id == a.id)
                         .group_by(Submission.status)).all()
        counts = dict(subs)
        return AssignmentView(a.id, a.class_id, a.school_class.name, a.title, a.question, a.rubric_id,
                              a.rubric_version, a.feedback_only, sum(counts.values()), counts.get("pending", 0))

    def list_assignments(self, actor: Principal, class_id: int | None = None) -> list[AssignmentView]:
        with self.db.session() as s:
            if actor.kind == "teacher":
                q = select(Assignment).join(SchoolClass).where(SchoolClass.teacher_id == actor.id)
                if class_id is not None:
                    q = q.where(Assignment.class_id == class_id)
            else:
                st = s.get(Student, actor.id)
                if st is None:
                    raise PermissionDenied("No such student.")
                q = select(Assignment).where(Assignment.class_id == st.class_id)
            return [self._assignment_view(s, a) for a in s.scalars(q.order_by(Assignment.id.desc()))]

    def get_assignment(self, actor: Principal, assignment_id: int) -> AssignmentView:
        with self.db.session() as s:
            return self._assignment_view(s, self._assignment(s, actor, assignment_id))

    def assignment_rubric(self, actor: Principal, assignment_id: int):
        """The rubric object of the assignment's snapshot."""
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            return rubric_of(a.rubric_yaml, f"assignment {a.id} rubric")

    def assignment_rubric_yaml(self, actor: Principal, assignment_id: int) -> str:
        """The YAML text of the assignment's rubric snapshot (a starting point for a new question)."""
        with self.db.session() as s:
            return self._assignment(s, actor, assignment_id).rubric_yaml

    # ---------------------------------------------------------------- submissions
    def ingest_uploads(self, actor: Principal, assignment_id: int, files: Sequence[tuple[str, bytes]]) -> UploadReport:
        """Uploaded files -> submissions. ``files`` is (file name, bytes) pairs, as from
        ``st.file_uploader``: txt, docx, pdf, odt, zip of those (read by the engine's
        ``marker.read_upload_many``), or a CSV with columns ``student,essay``. Files that cannot
        be read are reported with the reason; the rest are saved."""
        essays: list[tuple[str, str, str]] = []  # (student name, text, source)
        report = UploadReport()
        others: list[tuple[str, bytes]] = []
        for name, data in files:
            if name.lower().endswith(".csv"):
                try:
                    essays.extend(self._read_csv(name, data))
                except ValueError as exc:
                    report.failures.append((name, str(exc)))
            else:
                others.append((name, data))
        try:  # the engine reads every file (zips member by member) and never raises for one bad file
            texts, failures = marker.read_upload_many(others)
        except Exception as exc:  # a reader bug must not lose the whole upload: fall back file by file
            texts, failures = [], []
            for name, data in others:
                try:
                    texts.extend(marker.read_bytes(name, data))
                except Exception as exc2:
                    failures.append(marker.IngestFailure(name, getattr(exc2, "reason", None) or str(exc2)))
            if not texts and not failures:
                report.failures.append(("upload", f"could not be read ({type(exc).__name__}: {exc})"))
        topic = self._topic_words(assignment_id)
        for et in texts:
            essays.append((student_name_from_filename(et.name, topic), et.text, et.source or et.name))
        report.failures.extend((f.name, f.reason) for f in failures)
        sub = self.add_submissions(actor, assignment_id, essays)
        report.added, report.skipped, report.new_students = sub.added, sub.skipped, sub.new_students
        return report

    def _topic_words(self, assignment_id: int) -> set[str]:
        """Words of the question that students put in file names ("alice_smith_stalin.docx"): the
        people the assignment's rubric is about (``vocabulary.focus``)."""
        with self.db.session() as s:
            a = s.get(Assignment, assignment_id)
            if a is None:
                return set()
            focus = rubric_of(a.rubric_yaml, f"assignment {a.id} rubric").vocabulary.focus
        return {w.lower() for f in focus for w in f.split()}

    @staticmethod
    def _read_csv(name: str, data: bytes) -> list[tuple[str, str, str]]:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
        reader = csv.DictReader(io.StringIO(text))
        cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
        ncol = next((cols[c] for c in CSV_NAME_COLUMNS if c in cols), None)
        tcol = next((cols[c] for c in CSV_TEXT_COLUMNS if c in cols), None)
        if not ncol or not tcol:
            raise ValueError("a CSV needs the columns student,essay")
        out = []
        for i, row in enumerate(reader, start=2):
            student, essay = (row.get(ncol) or "").strip(), (row.get(tcol) or "").strip()
            if student and essay:
                et = marker.from_text(essay, name=f"{name}:{i}")
                out.append((student, et.text, f"{name} row {i}"))
        if not out:
            raise ValueError("no rows with both a student and an essay")
        return out

    def add_submissions(self, actor: Principal, assignment_id: int, essays: Iterable[Any],
                        kind: str = "final") -> UploadReport:
        """Save essays as pending submissions, creating students as needed.

        ``essays``: ``marker.EssayText`` (student name from its file name) or
        ``(student name, text, source)`` tuples. The same text uploaded twice for
        a student is skipped."""
        self._need_teacher(actor)
        rows: list[tuple[str, str, str]] = []
        topic: set[str] | None = None  # read from the rubric once, if any essay needs a name from its file
        for e in essays:
            if isinstance(e, tuple):
                rows.append((e[0], e[1], e[2] if len(e) > 2 else e[0]))
            else:
                if topic is None:
                    topic = self._topic_words(assignment_id)
                rows.append((student_name_from_filename(e.name, topic), e.text, getattr(e, "source", "") or e.name))
        report = UploadReport()
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            students, new = self._ensure_students(s, a.school_class, [r[0] for r in rows])
            report.new_students = [st.name for st in new]
            for student_name, text, source in rows:
                st = students[name_key(" ".join(student_name.split()))]
                h = content_hash(text)
                dup = s.scalar(select(Submission.id).where(Submission.assignment_id == a.id,
                                                           Submission.student_id == st.id,
                                                           Submission.content_hash == h))
                if dup:
                    report.skipped.append((source, f"same text as {st.name}'s earlier upload"))
                    continue
                s.add(Submission(assignment_id=a.id, student_id=st.id, draft=self._next_draft(s, a.id, st.id),
                                 kind=kind, text=text, source_name=source, content_hash=h))
                s.flush()
                report.added.append(st.name)
            self._audit(s, actor, "submissions.add", "assignment", a.id, count=len(report.added),
                        skipped=len(report.skipped))
        return report

    @staticmethod
    def _next_draft(s: Session, assignment_id: int, student_id: int) -> int:
        n = s.scalar(select(func.max(Submission.draft)).where(Submission.assignment_id == assignment_id,
                                                               Submission.student_id == student_id))
        return (n or 0) + 1

    # ---------------------------------------------------------------- marking
    def pending_ids(self, actor: Principal, assignment_id: int, *, retry_failed: bool = False) -> list[int]:
        """Submissions still to mark: never marked, or (class-set essays) not yet marked
        with the assignment's current rubric version."""
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            done = select(Result.submission_id).where(Result.rubric_version == a.rubric_version)
            q = select(Submission.id).where(Submission.assignment_id == a.id, Submission.id.not_in(done))
            statuses = ["pending", "marked"] + (["failed"] if retry_failed else [])
            q = q.where(Submission.status.in_(statuses))
            q = q.where((Submission.status == "pending") | (Submission.kind == "final") | (Submission.status == "failed"))
            return list(s.scalars(q.order_by(Submission.id)))

    def mark_pending(self, actor: Principal, assignment_id: int, progress: Progress | None = None, *,
                     retry_failed: bool = False, chunk_size: int = 60, processes: int | None = None) -> MarkReport:
        """Mark what is pending with ``marker.mark_many``, committing each result.

        Essays go to the engine in chunks (a whole class set is one chunk, so the
        engine's similar-text check sees the class together). If the engine raises
        on a chunk, that chunk is marked again essay by essay with ``marker.mark``
        so one bad essay cannot stop the rest; the bad one is recorded as failed.
        """
        self._need_teacher(actor)
        ids = self.pending_ids(actor, assignment_id, retry_failed=retry_failed)
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            rub = rubric_of(a.rubric_yaml, f"assignment {a.id} rubric")
        report = MarkReport()
        total = len(ids)
        done = 0
        for start in range(0, total, max(1, chunk_size)):
            chunk = ids[start:start + chunk_size]
            with self.db.session() as s:
                subs = [(sub.id, sub.student.name, sub.source_name, sub.text)
                        for sub in s.scalars(select(Submission).where(Submission.id.in_(chunk)).order_by(Submission.id))]
            names = self._batch_names(subs)
            by_name = {names[i]: subs[i] for i in range(len(subs))}

            def chunk_progress(d: int, _t: int, name: str, base=done) -> None:
                if progress:
                    sub = by_name.get(name)
                    progress(base + d, total, sub[1] if sub else name)

            try:
                batch = marker.mark_many([(names[i], subs[i][3]) for i in range(len(subs))], rub,
                                         processes=processes, progress=chunk_progress)
            except Exception:  # engine failure on the batch: go essay by essay
                batch = None
            if batch is not None:
                failed = {f.name: f.reason for f in batch.failures}
                results_by_name = {r.essay: r for r in batch.results}
                for i, (sid, student, _src, _text) in enumerate(subs):
                    res = results_by_name.get(names[i])
                    if res is None and len(batch.results) == len(subs) and names[i] not in failed:
                        res = batch.results[i]  # same order as the input, by contract
                    if res is not None:
                        self._save_result(actor, sid, res)
                        report.marked += 1
                    else:
                        reason = failed.get(names[i], "the marker returned no result")
                        self._save_failure(actor, sid, reason)
                        report.failures.append((student, reason))
                pairs = self._save_pairs(a.id, batch.similar_pairs, {n: sub[0] for n, sub in by_name.items()})
                report.similar_pairs.extend(pairs)
            else:
                for i, (sid, student, _src, text) in enumerate(subs):
                    try:
                        res = marker.mark(text, rub, essay=names[i])
                    except Exception as exc:
                        reason = f"the marker failed: {type(exc).__name__}: {exc}"
                        self._save_failure(actor, sid, reason)
                        report.failures.append((student, reason))
                    else:
                        self._save_result(actor, sid, res)
                        report.marked += 1
                    if progress:
                        progress(done + i + 1, total, student)
            done += len(subs)
        if total:
            with self.db.session() as s:
                self._audit(s, actor, "mark", "assignment", assignment_id, marked=report.marked,
                            failed=len(report.failures), rubric_version=rub.version)
        return report

    @staticmethod
    def _batch_names(subs: list[tuple[int, str, str, str]]) -> list[str]:
        """Unique essay names for one batch: the file name, made unique if needed."""
        counts = Counter(src for _i, _n, src, _t in subs)
        return [src if counts[src] == 1 else f"{src} [{sid}]" for sid, _n, src, _t in subs]

    def _save_result(self, actor: Principal | None, submission_id: int, res: Any) -> int:
        """Store one MarkResult (replacing a row for the same version+model, keeping others)."""
        d = res.to_dict() if hasattr(res, "to_dict") else dict(res)
        items = getattr(res, "feedback_items", None)  # sentences behind each strength/target, when the engine gives them
        if items and "feedback_items" not in d:
            d["feedback_items"] = list(items)
        with self.db.session() as s:
            sub = s.get(Submission, submission_id)
            row = s.scalar(select(Result).where(Result.submission_id == submission_id,
                                                Result.rubric_version == str(d["rubric_version"]),
                                                Result.model == d.get("model", "rubric")))
            if row is None:
                row = Result(submission_id=submission_id, rubric_version=str(d["rubric_version"]),
                             model=d.get("model", "rubric"))
                s.add(row)
            row.marker_version, row.mark, row.max_mark, row.level = (
                str(d["marker_version"]), int(d["mark"]), int(d["max_mark"]), int(d["level"]))
            row.needs_review, row.flags = bool(d["needs_review"]), flags_column(d.get("flags", []))
            row.confidence, row.result_json, row.created_at = float(d["confidence"]), d, utcnow()
            sub.status, sub.error = "marked", None
            s.flush()
            return row.id

    def _save_failure(self, actor: Principal | None, submission_id: int, reason: str) -> None:
        with self.db.session() as s:
            sub = s.get(Submission, submission_id)
            sub.status, sub.error = "failed", reason

    def _save_pairs(self, assignment_id: int, pairs: list[dict[str, Any]], ids: dict[str, int]) -> list[dict[str, Any]]:
        out = []
        with self.db.session() as s:
            existing = {(p.submission_a, p.submission_b): p for p in
                        s.scalars(select(SimilarPair).where(SimilarPair.assignment_id == assignment_id))}
            for p in pairs or []:
                a, b = ids.get(p.get("a")), ids.get(p.get("b"))
                if a is None or b is None:
                    continue
                a, b = min(a, b), max(a, b)
                old = existing.get((a, b))
                if old:
                    old.overlap = float(p.get("overlap", 0.0))
                else:
                    s.add(SimilarPair(assignment_id=assignment_id, submission_a=a, submission_b=b,
                                      overlap=float(p.get("overlap", 0.0))))
                out.append({"a": a, "b": b, "overlap": float(p.get("overlap", 0.0))})
        return out


    def submit_draft(self, actor: Principal, assignment_id: int, text: str, name: str = "pasted") -> SubmissionView:
        """A student's draft: saved, marked at once, returned as the student sees it."""
        if actor.kind != "student":
            raise PermissionDenied("Students only.")
        et = marker.from_text(text, name=name)  # engine limits apply (raises IngestError)
        if not et.text.strip():
            raise ValueError("Paste or upload your essay first.")
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            rub = rubric_of(a.rubric_yaml, f"assignment {a.id} rubric")
            h = content_hash(et.text)
            same = s.scalar(select(Submission).where(Submission.assignment_id == a.id,
                                                     Submission.student_id == actor.id,
                                                     Submission.content_hash == h)
                            .order_by(Submission.draft.desc()).limit(1))
            if same is not None and same.status == "marked":
                sid = same.id
            else:
                sub = Submission(assignment_id=a.id, student_id=actor.id, draft=self._next_draft(s, a.id, actor.id),
                                 kind="draft", text=et.text, source_name=name, content_hash=h)
                s.add(sub)
                s.flush()
                sid = sub.id
                self._audit(s, actor, "draft.submit", "submission", sid, draft=sub.draft)
        if same is None or same.status != "marked":
            try:
                res = marker.mark(et.text, rub, essay=name)
            except Exception as exc:
                self._save_failure(actor, sid, f"the marker failed: {exc}")
                raise
            self._save_result(actor, sid, res)
        return self.submission_detail(actor, sid)
