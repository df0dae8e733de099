"""Exports: the mark book (CSV, XLSX) and per-student feedback (DOCX, zipped)."""
from __future__ import annotations

import re

import streamlit as st

from markbook import MarkBook, Principal
from markbook import exports
from ui import state


def export_files(book: MarkBook, user: Principal, aid: int) -> dict[str, bytes]:
    """The mark book as CSV and XLSX bytes (what the download buttons serve)."""
    a = book.get_assignment(user, aid)
    rows = book.markbook_rows(user, aid)
    info = {"Class": a.class_name, "Assignment": a.title, "Question": a.question,
            "Rubric": f"{a.rubric_id} version {a.rubric_version}"}
    return {"csv": exports.to_csv(rows), "xlsx": exports.to_xlsx(rows, info)}


def feedback_zip(book: MarkBook, user: Principal, aid: int) -> bytes:
    return exports.feedback_zip(book.feedback_views(user, aid), book.assignment_rubric(user, aid))


def render(book: MarkBook, user: Principal) -> None:
    aid = state.selected("assignment_id")
    st.header("Export")
    if aid is None:
        st.info("Choose an assignment first.")
        return
    a = book.get_assignment(user, aid)
    base = re.sub(r"[^\w\-]+", "-", f"{a.class_name}-{a.title}").strip("-").lower() or "markbook"
    files = export_files(book, user, aid)
    st.markdown("The mark book has the teacher's mark where you changed it, and the marker's original mark in "
                "its own column, with flags and the seven criterion bands.")
    c1, c2, c3 = st.columns(3)
    c1.download_button("Mark book (CSV)", files["csv"], f"{base}.csv", "text/csv", key="dl_csv", type="primary")
    c2.download_button("Mark book (Excel)", files["xlsx"], f"{base}.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx")
    c3.download_button("Feedback for every student (Word, zipped)", lambda: feedback_zip(book, user, aid),
                       f"{base}-feedback.zip", "application/zip", key="dl_docx")
