"""Exports: the mark book as CSV / XLSX, per-student feedback as DOCX (zipped).

The mark book carries the teacher's mark (override applied) and, in its own
column, the marker's original mark, so moderation can see both.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from typing import Any, Iterable, Sequence

from .names import sort_key

CRITERIA = ("relevance", "evidence", "range", "luck", "analysis", "judgement", "communication")


def markbook_rows(table: Sequence[dict[str, Any]], assignment: Any = None) -> list[dict[str, Any]]:
    """Service results-table rows -> export rows (plain columns, sorted by student)."""
    out = []
    for r in sorted(table, key=lambda r: sort_key(r["student"])):
        row: dict[str, Any] = {
            "Student": r["student"],
            "Mark": r["mark"],
            "Level": r["level"],
            "Marker mark": r["marker_mark"],
            "Marker level": r["marker_level"],
            "Teacher override": "yes" if r["overridden"] else "",
        }
        for c in CRITERIA:
            row[c.capitalize()] = r.get(c)
        row.update({
            "Flags": r.get("flags", ""),
            "Needs review": "yes" if r.get("needs_review") else "",
            "Confidence": r.get("confidence"),
            "Similar to": r.get("similar_to", ""),
            "Words": r.get("words"),
            "Draft": r.get("draft"),
            "File": r.get("file", ""),
            "Status": r.get("status", ""),
            "Rubric version": r.get("rubric_version"),
            "Marked by": _marked_by(r.get("model")),
            "Rubric marker's mark": r.get("rubric_mark"),
        })
        if r.get("error"):
            row["Status"] = f"{row['Status']}: {r['error']}"
        out.append(row)
    return out


def _marked_by(model: str | None) -> str:
    if not model:
        return ""
    return "learnt marker" if model.startswith("learnt:") else "rubric marker"


def to_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark so Excel shows accented names correctly."""
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0].keys()))
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if v is None else v for k, v in r.items()})
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Sequence[dict[str, Any]], info: dict[str, Any] | None = None) -> bytes:
    """A workbook with a "Mark book" sheet (header frozen, filters on) and an "About" sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Mark book"
    headers = list(rows[0].keys()) if rows else ["Student", "Mark", "Level"]
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    amber = PatternFill("solid", fgColor="FFF2CC")
    for r in rows:
        ws.append([r.get(h) for h in headers])
        if r.get("Teacher override"):
            ws.cell(row=ws.max_row, column=headers.index("Mark") + 1).fill = amber
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions
    for i, h in enumerate(headers, start=1):
        width = max([len(str(h))] + [len(str(r.get(h) or "")) for r in rows])
        ws.column_dimensions[get_column_letter(i)].width = min(max(8, width + 2), 60)
    about = wb.create_sheet("About")
    for k, v in (info or {}).items():
        about.append([k, str(v)])
    about.append(["Exported", datetime.now().strftime("%Y-%m-%d %H:%M")])
    about.append(["Note", "Mark and Level are the teacher's where overridden (shaded); "
                          "Marker mark / Marker level are the marking assistant's (the learnt marker's when "
                          "'Marked by' says so; the rubric marker's mark is then in its own column)."])
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 100
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def safe_filename(name: str, ext: str) -> str:
    base = re.sub(r"[^\w\- ]+", "", name).strip() or "student"
    return f"{base}.{ext}"


def feedback_docx(view: Any, rubric: Any = None) -> bytes:
    """One student's feedback as a Word document (mark hidden for feedback-only assignments)."""
    from docx import Document
    from docx.shared import Pt

    r = view.result
    doc = Document()
    doc.styles["Normal"].font.size = Pt(11)
    doc.add_heading(f"Feedback for {view.student_name}", level=1)
    doc.add_paragraph(view.assignment_title).runs[0].bold = True
    doc.add_paragraph(view.question).runs[0].italic = True
    if r is None:
        doc.add_paragraph("This essay has not been marked yet.")
    else:
        if not view.feedback_only and r.mark is not None:
            max_mark = r.data.get("max_mark", "")
            doc.add_paragraph(f"Mark: {r.mark}/{max_mark}    Level: {r.level}")
        doc.add_heading("What went well", level=2)
        for s in r.feedback.get("strengths", []) or ["-"]:
            doc.add_paragraph(s, style="List Bullet")
        doc.add_heading("To improve", level=2)
        for s in r.feedback.get("targets", []) or ["-"]:
            doc.add_paragraph(s, style="List Bullet")
        crits = r.data.get("criteria", [])
        if crits:
            doc.add_heading("By criterion", level=2)
            table = doc.add_table(rows=1, cols=3)
            table.style = "Light Grid Accent 1"
            hdr = table.rows[0].cells
            hdr[0].text, hdr[1].text, hdr[2].text = "Criterion", "Band (0-4)", "Comment"
            for c in crits:
                crit = rubric.criterion(c["id"]) if rubric is not None else None
                band = r.bands.get(c["id"], c["band"])
                comment = crit.feedback.get(band, c.get("feedback", "")) if crit else c.get("feedback", "")
                row = table.add_row().cells
                row[0].text = crit.name if crit else c["id"].capitalize()
                row[1].text = str(band)
                row[2].text = comment
        if rubric is not None and r.data.get("points"):
            found = {p["id"] for p in r.data["points"] if p.get("found")}
            covered = [p.label for p in rubric.points if p.id in found]
            missing = [p for p in rubric.points if p.id not in found]
            if covered:
                doc.add_heading("Points you covered", level=2)
                for label in covered:
                    doc.add_paragraph(label, style="List Bullet")
            if missing:
                doc.add_heading("Points you could add", level=2)
                for p in missing[:8]:
                    doc.add_paragraph(f"{p.label}: {p.feedback_missing}", style="List Bullet")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def feedback_zip(views: Iterable[Any], rubric: Any = None) -> bytes:
    """All students' feedback documents, one DOCX each, in a zip."""
    out = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for v in views:
            fn = safe_filename(v.student_name, "docx")
            i = 2
            while fn in used:
                fn = safe_filename(f"{v.student_name} {i}", "docx")
                i += 1
            used.add(fn)
            zf.writestr(fn, feedback_docx(v, rubric))
    return out.getvalue()
