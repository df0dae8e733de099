"""Session and sign-in glue between Streamlit and ``markbook``.

The session token lives in ``st.session_state["token"]``; every script run calls
``current_user`` which checks it against the database (expiry slides with use).
Selected class / assignment / essay ids also live in session state, but every
view passes them to ``MarkBook`` together with the signed-in user, which refuses
ids that are not theirs, so editing session state opens nothing.
"""
from __future__ import annotations

import os
import threading
import time

import streamlit as st

from markbook import AuthError, MarkBook, Principal, open_db, resolve_url

TOKEN = "token"


@st.cache_resource(show_spinner=False)
def _book_for(url: str) -> MarkBook:
    threading.Thread(target=_warm_up_engine, name="warm-up", daemon=True).start()
    return MarkBook(open_db(url))


def _warm_up_engine() -> None:
    """Mark a one-line essay in the background once per server process, so the
    engine's models are loaded before the first class set arrives."""
    time.sleep(1.0)  # let the first page render before the engine loads
    try:
        import marker

        ids = marker.list_rubrics()
        if ids:
            marker.mark("Stalin defeated Trotsky because he controlled the party.", marker.load_rubric(ids[0]),
                        essay="warm-up")
    except Exception:  # warming up is only an optimisation
        pass


def get_book() -> MarkBook:
    """The MarkBook for $ESSAY_MARKER_DB (migrated once per process)."""
    return _book_for(resolve_url(os.environ.get("ESSAY_MARKER_DB")))


def current_user(book: MarkBook) -> Principal | None:
    token = st.session_state.get(TOKEN)
    if not token:
        return None
    try:
        return book.resume_session(token)
    except AuthError as exc:
        clear_session()
        st.session_state["signin_message"] = str(exc)
        return None


def start_session(user: Principal, token: str) -> None:
    clear_session()
    st.session_state[TOKEN] = token
    st.session_state["user_kind"] = user.kind


def sign_out(book: MarkBook) -> None:
    book.sign_out(st.session_state.get(TOKEN))
    clear_session()


def clear_session() -> None:
    for k in list(st.session_state.keys()):
        if k != "signin_message":
            del st.session_state[k]


def selected(key: str) -> int | None:
    v = st.session_state.get(key)
    return int(v) if v is not None else None


def select(key: str, value: int | None) -> None:
    st.session_state[key] = value
