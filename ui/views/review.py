"""Review: the results table (needs-review first), one essay with its evidence
highlighted, the marker's reasons, and the teacher's override form."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from markbook import MarkBook, PermissionDenied, Principal
from markbook.service import CRITERIA, SubmissionView
from ui import highlight, state


def render(book: MarkBook, user: Principal) -> None:
    aid = state.selected("assignment_id")
    if aid is None:
        st.header("Review")
        st.info("Choose an assignment first.")
        return
    a = book.get_assignment(user, aid)
    st.header(f"Review: {a.title}")
    rows = book.results_table(user, aid, include_drafts=st.session_state.get("f_drafts", False))
    if not rows:
        st.info("No essays yet. Upload a class set on 'Mark a class set'.")
        return
    rubric = book.assignment_rubric(user, aid)
    names = {c.id: c.name for c in rubric.criteria}
    learnt_note(rows)
    shown = filtered(rows)
    table(shown, names)
    similar_section(book, user, aid)

    st.divider()
    options = [r["submission_id"] for r in rows]
    labels = {r["submission_id"]: f"{r['student']} · {r['mark'] if r['mark'] is not None else '-'}"
                                  f"{' · needs review' if r['needs_review'] else ''}" for r in rows}

    def on_pick() -> None:
        state.select("submission_id", st.session_state["open_submission"])

    st.selectbox("Open an essay", options, format_func=lambda i: labels.get(i, str(i)), key="open_submission",
                 on_change=on_pick, index=None, placeholder="Choose a student")
    sid = state.selected("submission_id")
    if sid is None:
        return
    try:
        view = book.submission_detail(user, sid)
    except PermissionDenied:
        st.error("That essay is not in your classes.")
        return
    if view.assignment_id != aid:
        st.warning("That essay belongs to another assignment; choose it in the sidebar.")
        return
    essay_detail(book, user, view, rubric)


def learnt_note(rows: list[dict]) -> None:
    n = sum(1 for r in rows if (r.get("model") or "").startswith("learnt:"))
    if n:
        st.info(f"Marks come from the learnt marker (learnt from your own marks) for {n} essay(s); bands, evidence "
                "and feedback are the rubric marker's. Switch back on 'Learn from my marks'.")


def filtered(rows: list[dict]) -> list[dict]:
    c1, c2, c3, c4 = st.columns([1.2, 2, 2, 2])
    only_review = c1.checkbox("Needs review only", key="f_review")
    c1.checkbox("Include students' own drafts", key="f_drafts",
                help="Show each student's latest essay, including drafts they sent for feedback")
    all_flags = sorted({f.strip() for r in rows for f in r["flags"].split(",") if f.strip()})
    flags = c2.multiselect("Flags", all_flags, key="f_flags")
    levels = c3.multiselect("Level", sorted({r["level"] for r in rows if r["level"] is not None}), key="f_levels")
    search = c4.text_input("Student", key="f_search", placeholder="search names")
    out = []
    for r in rows:
        if only_review and not r["needs_review"]:
            continue
        if flags and not set(flags) & {f.strip() for f in r["flags"].split(",")}:
            continue
        if levels and r["level"] not in levels:
            continue
        if search and search.lower() not in r["student"].lower():
            continue
        out.append(r)
    return out


def table(rows: list[dict], names: dict[str, str]) -> None:
    learnt = any((r.get("model") or "").startswith("learnt:") for r in rows)
    df = pd.DataFrame([{
        "Student": r["student"], "Mark": r["mark"], "Level": r["level"],
        "Marker": r["marker_mark"] if r["overridden"] else None, "Overridden": r["overridden"],
        **({"Rubric marker": r.get("rubric_mark")} if learnt else {}),
        **{c.capitalize(): r[c] for c in CRITERIA},
        "Flags": r["flags"], "Needs review": r["needs_review"], "Confidence": r["confidence"],
        "Similar to": r["similar_to"], "Status": r["status"] if not r["error"] else f"{r['status']}: {r['error']}",
    } for r in rows])
    n_review = sum(r["needs_review"] for r in rows)
    st.caption(f"{len(rows)} student(s), {n_review} need review. Click a column header to sort.")
    st.dataframe(df, hide_index=True, width="stretch", key="results_table", column_config={
        "Mark": st.column_config.NumberColumn(help="The teacher's mark where overridden"),
        "Marker": st.column_config.NumberColumn("Marker's mark", help="The marker's original mark, when overridden"),
        "Rubric marker": st.column_config.NumberColumn("Rubric marker's mark",
                                                       help="The rubric marker's mark (the learnt marker is in use)"),
        "Needs review": st.column_config.CheckboxColumn(),
        "Overridden": st.column_config.CheckboxColumn(),
        "Confidence": st.column_config.NumberColumn(format="%.2f"),
        **{c.capitalize(): st.column_config.NumberColumn(help=f"{names.get(c, c)}: band 0-4") for c in CRITERIA},
    })


def similar_section(book: MarkBook, user: Principal, aid: int) -> None:
    pairs = book.similar_pairs(user, aid)
    if pairs:
        with st.expander(f"Similar essays ({len(pairs)} pair(s))", expanded=True):
            st.dataframe(pd.DataFrame([{"Student": p["a"], "And": p["b"], "Shared text": f"{p['overlap']:.0%}"}
                                       for p in pairs]), hide_index=True)


def essay_detail(book: MarkBook, user: Principal, view: SubmissionView, rubric) -> None:
    r = view.result
    st.subheader(f"{view.student_name} · draft {view.draft}")
    st.caption(f"File: {view.source_name}")
    if r is None:
        st.warning(f"Not marked yet ({view.status}{': ' + view.error if view.error else ''}).")
        st.text(view.text)
        return
    data = r.data
    c1, c2, c3 = st.columns(3)
    if r.overridden:
        c1.metric("Teacher's mark", f"{r.mark}/{data['max_mark']}", help="Your override")
        c2.metric("Marker's mark", f"{r.marker_mark}/{data['max_mark']}")
        st.caption(f"Level {r.level} (teacher) · level {r.marker_level} (marker)")
    else:
        c1.metric("Mark", f"{r.mark}/{data['max_mark']}")
        c2.metric("Level", r.level)
    c3.metric("Confidence", f"{data.get('confidence', 0):.2f}")
    if r.model.startswith("learnt:"):
        rub = next((o for o in view.older_results if o["model"] == "rubric" and o["rubric_version"] == r.rubric_version),
                   None)
        st.caption("The marker's mark is the learnt marker's (learnt from your own marks)"
                   + (f"; the rubric marker gave {rub['mark']} (level {rub['level']})." if rub else ".")
                   + " Bands, evidence and feedback are the rubric marker's.")
    if data.get("needs_review") and not r.overridden:
        st.warning("Needs review: " + "; ".join(data.get("review_reasons") or ["the marker is unsure"]))
    for f in data.get("flags", []):
        st.error(f"Flag **{f.replace('_', ' ')}**: {data.get('flag_reasons', {}).get(f, '')}")
    if view.similar:
        names_ = [s["student"] for s in view.similar]
        more = f" and {len(names_) - 5} more" if len(names_) > 5 else ""
        st.warning("Shares much of its text with: " + ", ".join(names_[:5]) + more)

    names = {c.id: c.name for c in rubric.criteria}
    labels = {p.id: p.label for p in rubric.points}
    by = st.radio("Highlight", ["criteria", "content points", "flags"], horizontal=True, key="hl_by")
    if by == "criteria":
        tags, order, key_names = highlight.criterion_tags(data, names), list(CRITERIA), names
    elif by == "content points":
        tags = highlight.point_tags(data, labels)
        order, key_names = sorted({t.key for t in tags}), {k: f"{k} {labels.get(k, '')}" for k in labels}
    else:
        tags = highlight.flag_tags(data)
        order, key_names = sorted({t.key for t in tags}), {t.key: t.label for t in tags}
    theme_index = {p.id: i for i, t in enumerate(rubric.themes) for p in t.points}
    colours = highlight.colours_for(order if by != "criteria" else [c for c in CRITERIA],
                                    "criterion" if by == "criteria" else "point", theme_index)
    left, right = st.columns([3, 2])
    with left:
        st.html(highlight.legend_html({k: colours[k] for k in order if k in colours}, key_names))
        st.html(highlight.essay_html(view.text, tags, colours, order))
    with right:
        st.markdown("**Highlighted passages**")
        spans = highlight.spans_by_key(view.text, tags)
        if not spans:
            st.caption("Nothing highlighted.")
        for k in order:
            if k in spans:
                with st.expander(f"{key_names.get(k, k)} ({len(spans[k])})"):
                    for q in spans[k]:
                        st.markdown(f"- {q}")
        st.markdown("**Marker's reasons**")
        for c in data.get("criteria", []):
            band = r.bands.get(c["id"], c["band"])
            changed = f" (marker: {c['band']})" if band != c["band"] else ""
            with st.expander(f"{names.get(c['id'], c['id'])}: band {band}{changed}"):
                for reason in c.get("reasons", []) or ["(no reasons given)"]:
                    st.markdown(f"- {reason}")
                st.caption(c.get("feedback", ""))
        facts = data.get("factual_errors", [])
        if facts:
            with st.expander(f"Facts to check ({len(facts)})", expanded=True):
                for e in facts:
                    kind = "contested claim stated as fact" if e.get("minor") else "factual error"
                    st.markdown(f"- *\u201c{e.get('text', '')}\u201d* ({kind}): {e.get('correction', '')}")
        missing = [p for p in data.get("points", []) if not p.get("found")]
        if missing:
            with st.expander(f"Content points not found ({len(missing)})"):
                for p in missing:
                    st.markdown(f"- {p['id']}: {labels.get(p['id'], '')}")

    st.markdown("**Feedback**" + (" (edited by the teacher)" if r.overridden and "feedback" in _changed(r) else ""))
    fc1, fc2 = st.columns(2)
    with fc1:
        st.markdown("What went well")
        for s in r.feedback.get("strengths", []):
            st.markdown(f"- {s}")
    with fc2:
        st.markdown("To improve")
        for s in r.feedback.get("targets", []):
            st.markdown(f"- {s}")

    override_form(book, user, view, names)
    if r.overrides:
        with st.expander(f"Change history ({len(r.overrides)})"):
            for o in reversed(r.overrides):
                what = ", ".join(f"{k} {v[0]}→{v[1]}" if k != "feedback" else "feedback text"
                                 for k, v in o["changes"].items())
                st.markdown(f"- {o['at']:%d %b %Y %H:%M} · {o['teacher']}: {what}. *Why:* {o['reason']}")
    if view.older_results:
        with st.expander("Other results (earlier rubric versions, or the other marker)"):
            st.dataframe(pd.DataFrame(view.older_results), hide_index=True)


def _changed(r) -> set[str]:
    return {k for o in r.overrides for k in o["changes"]}


def override_form(book: MarkBook, user: Principal, view: SubmissionView, names: dict[str, str]) -> None:
    r = view.result
    sid = view.id
    with st.expander("Change the mark, bands or feedback", expanded=False):
        with st.form(f"override_{sid}"):
            c1, c2 = st.columns(2)
            mark = c1.number_input("Mark", 0, int(r.data["max_mark"]), int(r.mark), key=f"ov_mark_{sid}")
            level_opts = ["follows the mark"] + list(range(0, 6))
            level = c2.selectbox("Level", level_opts, key=f"ov_level_{sid}")
            bcols = st.columns(len(CRITERIA))
            bands = {}
            for col, cid in zip(bcols, CRITERIA):
                if cid in r.bands:
                    bands[cid] = col.number_input(cid.capitalize(), 0, 4, int(r.bands[cid]), key=f"ov_band_{cid}_{sid}",
                                                  help=names.get(cid, cid))
            strengths = st.text_area("What went well (one per line)", "\n".join(r.feedback.get("strengths", [])),
                                     key=f"ov_strengths_{sid}")
            targets = st.text_area("To improve (one per line)", "\n".join(r.feedback.get("targets", [])),
                                   key=f"ov_targets_{sid}")
            reason = st.text_input("Reason for the change (required)", key=f"ov_reason_{sid}")
            if st.form_submit_button("Save change", type="primary"):
                fb = {"strengths": [s.strip() for s in strengths.splitlines() if s.strip()],
                      "targets": [s.strip() for s in targets.splitlines() if s.strip()]}
                changed_bands = {k: int(v) for k, v in bands.items() if int(v) != r.bands.get(k)}
                try:
                    book.override(user, r.id, reason=reason, mark=int(mark) if int(mark) != r.mark else None,
                                  level=None if level == "follows the mark" else int(level),
                                  bands=changed_bands or None,
                                  feedback=fb if fb != {k: r.feedback.get(k, []) for k in fb} else None)
                except ValueError as exc:
                    st.error(str(exc))
                else:
                    st.session_state["flash"] = "Change saved. The teacher's mark is shown; the marker's stays visible."
                    st.rerun()
