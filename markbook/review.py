"""Reviewing results: the results table, one essay, overrides, class analytics, the student's own view, export rows."""
from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .auth import PermissionDenied, Principal
from .models import Override, Result, SimilarPair, Student, Submission
from .names import sort_key
from .base import ServiceBase
from .results import (
    CRITERIA, compare_drafts, effective_values, family_overrides, is_learnt, pick_result, result_view, rubric_of,
)
from .views import AssignmentView, SubmissionView


class ReviewMixin(ServiceBase):
    """Results table, one essay in detail, overrides, class analytics, exports."""

    # ---------------------------------------------------------------- review
    def results_table(self, actor: Principal, assignment_id: int, *, include_drafts: bool = False) -> list[dict[str, Any]]:
        """One row per student: their latest class-set essay and its newest result,
        with the teacher's override applied. Needs-review rows first, then by name.
        When the assignment uses a learnt marker, its results are shown (``model`` names it;
        ``rubric_mark`` is the rubric marker's mark)."""
        self._need_teacher(actor)
        with self.db.session() as s:
            self._assignment(s, actor, assignment_id)
        self._sync_learnt(assignment_id)
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            learnt_key = self._active_key(s, a)
            kinds = ("final", "draft") if include_drafts else ("final",)
            subs = s.scalars(select(Submission).where(Submission.assignment_id == a.id, Submission.kind.in_(kinds))
                             .options(selectinload(Submission.student),
                                      selectinload(Submission.results).selectinload(Result.overrides))
                             .order_by(Submission.student_id, Submission.draft.desc())).all()
            latest: dict[int, Submission] = {}
            for sub in subs:
                latest.setdefault(sub.student_id, sub)
            similar = self._similar_map(s, a.id)
            rows = []
            for sub in latest.values():
                res = pick_result(sub.results, learnt_key)
                row: dict[str, Any] = {"submission_id": sub.id, "student": sub.student.name, "draft": sub.draft,
                                       "file": sub.source_name, "status": sub.status}
                if res is None:
                    row.update({"result_id": None, "mark": None, "level": None, "marker_mark": None,
                                "marker_level": None, "model": None, "rubric_mark": None,
                                "overridden": False, "needs_review": sub.status == "failed",
                                "flags": "", "confidence": None, "rubric_version": None, "words": None,
                                "error": sub.error or "", **{c: None for c in CRITERIA}, "similar_to": ""})
                else:
                    mark, level, bands, _fb, ov = effective_values(res, family_overrides(sub.results, res))
                    base = pick_result(sub.results) if is_learnt(res) else res
                    row.update({"result_id": res.id, "mark": mark, "level": level, "marker_mark": res.mark,
                                "marker_level": res.level, "model": res.model, "rubric_mark": base.mark,
                                "overridden": ov is not None,
                                "needs_review": res.needs_review and ov is None, "flags": ", ".join(res.flag_list),
                                "confidence": round(res.confidence, 2), "rubric_version": res.rubric_version,
                                "words": res.result_json.get("stats", {}).get("words"), "error": "",
                                **{c: bands.get(c) for c in CRITERIA},
                                "similar_to": self._top(similar.get(sub.id, []))})
                rows.append(row)
            rows.sort(key=lambda r: (not r["needs_review"], sort_key(r["student"])))
            return rows

    @staticmethod
    def _similar_map(s: Session, assignment_id: int) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        names = dict(s.execute(select(Submission.id, Student.name).join(Student)
                               .where(Submission.assignment_id == assignment_id)).all())
        for p in s.scalars(select(SimilarPair).where(SimilarPair.assignment_id == assignment_id)
                           .order_by(SimilarPair.overlap.desc())):
            out.setdefault(p.submission_a, []).append(f"{names.get(p.submission_b)} ({p.overlap:.0%})")
            out.setdefault(p.submission_b, []).append(f"{names.get(p.submission_a)} ({p.overlap:.0%})")
        return out

    @staticmethod
    def _top(similar: list[str], n: int = 3) -> str:
        return ", ".join(similar[:n]) + (f" and {len(similar) - n} more" if len(similar) > n else "")

    def similar_pairs(self, actor: Principal, assignment_id: int) -> list[dict[str, Any]]:
        self._need_teacher(actor)
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            out = []
            for p in s.scalars(select(SimilarPair).where(SimilarPair.assignment_id == a.id)
                               .order_by(SimilarPair.overlap.desc())):
                sa, sb = s.get(Submission, p.submission_a), s.get(Submission, p.submission_b)
                out.append({"a": sa.student.name, "b": sb.student.name, "overlap": p.overlap,
                            "submission_a": sa.id, "submission_b": sb.id})
            return out

    def submission_detail(self, actor: Principal, submission_id: int) -> SubmissionView:
        """One essay with its newest result (override applied), older results and
        similar essays; for a student, what improved since their previous draft.
        Students never see marker reasons, flags or other students; nor the mark and
        level when the assignment is "feedback only"."""
        with self.db.session() as s:
            aid = self._submission(s, actor, submission_id).assignment_id
        self._sync_learnt(aid)
        with self.db.session() as s:
            sub = self._submission(s, actor, submission_id)
            a = sub.assignment
            learnt_key = self._active_key(s, a)
            rub = rubric_of(a.rubric_yaml, f"assignment {a.id} rubric")
            view = SubmissionView(
                id=sub.id, assignment_id=a.id, assignment_title=a.title, question=a.question,
                student_id=sub.student_id, student_name=sub.student.name, draft=sub.draft, kind=sub.kind,
                text=sub.text, source_name=sub.source_name, status=sub.status, error=sub.error,
                created_at=sub.created_at, feedback_only=a.feedback_only, rubric_id=a.rubric_id,
                rubric_version=a.rubric_version)
            shown = pick_result(sub.results, learnt_key)
            if shown is not None:
                view.result = result_view(shown, family_overrides(sub.results, shown))
                view.older_results = [{"rubric_version": r.rubric_version, "model": r.model, "mark": r.mark,
                                       "level": r.level, "marked_at": r.created_at}
                                      for r in sub.results if r is not shown]
            prev = s.scalar(select(Submission).where(Submission.assignment_id == a.id,
                                                     Submission.student_id == sub.student_id,
                                                     Submission.draft < sub.draft)
                            .order_by(Submission.draft.desc()).limit(1))
            hide_mark = actor.kind == "student" and a.feedback_only
            prev_shown = pick_result(prev.results, learnt_key) if prev is not None else None
            if prev_shown is not None and view.result is not None:
                pv = result_view(prev_shown, family_overrides(prev.results, prev_shown))
                cur_d = {**view.result.data, "mark": view.result.mark,
                         "criteria": [{**c, "band": view.result.bands.get(c["id"], c["band"])}
                                      for c in view.result.data.get("criteria", [])]}
                prev_d = {**pv.data, "mark": pv.mark,
                          "criteria": [{**c, "band": pv.bands.get(c["id"], c["band"])}
                                       for c in pv.data.get("criteria", [])]}
                view.improvements = compare_drafts(prev_d, cur_d, rub, show_mark=not hide_mark)
            if actor.kind == "teacher":
                sim = self._similar_map(s, a.id).get(sub.id, [])
                view.similar = [{"student": x} for x in sim]
            else:
                self._redact_for_student(view, hide_mark)
            return view

    @staticmethod
    def _redact_for_student(view: SubmissionView, hide_mark: bool) -> None:
        r = view.result
        if r is None:
            return
        data = {k: v for k, v in r.data.items() if k not in ("review_reasons", "flag_reasons", "flag_spans",
                                                              "similar_to", "confidence", "needs_review")}
        data["criteria"] = [{k: v for k, v in c.items() if k not in ("reasons", "score")} for c in r.data["criteria"]]
        data["flags"] = []
        r.data, r.overrides, r.marker_mark, r.marker_level = data, [], None, None
        r.marker_bands = dict(r.bands)
        if hide_mark:
            r.mark = r.level = None
            data["mark"] = data["level"] = None
        else:
            data["mark"], data["level"] = r.mark, r.level
        view.older_results = []

    # ---------------------------------------------------------------- overrides
    def override(self, actor: Principal, result_id: int, *, reason: str, mark: int | None = None,
                 level: int | None = None, bands: dict[str, int] | None = None,
                 feedback: dict[str, list[str]] | None = None) -> int:
        """Record the teacher's correction of a result. ``reason`` is required.

        Only what differs from the current effective values counts as a change. If
        the mark changes and no level is given, the level follows the mark by the
        rubric's ranges; a mark and level that contradict the rubric are refused.
        """
        self._need_teacher(actor)
        if not reason or not reason.strip():
            raise ValueError("Give a reason for the change.")
        with self.db.session() as s:
            res = s.get(Result, result_id)
            if res is None:
                raise PermissionDenied("No such result.")
            self._submission(s, actor, res.submission_id)  # ownership
            a = res.submission.assignment
            rub = rubric_of(a.rubric_yaml, f"assignment {a.id} rubric")
            cur_mark, cur_level, cur_bands, cur_fb, _ov = effective_values(
                res, family_overrides(res.submission.results, res))
            new_mark = cur_mark if mark is None else int(mark)
            if not 0 <= new_mark <= res.max_mark:
                raise ValueError(f"The mark must be between 0 and {res.max_mark}.")
            if level is None or (mark is not None and int(level) == cur_level and new_mark != cur_mark):
                new_level = rub.level_for_mark(new_mark) if new_mark != cur_mark else cur_level
            else:
                new_level = int(level)
            try:
                expected = rub.level_for_mark(new_mark)
            except ValueError:
                expected = new_level
            if new_level != expected:
                raise ValueError(f"A mark of {new_mark} is in level {expected}, not level {new_level}. "
                                 f"Change the mark as well, or leave the level to follow the mark.")
            new_bands = dict(cur_bands)
            for cid, b in (bands or {}).items():
                if cid not in new_bands:
                    raise ValueError(f"Unknown criterion {cid}.")
                if not 0 <= int(b) <= 4:
                    raise ValueError(f"Bands run 0-4 ({cid}: {b}).")
                new_bands[cid] = int(b)
            new_fb = {k: [x for x in v if x.strip()] for k, v in (feedback or cur_fb).items()}
            changes: dict[str, Any] = {}
            if new_mark != cur_mark:
                changes["mark"] = [cur_mark, new_mark]
            if new_level != cur_level:
                changes["level"] = [cur_level, new_level]
            for cid in new_bands:
                if new_bands[cid] != cur_bands.get(cid):
                    changes[f"band:{cid}"] = [cur_bands.get(cid), new_bands[cid]]
            if new_fb != cur_fb:
                changes["feedback"] = [cur_fb, new_fb]
            if not changes:
                raise ValueError("Nothing was changed.")
            ov = Override(result_id=res.id, teacher_id=actor.id, mark=new_mark, level=new_level, bands=new_bands,
                          feedback=new_fb, changes=changes, reason=reason.strip())
            s.add(ov)
            s.flush()
            self._audit(s, actor, "override", "result", res.id, changes={k: v for k, v in changes.items()
                                                                          if k != "feedback"} | (
                {"feedback": "edited"} if "feedback" in changes else {}), reason=reason.strip())
            return ov.id

    # ---------------------------------------------------------------- analytics
    def class_analytics(self, actor: Principal, assignment_id: int) -> dict[str, Any]:
        """Numbers behind the class view: marks, level counts, criteria heat map,
        content points most often missed, the most common targets, flags."""
        rows = [r for r in self.results_table(actor, assignment_id) if r["result_id"] is not None]
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            rub = rubric_of(a.rubric_yaml, f"assignment {a.id} rubric")
            results = {r.id: r for r in s.scalars(select(Result).where(Result.id.in_([x["result_id"] for x in rows])))}
            missed: Counter[str] = Counter()
            targets: Counter[str] = Counter()
            flags: Counter[str] = Counter()
            for row in rows:
                res = results[row["result_id"]]
                _m, _l, _b, fb, _ov = effective_values(res, family_overrides(res.submission.results, res))
                for p in res.result_json.get("points", []):
                    if not p.get("found"):
                        missed[p["id"]] += 1
                for t in fb.get("targets", []):
                    targets[t] += 1
                for f in res.flag_list:
                    flags[f] += 1
        labels = {p.id: p.label for p in rub.points}
        n = len(rows)
        return {
            "n": n,
            "marks": [r["mark"] for r in rows],
            "levels": dict(sorted(Counter(r["level"] for r in rows).items())),
            "heatmap": {r["student"]: {c: r[c] for c in CRITERIA} for r in sorted(rows, key=lambda r: sort_key(r["student"]))},
            "criteria_names": {c.id: c.name for c in rub.criteria},
            "missed_points": [{"point": pid, "label": labels.get(pid, pid), "missed": k, "share": k / n if n else 0}
                              for pid, k in missed.most_common()],
            "targets": [{"target": t, "students": k} for t, k in targets.most_common(10)],
            "flags": dict(flags.most_common()),
            "max_mark": rub.max_mark,
        }

    # ---------------------------------------------------------------- students
    def student_assignments(self, actor: Principal) -> list[AssignmentView]:
        if actor.kind != "student":
            raise PermissionDenied("Students only.")
        return self.list_assignments(actor)

    def student_submissions(self, actor: Principal, assignment_id: int) -> list[dict[str, Any]]:
        """The student's own submissions for an assignment, newest first."""
        if actor.kind != "student":
            raise PermissionDenied("Students only.")
        with self.db.session() as s:
            a = self._assignment(s, actor, assignment_id)
            subs = s.scalars(select(Submission).where(Submission.assignment_id == a.id,
                                                      Submission.student_id == actor.id)
                             .order_by(Submission.draft.desc())).all()
            return [{"id": x.id, "draft": x.draft, "kind": x.kind, "status": x.status, "at": x.created_at,
                     "words": len(x.text.split())} for x in subs]

    # ---------------------------------------------------------------- exports
    def markbook_rows(self, actor: Principal, assignment_id: int) -> list[dict[str, Any]]:
        """Rows for the mark book export, sorted by student."""
        from .exports import markbook_rows

        a = self.get_assignment(actor, assignment_id)
        rows = markbook_rows(self.results_table(actor, assignment_id), a)
        with self.db.session() as s:
            self._audit(s, actor, "export", "assignment", assignment_id, rows=len(rows))
        return rows

    def feedback_views(self, actor: Principal, assignment_id: int) -> list[SubmissionView]:
        rows = self.results_table(actor, assignment_id)
        return [self.submission_detail(actor, r["submission_id"]) for r in sorted(rows, key=lambda r: sort_key(r["student"]))
                if r["result_id"] is not None]
