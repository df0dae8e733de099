"""Rubric view: levels, criteria bands and content points, readable."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from markbook.engine import marker
from markbook import MarkBook, Principal
from ui import state


def render(book: MarkBook, user: Principal) -> None:
    st.header("Rubrics")
    aid = state.selected("assignment_id")
    choices = (["The selected assignment's rubric"] if aid is not None else []) + marker.list_rubrics()
    pick = st.selectbox("Rubric", choices, key="rubric_pick")
    try:
        rub = book.assignment_rubric(user, aid) if pick.startswith("The selected") else marker.load_rubric(pick)
    except marker.RubricError as exc:
        st.error(str(exc))
        return
    show(rub)


def show(rub) -> None:
    st.subheader(rub.title)
    st.caption(f"{rub.id} · version {rub.version} · out of {rub.max_mark}")
    st.markdown(f"> {rub.question}")
    st.markdown("#### Levels")
    st.dataframe(pd.DataFrame([{"Level": lv.level, "Marks": f"{lv.min}-{lv.max}", "Descriptor": lv.descriptor}
                               for lv in sorted(rub.levels, key=lambda lv: -lv.level)]),
                 hide_index=True, width="stretch")
    st.markdown("#### Criteria (bands 0-4)")
    for c in rub.criteria:
        with st.expander(c.name):
            if c.question:
                st.caption(c.question)
            st.dataframe(pd.DataFrame([{"Band": b, "What it means": c.bands[b], "Student is told": c.feedback[b]}
                                       for b in sorted(c.bands, reverse=True)]), hide_index=True, width="stretch")
    st.markdown("#### Content points")
    for t in rub.themes:
        with st.expander(f"{t.id}. {t.label} ({len(t.points)})"):
            for p in t.points:
                st.markdown(f"**{p.id} {p.label}**" + (" · luck" if p.luck else ""))
                if p.why:
                    st.caption(p.why)
                if p.examples:
                    st.markdown("Example: *" + p.examples[0] + "*")
                st.markdown(f"If missing: {p.feedback_missing}")
