"""Class view: mark distribution, criteria heat map, missed points, themes to reteach."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from markbook import MarkBook, Principal
from ui import state


def render(book: MarkBook, user: Principal) -> None:
    aid = state.selected("assignment_id")
    st.header("Class view")
    if aid is None:
        st.info("Choose an assignment first.")
        return
    an = book.class_analytics(user, aid)
    if not an["n"]:
        st.info("No marked essays yet.")
        return
    marks = pd.Series(an["marks"], dtype="float")
    c = st.columns(4)
    c[0].metric("Essays marked", an["n"])
    c[1].metric("Mean mark", f"{marks.mean():.1f}/{an['max_mark']}")
    c[2].metric("Median", f"{marks.median():.0f}")
    c[3].metric("Flagged", sum(an["flags"].values()))

    left, right = st.columns(2)
    with left:
        st.subheader("Mark distribution")
        counts = pd.Series(an["marks"]).value_counts()
        dist = pd.DataFrame({"Mark": range(an["max_mark"] + 1)})
        dist["Students"] = dist["Mark"].map(counts).fillna(0).astype(int)
        st.altair_chart(alt.Chart(dist).mark_bar().encode(
            x=alt.X("Mark:O", axis=alt.Axis(labelAngle=0)), y=alt.Y("Students:Q", axis=alt.Axis(tickMinStep=1)),
            tooltip=["Mark", "Students"]).properties(height=260), width="stretch")
    with right:
        st.subheader("Levels")
        lv = pd.DataFrame({"Level": [f"L{k}" for k in an["levels"]], "Students": list(an["levels"].values())})
        st.bar_chart(lv, x="Level", y="Students", height=260)

    st.subheader("Criteria heat map")
    names = an["criteria_names"]
    heat = pd.DataFrame([{"Student": s, "Criterion": cid.capitalize(), "Name": names.get(cid, cid), "Band": b}
                         for s, bands in an["heatmap"].items() for cid, b in bands.items() if b is not None])
    if not heat.empty:
        order = [c.capitalize() for c in names]
        base = alt.Chart(heat).encode(
            x=alt.X("Criterion:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, orient="top")),
            y=alt.Y("Student:N", sort="ascending", title=None, axis=alt.Axis(labelLimit=220)))
        rects = base.mark_rect(stroke="white").encode(
            color=alt.Color("Band:Q", scale=alt.Scale(domain=[0, 4], scheme="redyellowgreen"),
                            legend=alt.Legend(title="Band")),
            tooltip=["Student", "Name", "Band"])
        st.altair_chart((rects + base.mark_text(fontSize=12).encode(text="Band:Q"))
                        .properties(height=alt.Step(26)), width="stretch")
        means = heat.groupby("Criterion")["Band"].mean().reindex(order).round(1)
        st.caption("Class average band: " + " · ".join(f"{k} {v}" for k, v in means.items()))

    left, right = st.columns(2)
    with left:
        st.subheader("Content points most often missed")
        mp = pd.DataFrame(an["missed_points"][:12])
        if mp.empty:
            st.caption("Every point was found in every essay.")
        else:
            mp["Point"] = mp["point"] + " " + mp["label"]
            mp["Missed by"] = (mp["share"] * 100).round(0)
            st.altair_chart(alt.Chart(mp).mark_bar().encode(
                x=alt.X("Missed by:Q", title="% of students who missed it", scale=alt.Scale(domain=[0, 100])),
                y=alt.Y("Point:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
                tooltip=["Point", "missed"]), width="stretch")
    with right:
        st.subheader("Themes to reteach")
        st.caption("The targets given most often")
        tg = pd.DataFrame(an["targets"])
        if tg.empty:
            st.caption("No targets.")
        else:
            st.dataframe(tg.rename(columns={"target": "Target", "students": "Students"}), hide_index=True,
                         width="stretch", column_config={"Students": st.column_config.ProgressColumn(
                             min_value=0, max_value=an["n"], format="%d")})
    if an["flags"]:
        st.subheader("Flags")
        st.bar_chart(pd.DataFrame({"Flag": list(an["flags"]), "Essays": list(an["flags"].values())}),
                     x="Flag", y="Essays", height=220)
