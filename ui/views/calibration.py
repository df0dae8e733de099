"""Learn from my marks: train a marker on the teacher's own marks, compare it with the
rubric marker (cross-validated), and switch the assignment to it and back."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from markbook import MarkBook, PermissionDenied, Principal
from markbook.service import CalibrationRefused, CalibrationStatus, LearntModelView
from ui import state

FIGURES = (("qwk", "Agreement (QWK)", "{:.2f}"), ("mae", "Average gap in marks (MAE)", "{:.2f}"),
           ("exact_level", "Same level", "{:.0%}"), ("adjacent_level", "Within one level", "{:.0%}"),
           ("exact_mark", "Same mark", "{:.0%}"))


def render(book: MarkBook, user: Principal) -> None:
    aid = state.selected("assignment_id")
    st.header("Learn from my marks")
    if aid is None:
        st.info("Choose an assignment first.")
        return
    try:
        a = book.get_assignment(user, aid)
        status = book.calibration_status(user, aid)
    except PermissionDenied:
        st.error("That assignment is not in your classes.")
        return
    st.caption(f"{a.title} · rubric {a.rubric_id} v{a.rubric_version}")
    in_use_line(status)
    learn_section(book, user, aid, status)
    if not status.models:
        return
    st.divider()
    models = status.models
    ids = [m.id for m in models]
    by_id = {m.id: m for m in models}
    default = status.active.id if status.active else ids[0]
    if len(models) > 1:
        key = f"cal_model_{aid}"
        if st.session_state.get(key) not in ids:
            st.session_state[key] = default
        mid = st.selectbox("Learnt marker", ids, key=key, format_func=lambda i: _label(by_id[i]))
    else:
        mid = ids[0]
    m = by_id[mid]
    figures(m)
    curve_chart(m)
    switch_section(book, user, aid, m, status)
    if len(models) > 1:
        history(models)


def _label(m: LearntModelView) -> str:
    return (f"#{m.id} · {m.created_at:%d %b %Y %H:%M} · {m.n_essays} essays"
            + (" · in use" if m.active else "") + ("" if m.use_learnt else " · not usable"))


def in_use_line(status: CalibrationStatus) -> None:
    if status.active:
        st.success(f"This assignment uses the learnt marker #{status.active.id} "
                   f"(learnt from {status.active.n_essays} of your marks). Its marks are shown in Review and "
                   "exports; bands, evidence and feedback still come from the rubric.")
        if status.problem:
            st.error("The learnt marker could not mark some essays, so they show the rubric marker's mark: "
                     + status.problem)
    else:
        st.markdown("This assignment uses the **rubric marker**.")
    stale = [m for m in status.models if m.active and not m.current_rubric]
    if stale:
        st.warning(f"The learnt marker #{stale[0].id} was learnt under rubric version {stale[0].rubric_version}; "
                   f"the assignment now uses version {status.rubric_version}, so the rubric marker is used. "
                   "Learn from your marks again to use a learnt marker.")


def learn_section(book: MarkBook, user: Principal, aid: int, status: CalibrationStatus) -> None:
    st.markdown(
        f"**{status.teacher_marked}** essay(s) have your own mark (at least **{status.needed}** needed).  \n"
        "An essay counts when you saved a change to it on the Review page; the mark in your change is taken "
        "as your mark. The app has no separate \"confirm the marker's mark\" button yet, so essays you agreed "
        "with but did not change are not counted.")
    if not status.can_learn:
        st.progress(min(1.0, status.teacher_marked / status.needed),
                    text=f"{status.teacher_marked} of {status.needed} essays marked by you")
    if st.button("Learn from my marks", key="learn_marks", type="primary", disabled=not status.can_learn,
                 help=None if status.can_learn else f"Give your mark to at least {status.needed} essays first"):
        with st.spinner("Learning from your marks (cross-validating against the rubric marker)..."):
            try:
                m = book.learn_from_marks(user, aid)
            except CalibrationRefused as exc:
                st.error(str(exc))
                return
        st.session_state[f"cal_model_{aid}"] = m.id
        st.session_state["flash"] = (f"Learnt marker #{m.id} trained on {m.n_essays} of your marks. "
                                     + ("It agrees with you better than the rubric marker; you can switch to it."
                                        if m.use_learnt else "It will not be used: " + m.reason))
        st.rerun()


def figures(m: LearntModelView) -> None:
    r = m.report
    st.subheader(f"Learnt marker #{m.id}: how well it agrees with you")
    st.caption(f"Learnt on {m.created_at:%d %b %Y %H:%M}{' by ' + m.created_by if m.created_by else ''} from "
               f"{m.n_essays} essays with your mark, rubric v{m.rubric_version}. Figures are "
               f"{r.get('folds', '?')}-fold cross-validated: each essay is marked by a model that never saw "
               "your mark for it.")
    rows = []
    for name, key in (("Learnt marker", "learnt"), ("Rubric marker", "rubric_only")):
        agree = r.get(key)
        row = {"Marker": name}
        for fid, label, fmt in FIGURES:
            row[label] = fmt.format(agree[fid]) if agree and agree.get(fid) is not None else "n/a"
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=f"cal_figures_{m.id}")
    learnt, rub = r.get("learnt") or {}, r.get("rubric_only") or {}
    c1, c2 = st.columns(2)
    if learnt:
        c1.metric("QWK, learnt marker", f"{learnt['qwk']:.2f}",
                  delta=f"{learnt['qwk'] - rub['qwk']:+.2f} vs rubric" if rub else None)
    if rub:
        c2.metric("QWK, rubric marker", f"{rub['qwk']:.2f}")
    st.caption("QWK: 1 = the same marks as yours, 0 = no better than chance. MAE: the average number of marks "
               "between the marker's mark and yours. The rubric marker's figures are measured on the essays you "
               "chose to change, so they can look worse than on the essays you left alone.")


def curve_chart(m: LearntModelView) -> None:
    curve = m.report.get("curve") or []
    if not curve:
        return
    st.markdown("**Learning curve**: agreement with you against the number of your marked essays the model "
                "learnt from (the flat line is the rubric marker).")
    df = pd.DataFrame([{"Essays learnt from": c["n"], "QWK": c["learnt"]["qwk"], "MAE": c["learnt"]["mae"],
                        "Same level": c["learnt"]["exact_level"]} for c in curve])
    line = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("Essays learnt from:Q", scale=alt.Scale(zero=False)),
        y=alt.Y("QWK:Q", scale=alt.Scale(domain=[min(0.0, float(df["QWK"].min())), 1.0])),
        tooltip=["Essays learnt from", alt.Tooltip("QWK:Q", format=".2f"), alt.Tooltip("MAE:Q", format=".2f"),
                 alt.Tooltip("Same level:Q", format=".0%")])
    rub = m.report.get("rubric_only")
    chart = line
    if rub:
        rule = alt.Chart(pd.DataFrame([{"QWK": rub["qwk"], "Marker": "rubric marker"}])).mark_rule(
            strokeDash=[4, 4], color="gray").encode(y="QWK:Q", tooltip=["Marker", alt.Tooltip("QWK:Q", format=".2f")])
        chart = line + rule
    st.altair_chart(chart, width="stretch")
    st.caption("The curve still rising at the right means more of your marks would likely help.")


def switch_section(book: MarkBook, user: Principal, aid: int, m: LearntModelView, status: CalibrationStatus) -> None:
    if not m.use_learnt:
        st.warning(f"This learnt marker will not be used: {m.reason}. The rubric marker stays in use; "
                   "give your mark to more essays and learn again.")
        return
    st.info(f"Why it can be used: {m.reason}.")
    if not m.current_rubric:
        st.warning(f"It was learnt under rubric version {m.rubric_version}; the assignment now uses "
                   f"{status.rubric_version}. Learn again to use a learnt marker.")
        return
    if m.active:
        if st.button("Go back to the rubric marker", key="use_rubric"):
            book.use_rubric_marker(user, aid)
            st.session_state["flash"] = "Now using the rubric marker. The learnt marker's results are kept."
            st.rerun()
    else:
        if st.button(f"Use learnt marker #{m.id} for this assignment", key="use_learnt", type="primary"):
            try:
                n = book.use_learnt_marker(user, aid, m.id)
            except CalibrationRefused as exc:
                st.error(str(exc))
                return
            st.session_state["flash"] = (f"Now using learnt marker #{m.id} ({n} essay(s) given its mark). "
                                         "Your own marks still take precedence. You can switch back at any time.")
            st.rerun()


def history(models: list[LearntModelView]) -> None:
    with st.expander(f"All learnt markers ({len(models)})"):
        st.dataframe(pd.DataFrame([{
            "#": m.id, "Learnt": m.created_at, "By": m.created_by, "Essays": m.n_essays,
            "Rubric version": m.rubric_version,
            "QWK learnt": (m.report.get("learnt") or {}).get("qwk"),
            "QWK rubric": (m.report.get("rubric_only") or {}).get("qwk"),
            "Usable": m.use_learnt, "In use": m.active,
        } for m in models]), hide_index=True, width="stretch")
