"""Mark a class set: upload files (or paste an essay), then watch the marking.

``save_uploads`` is the testable core: (file name, bytes) pairs in, an upload
report out. The widgets only collect the files and show the report.
"""
from __future__ import annotations

import time
from typing import Sequence

import pandas as pd
import streamlit as st

from markbook import MarkBook, Principal
from markbook.service import UploadReport
from ui import jobs, state

FILE_TYPES = ["txt", "docx", "pdf", "odt", "zip", "csv"]


def save_uploads(book: MarkBook, user: Principal, assignment_id: int,
                 files: Sequence[tuple[str, bytes]]) -> UploadReport:
    """Store uploaded files as pending submissions (failures listed, the rest kept)."""
    return book.ingest_uploads(user, assignment_id, list(files))


def render(book: MarkBook, user: Principal) -> None:
    aid = state.selected("assignment_id")
    if aid is None:
        st.header("Mark a class set")
        st.info("Choose or create an assignment first (Classes and assignments).")
        return
    a = book.get_assignment(user, aid)
    st.header(f"Mark a class set: {a.title}")
    st.caption(f"{a.class_name} · rubric {a.rubric_id} v{a.rubric_version} · {a.submissions} essays so far")

    with st.form("upload_form", clear_on_submit=True):
        files = st.file_uploader("Essays: txt, docx, pdf, odt, a zip of those, or a CSV with columns student,essay",
                                 type=FILE_TYPES, accept_multiple_files=True, key="upload_files")
        if st.form_submit_button("Upload and mark", type="primary"):
            if not files:
                st.warning("Choose some files first.")
            else:
                report = save_uploads(book, user, aid, [(f.name, f.getvalue()) for f in files])
                st.session_state["last_upload"] = report
                jobs.start(book, user, aid)

    with st.expander("Or paste one essay"):
        with st.form("paste_form", clear_on_submit=True):
            student = st.text_input("Student name", key="paste_student")
            text = st.text_area("Essay text", height=220, key="paste_text")
            if st.form_submit_button("Add and mark"):
                if not student.strip() or not text.strip():
                    st.warning("Give the student's name and the essay.")
                else:
                    report = book.add_submissions(user, aid, [(student.strip(), text, "pasted")])
                    st.session_state["last_upload"] = report
                    jobs.start(book, user, aid)

    report = st.session_state.get("last_upload")
    if report is not None:
        show_upload_report(report)

    job = jobs.get(book, aid)
    if job is not None:
        watch(job)
    pending = book.pending_ids(user, aid, retry_failed=True)
    if pending and (job is None or not job.running):
        st.info(f"{len(pending)} essay(s) are waiting to be marked (or failed before).")
        if st.button("Mark them now", key="mark_pending"):
            jobs.start(book, user, aid, retry_failed=True)
            st.rerun()


def show_upload_report(report: UploadReport) -> None:
    if report.added:
        st.success(f"Saved {len(report.added)} essay(s)"
                   + (f"; new students: {', '.join(report.new_students)}" if report.new_students else "") + ".")
    if report.failures:
        st.error(f"{len(report.failures)} file(s) could not be read; the others were saved:")
        st.dataframe(pd.DataFrame(report.failures, columns=["File", "Reason"]), hide_index=True, width="stretch")
    if report.skipped:
        st.warning(f"{len(report.skipped)} file(s) skipped:")
        st.dataframe(pd.DataFrame(report.skipped, columns=["File", "Why"]), hide_index=True, width="stretch")


def watch(job: jobs.MarkJob) -> None:
    """Show the run's progress until it ends (the marking itself is in its own thread)."""
    bar = st.progress(0.0, text="Marking...")
    while job.running:
        frac = job.done / job.total if job.total else 0.0
        bar.progress(min(1.0, frac), text=f"Marking {job.done}/{job.total}: {job.current}")
        time.sleep(0.1)
    bar.progress(1.0, text="Marking finished")
    if job.error:
        st.error(f"Marking stopped: {job.error}. The essays not yet marked are kept; try 'Mark them now'.")
    elif job.report is not None:
        r = job.report
        secs = (job.finished or time.monotonic()) - job.started
        st.success(f"Marked {r.marked} essay(s) in {secs:.1f} s. Open 'Review' to check them.")
        if r.failures:
            st.error("Some essays could not be marked:")
            st.dataframe(pd.DataFrame(r.failures, columns=["Student", "Reason"]), hide_index=True)
        if r.similar_pairs:
            st.warning(f"{len(r.similar_pairs)} pair(s) of essays share much of their text: see 'Review'.")
