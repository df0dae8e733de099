"""The export functions on their own: CSV, XLSX, DOCX and the zip, read back."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

from docx import Document
from openpyxl import load_workbook

from markbook import exports
from markbook.service import ResultView, SubmissionView

CRIT = ("relevance", "evidence", "range", "luck", "analysis", "judgement", "communication")


def table_row(student, mark, marker_mark=None, flags="", needs_review=False):
    return {"submission_id": 1, "student": student, "draft": 1, "file": f"{student}.txt", "status": "marked",
            "result_id": 1, "mark": mark, "level": 3, "marker_mark": marker_mark if marker_mark is not None else mark,
            "marker_level": 3, "overridden": marker_mark is not None, "needs_review": needs_review, "flags": flags,
            "confidence": 0.8, "rubric_version": "1", "words": 500, "error": "", "similar_to": "",
            **{c: 2 for c in CRIT}}


def view(name, mark=14, feedback_only=False):
    data = {"max_mark": 25, "criteria": [{"id": c, "band": 2, "feedback": f"{c} feedback"} for c in CRIT],
            "points": [{"id": "A1", "found": True}, {"id": "B1", "found": False}]}
    r = ResultView(id=1, rubric_version="1", model="rubric", marker_version="0", created_at=datetime.now(),
                   data=data, marker_mark=mark, marker_level=3, mark=mark, level=3,
                   marker_bands={c: 2 for c in CRIT}, bands={c: 2 for c in CRIT},
                   feedback={"strengths": ["Clear focus on the question."], "targets": ["Weigh the factors."]})
    return SubmissionView(id=1, assignment_id=1, assignment_title="Stalin v Trotsky", question="Why did Stalin...?",
                          student_id=1, student_name=name, draft=1, kind="final", text="...", source_name="x.txt",
                          status="marked", error=None, created_at=datetime.now(), feedback_only=feedback_only,
                          rubric_id="r", rubric_version="1", result=r)


def test_markbook_rows_csv_and_xlsx_round_trip():
    rows = exports.markbook_rows([table_row("Ben Jones", 12, flags="too_short", needs_review=True),
                                  table_row("Ália Smith", 20, marker_mark=15)])
    assert [r["Student"] for r in rows] == ["Ália Smith", "Ben Jones"]
    back = list(csv.DictReader(io.StringIO(exports.to_csv(rows).decode("utf-8-sig"))))
    assert back[0]["Mark"] == "20" and back[0]["Marker mark"] == "15" and back[0]["Teacher override"] == "yes"
    assert back[1]["Flags"] == "too_short" and back[1]["Needs review"] == "yes"
    assert all(back[0][c.capitalize()] == "2" for c in CRIT)
    wb = load_workbook(io.BytesIO(exports.to_xlsx(rows, {"Assignment": "Stalin v Trotsky"})))
    ws = wb["Mark book"]
    header = [c.value for c in ws[1]]
    data = [dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert data[0]["Student"] == "Ália Smith" and data[0]["Mark"] == 20 and data[0]["Marker mark"] == 15
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref
    assert wb["About"]["B1"].value == "Stalin v Trotsky"


def test_feedback_docx_and_zip():
    doc = Document(io.BytesIO(exports.feedback_docx(view("Alice Smith"))))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Feedback for Alice Smith" in text and "Mark: 14/25" in text
    assert "Clear focus on the question." in text and "Weigh the factors." in text
    assert doc.tables and doc.tables[0].rows[1].cells[0].text == "Relevance"
    hidden = Document(io.BytesIO(exports.feedback_docx(view("Alice Smith", feedback_only=True))))
    assert "Mark:" not in "\n".join(p.text for p in hidden.paragraphs)
    z = zipfile.ZipFile(io.BytesIO(exports.feedback_zip([view("Alice Smith"), view("Alice Smith"), view("B/ad:name")])))
    assert sorted(z.namelist()) == ["Alice Smith 2.docx", "Alice Smith.docx", "Badname.docx"]
