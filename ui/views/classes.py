"""Classes, students, access codes and assignments."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from markbook.engine import marker
from markbook import MarkBook, Principal
from markbook.exports import to_csv
from ui import state


def render(book: MarkBook, user: Principal) -> None:
    st.header("Classes and assignments")
    with st.expander("New class", expanded=not book.list_classes(user)):
        with st.form("new_class", clear_on_submit=True):
            name = st.text_input("Class name", key="new_class_name", placeholder="e.g. 12B History")
            if st.form_submit_button("Create class"):
                try:
                    cid = book.create_class(user, name)
                except ValueError as exc:
                    st.error(str(exc))
                else:
                    st.session_state["_select_class"] = cid
                    st.rerun()
    cid = state.selected("class_id")
    if cid is None:
        st.info("Create a class to start.")
        return
    students_section(book, user, cid)
    st.divider()
    assignments_section(book, user, cid)


def students_section(book: MarkBook, user: Principal, cid: int) -> None:
    students = book.list_students(user, cid)
    st.subheader(f"Students ({len(students)})")
    st.caption("Students are also added automatically from the file names of uploaded essays "
               "(alice_smith.docx becomes Alice Smith) or from a CSV's student column.")
    if students:
        st.dataframe(pd.DataFrame([{"Student": s.name, "Access code issued": "yes" if s.has_code else "",
                                    "Essays": s.submissions} for s in students]),
                     hide_index=True, width="stretch")
    with st.form("add_students", clear_on_submit=True):
        names = st.text_area("Add students (one name per line)", key="add_students_names")
        if st.form_submit_button("Add students"):
            added = book.add_students(user, cid, [n for n in names.splitlines() if n.strip()])
            st.success(f"Added {len(added)} student(s).") if added else st.info("Nobody new to add.")
            st.rerun()
    c1, c2 = st.columns(2)
    if c1.button("Issue access codes to students without one", key="issue_codes", disabled=not students):
        st.session_state["last_codes"] = book.issue_access_codes(user, cid, only_missing=True)
    if c2.button("Re-issue all codes (old codes stop working)", key="reissue_codes", disabled=not students):
        st.session_state["last_codes"] = book.issue_access_codes(user, cid)
    codes = st.session_state.get("last_codes")
    if codes is not None:
        if codes:
            st.warning("Copy or download these codes now: they are stored only as hashes and cannot be shown again.")
            rows = [{"Student": n, "Access code": c} for n, c in sorted(codes.items())]
            st.dataframe(pd.DataFrame(rows), hide_index=True)
            st.download_button("Download codes (CSV)", to_csv(rows), "access-codes.csv", "text/csv", key="dl_codes")
        else:
            st.info("Every student already has a code.")
        if st.button("I have saved the codes", key="codes_saved"):
            st.session_state.pop("last_codes", None)
            st.rerun()


def assignments_section(book: MarkBook, user: Principal, cid: int) -> None:
    st.subheader("Assignments")
    for a in book.list_assignments(user, cid):
        cols = st.columns([5, 2, 1])
        cols[0].markdown(f"**{a.title}**  \nrubric `{a.rubric_id}` v{a.rubric_version}"
                         + (" · feedback only" if a.feedback_only else ""))
        cols[1].caption(f"{a.submissions} essays, {a.pending} waiting")
        if cols[2].button("Open", key=f"open_assignment_{a.id}"):
            st.session_state["_select_assignment"] = a.id
            st.session_state["_nav"] = "Mark a class set"
            st.rerun()
    with st.expander("New assignment", expanded=not book.list_assignments(user, cid)):
        new_assignment_form(book, user, cid)
    aid = state.selected("assignment_id")
    if aid is not None:
        with st.expander("Settings of the selected assignment"):
            assignment_settings(book, user, aid)


def new_assignment_form(book: MarkBook, user: Principal, cid: int) -> None:
    shipped = marker.list_rubrics()
    with st.form("new_assignment"):
        title = st.text_input("Title", key="new_assignment_title", placeholder="e.g. Stalin v Trotsky essay")
        source = st.radio("Rubric", ["A shipped rubric", "Upload a rubric (YAML)"], key="new_assignment_source",
                          horizontal=True)
        rubric_id = st.selectbox("Shipped rubric", shipped, key="new_assignment_rubric")
        up = st.file_uploader("Rubric YAML", type=["yaml", "yml"], key="new_assignment_yaml")
        feedback_only = st.checkbox("Feedback only (students see feedback but no mark or level)",
                                    key="new_assignment_feedback_only")
        if st.form_submit_button("Create assignment"):
            try:
                if source.startswith("Upload"):
                    if up is None:
                        st.error("Choose a YAML file to upload.")
                        return
                    aid = book.create_assignment(user, cid, title, rubric_yaml=up.getvalue().decode("utf-8", "replace"),
                                                 feedback_only=feedback_only)
                else:
                    aid = book.create_assignment(user, cid, title, rubric_id=rubric_id, feedback_only=feedback_only)
            except marker.RubricError as exc:
                st.error("This rubric cannot be used:")
                st.code(str(exc), language=None)
            except ValueError as exc:
                st.error(str(exc))
            else:
                st.session_state["_select_assignment"] = aid
                st.session_state["_nav"] = "Mark a class set"
                st.rerun()


def assignment_settings(book: MarkBook, user: Principal, aid: int) -> None:
    a = book.get_assignment(user, aid)
    fo = st.toggle("Feedback only for students", value=a.feedback_only, key=f"fo_{aid}")
    if fo != a.feedback_only:
        book.set_feedback_only(user, aid, fo)
        st.rerun()
    st.markdown("**Mark again with a new rubric version.** Earlier results are kept; the newest is shown.")
    c1, c2 = st.columns(2)
    with c1:
        rid = st.selectbox("Shipped rubric", marker.list_rubrics(), key=f"remark_rubric_{aid}")
        if st.button("Use this rubric", key=f"remark_use_{aid}"):
            _switch(book, user, aid, rubric_id=rid)
    with c2:
        up = st.file_uploader("or upload YAML", type=["yaml", "yml"], key=f"remark_yaml_{aid}")
        if up is not None and st.button("Use uploaded rubric", key=f"remark_upload_{aid}"):
            _switch(book, user, aid, rubric_yaml=up.getvalue().decode("utf-8", "replace"))


def _switch(book: MarkBook, user: Principal, aid: int, **kw) -> None:
    try:
        v = book.set_rubric(user, aid, **kw)
    except marker.RubricError as exc:
        st.error("This rubric cannot be used:")
        st.code(str(exc), language=None)
        return
    n = len(book.pending_ids(user, aid))
    st.success(f"Now using rubric version {v}. {n} essay(s) to mark again on the 'Mark a class set' page.")
