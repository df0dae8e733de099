"""Sign-in: the first-teacher setup form, teacher password sign-in, student access code."""
from __future__ import annotations

import streamlit as st

from markbook import AuthError, MarkBook
from ui import state


def render(book: MarkBook) -> None:
    st.title("Essay marker")
    msg = st.session_state.pop("signin_message", None)
    if msg:
        st.info(msg)
    if book.teacher_count() == 0:
        first_teacher_form(book)
        return
    teacher_tab, student_tab = st.tabs(["Teacher", "Student"])
    with teacher_tab:
        with st.form("teacher_signin"):
            email = st.text_input("Email", key="signin_email")
            password = st.text_input("Password", type="password", key="signin_password")
            if st.form_submit_button("Sign in", type="primary"):
                try:
                    user, token = book.sign_in_teacher(email, password)
                except AuthError as exc:
                    st.error(str(exc))
                else:
                    state.start_session(user, token)
                    st.rerun()
    with student_tab:
        with st.form("student_signin"):
            code = st.text_input("Access code from your teacher", key="signin_code", placeholder="ABCD-EFGH")
            if st.form_submit_button("Enter", type="primary"):
                try:
                    user, token = book.sign_in_student(code)
                except AuthError as exc:
                    st.error(str(exc))
                else:
                    state.start_session(user, token)
                    st.rerun()


def first_teacher_form(book: MarkBook) -> None:
    st.subheader("Create the first teacher account")
    st.caption("No teacher account exists yet. The first one is created here; more can be added with "
               "`essay-marker user add`.")
    with st.form("first_teacher"):
        name = st.text_input("Your name", key="setup_name")
        email = st.text_input("Email", key="setup_email")
        pw = st.text_input("Password (at least 8 characters)", type="password", key="setup_password")
        pw2 = st.text_input("Password again", type="password", key="setup_password2")
        if st.form_submit_button("Create account and sign in", type="primary"):
            if pw != pw2:
                st.error("The two passwords differ.")
                return
            try:
                book.create_teacher(name, email, pw, first_run=True)
                user, token = book.sign_in_teacher(email, pw)
            except AuthError as exc:
                st.error(str(exc))
            else:
                state.start_session(user, token)
                st.rerun()
