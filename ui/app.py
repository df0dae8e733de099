"""essay-marker's Streamlit app: ``streamlit run ui/app.py`` (or ``essay-marker serve``).

This file only routes: sign-in, then the teacher's pages or the student's screen.
The database comes from $ESSAY_MARKER_DB (a path or SQLAlchemy URL).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` puts only ui/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from markbook import PermissionDenied  # noqa: E402
from ui import state  # noqa: E402
from ui.views import (  # noqa: E402
    activity, analytics, calibration, classes, export, review, rubric, signin, student, upload,
)

PAGES = {
    "Classes and assignments": classes.render,
    "Mark a class set": upload.render,
    "Review": review.render,
    "Class view": analytics.render,
    "Learn from my marks": calibration.render,
    "Export": export.render,
    "Rubrics": rubric.render,
    "Activity": activity.render,
}


def teacher_app(book, user) -> None:
    # Selections requested by a view in the previous run (a widget's value can only
    # be set before the widget is drawn).
    for pending, key in (("_select_class", "pick_class"), ("_select_assignment", "pick_assignment"),
                         ("_nav", "nav")):
        if pending in st.session_state:
            st.session_state[key] = st.session_state.pop(pending)
            if key == "pick_assignment":  # opening an assignment also selects its class
                try:
                    st.session_state["pick_class"] = book.get_assignment(user, st.session_state[key]).class_id
                except PermissionDenied:
                    st.session_state[key] = None

    with st.sidebar:
        st.markdown(f"Signed in as **{user.name}**")
        if st.button("Sign out", key="sign_out"):
            state.sign_out(book)
            st.rerun()
        classes_ = book.list_classes(user)
        ids = [c.id for c in classes_]
        if st.session_state.get("pick_class") not in ids:
            st.session_state["pick_class"] = ids[0] if ids else None
        names = {c.id: c.name for c in classes_}
        cid = st.selectbox("Class", ids, format_func=lambda i: names[i], key="pick_class")
        state.select("class_id", cid)
        assignments = book.list_assignments(user, cid) if cid is not None else []
        aids = [a.id for a in assignments]
        if st.session_state.get("pick_assignment") not in aids:
            st.session_state["pick_assignment"] = aids[0] if aids else None
        titles = {a.id: a.title for a in assignments}
        aid = st.selectbox("Assignment", aids, format_func=lambda i: titles[i], key="pick_assignment")
        if aid != state.selected("assignment_id"):
            state.select("submission_id", None)
        state.select("assignment_id", aid)
        page = st.radio("Go to", list(PAGES), key="nav")
    flash = st.session_state.pop("flash", None)
    if flash:
        st.success(flash)
    PAGES[page](book, user)


def main() -> None:
    st.set_page_config(page_title="Essay marker", page_icon="📝", layout="wide")
    book = state.get_book()
    user = state.current_user(book)
    if user is None:
        signin.render(book)
        return
    if user.kind == "teacher":
        teacher_app(book, user)
    else:
        with st.sidebar:
            if st.button("Sign out", key="sign_out"):
                state.sign_out(book)
                st.rerun()
        student.render(book, user)


main()
