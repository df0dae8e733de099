"""The teacher's own audit log."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from markbook import MarkBook, Principal


def render(book: MarkBook, user: Principal) -> None:
    st.header("Activity")
    log = book.audit_log(user)
    if not log:
        st.caption("Nothing yet.")
        return
    st.dataframe(pd.DataFrame([{**e, "detail": str(e["detail"])} for e in log]), hide_index=True, width="stretch")
