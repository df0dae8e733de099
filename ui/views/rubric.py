"""Rubric view: levels, criteria bands and content points, readable."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from markbook.engine import marker
from markbook import MarkBook, Principal
from markbook.results import shipped_rubric_yaml
from marker.rubric import rubrics_dir
from ui import state

EXAMPLE = rubrics_dir() / "examples" / "weimar_1933.yaml"


def render(book: MarkBook, user: Principal) -> None:
    st.header("Rubrics")
    aid = state.selected("assignment_id")
    choices = (["The selected assignment's rubric"] if aid is not None else []) + marker.list_rubrics()
    pick = st.selectbox("Rubric", choices, key="rubric_pick")
    try:
        if pick.startswith("The selected"):
            rub, text = book.assignment_rubric(user, aid), book.assignment_rubric_yaml(user, aid)
        else:
            rub, text = marker.load_rubric(pick), shipped_rubric_yaml(pick)
    except marker.RubricError as exc:
        st.error(str(exc))
        return
    show(rub)
    left, right = st.columns(2)
    left.download_button("Download this rubric (YAML)", text, file_name=f"{rub.id}.yaml", mime="application/yaml",
                         key="rubric_download", help="A starting point for a rubric on a new question.")
    if EXAMPLE.is_file():
        right.download_button("Download a small example rubric (YAML)", EXAMPLE.read_text(encoding="utf-8"),
                              file_name=EXAMPLE.name, mime="application/yaml", key="rubric_example_download",
                              help="Four content points on another question: the format at a glance.")
    new_question()


def new_question() -> None:
    """Check a rubric file for a new question and try it on an essay before using it in an assignment."""
    st.markdown("#### A rubric for a new question")
    st.caption("Edit a downloaded rubric (the README's rubric format lists every field), then check it here: "
               "problems are listed with the field they are in. Try it on an essay before you create an "
               "assignment with it.")
    up = st.file_uploader("Rubric to check (YAML)", type=["yaml", "yml"], key="rubric_check_file")
    if up is None:
        return
    try:
        rub = marker.parse_rubric(up.getvalue().decode("utf-8", "replace"), source=up.name)
    except marker.RubricError as exc:
        st.error(str(exc))
        return
    st.success(f"{up.name}: valid. {len(rub.levels)} levels, {len(rub.criteria)} criteria, "
               f"{len(rub.themes)} themes, {len(rub.points)} content points.")
    essay = st.text_area("Try it on an essay", key="rubric_try_text", height=200)
    if st.button("Mark with this rubric", key="rubric_try") and essay.strip():
        try:
            result = marker.mark(essay, rub, essay="trial")
        except Exception as exc:  # a rubric that validates but cannot mark: say so, keep the page
            st.error(f"{up.name} could not mark this essay: {type(exc).__name__}: {exc}")
            return
        st.markdown(f"**{result.mark}/{result.max_mark}, level {result.level}**"
                    + (f" · flags: {', '.join(result.flags)}" if result.flags else ""))
        st.markdown("Bands: " + ", ".join(f"{c.id} {c.band}" for c in result.criteria))
        found = [p.id for p in result.points if p.found]
        st.markdown("Content points found: " + (", ".join(found) if found else "none"))
        for target in result.feedback["targets"]:
            st.markdown(f"- {target}")
    if st.toggle("Show the whole rubric", key="rubric_check_show"):
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
