"""The student's screen: pick an assignment, paste or upload a draft, get feedback,
and see what improved since the previous draft."""
from __future__ import annotations

import streamlit as st

from markbook.engine import marker
from markbook import MarkBook, PermissionDenied, Principal
from markbook.service import CRITERIA, SubmissionView
from ui import highlight, state


def render(book: MarkBook, user: Principal) -> None:
    st.title(f"Hello, {user.name}")
    assignments = book.student_assignments(user)
    if not assignments:
        st.info("Your teacher has not set an essay yet.")
        return
    by_id = {a.id: a for a in assignments}
    aid = st.selectbox("Essay", list(by_id), format_func=lambda i: by_id[i].title, key="student_assignment")
    a = by_id[aid]
    st.markdown(f"**Question:** {a.question}")

    with st.form("draft_form", clear_on_submit=True):
        text = st.text_area("Paste your essay", height=260, key="draft_text")
        up = st.file_uploader("or upload it (txt, docx, pdf, odt)", type=["txt", "docx", "pdf", "odt"],
                              key="draft_file")
        if st.form_submit_button("Get feedback", type="primary"):
            submit(book, user, aid, text, up)

    subs = book.student_submissions(user, aid)
    if not subs:
        st.caption("Feedback on your drafts will appear here.")
        return
    ids = [s["id"] for s in subs]
    labels = {s["id"]: f"Draft {s['draft']} · {s['at']:%d %b %H:%M} · {s['words']} words" for s in subs}
    current = state.selected("student_submission_id")

    def on_pick() -> None:
        state.select("student_submission_id", st.session_state["student_pick"])

    st.selectbox("Your drafts", ids, index=ids.index(current) if current in ids else 0,
                 format_func=lambda i: labels[i], key="student_pick", on_change=on_pick)
    sid = current if current is not None else ids[0]
    try:
        view = book.submission_detail(user, sid)
    except PermissionDenied:
        st.error("You can only see your own essays.")
        return
    feedback(view, book.assignment_rubric(user, view.assignment_id))


def submit(book: MarkBook, user: Principal, aid: int, text: str, up) -> None:
    try:
        if up is not None:
            essays = marker.read_bytes(up.name, up.getvalue())
            text, name = essays[0].text, up.name
        else:
            name = "pasted"
        if not text.strip():
            st.warning("Paste or upload your essay first.")
            return
        with st.spinner("Reading your essay..."):
            view = book.submit_draft(user, aid, text, name=name)
    except (marker.IngestError, ValueError) as exc:
        st.error(str(exc))
        return
    state.select("student_submission_id", view.id)


def feedback(view: SubmissionView, rubric) -> None:
    r = view.result
    st.subheader(f"Draft {view.draft}")
    if r is None:
        st.warning("This draft has not been marked yet.")
        return
    if not view.feedback_only and r.mark is not None:
        c1, c2 = st.columns(2)
        c1.metric("Level", r.level)
        c2.metric("Mark", f"{r.mark}/{r.data.get('max_mark')}")
    if view.improvements:
        st.success("**Since your last draft**\n\n" + "\n".join(f"- {s}" for s in view.improvements))
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("#### What went well")
        for s in r.feedback.get("strengths", []) or ["Keep going: add more to your essay."]:
            st.markdown(f"- {s}")
    with c2:
        st.markdown("#### To improve")
        for s in r.feedback.get("targets", []):
            st.markdown(f"- {s}")
    names = {c.id: c.name for c in rubric.criteria}
    st.markdown("#### Your essay")
    fb_tags = highlight.feedback_tags(r.data)
    if fb_tags:
        st.caption("Green: what went well. Amber: where to improve. Hover over a sentence to see why.")
        colours = highlight.FEEDBACK_COLOURS
        st.html(highlight.legend_html(colours, {"strength": "What went well", "target": "To improve"}))
        st.html(highlight.essay_html(view.text, fb_tags, colours, ["target", "strength"]))
        with st.expander("What earned credit, by criterion"):
            _criteria_html(view, r, names)
    else:
        st.caption("Highlighted sentences earned credit; the colour shows for what. Hover for details.")
        _criteria_html(view, r, names)


def _criteria_html(view: SubmissionView, r, names: dict[str, str]) -> None:
    tags = highlight.criterion_tags(r.data, names)
    colours = highlight.colours_for(CRITERIA, "criterion")
    present = [c for c in CRITERIA if any(t.key == c for t in tags)]
    st.html(highlight.legend_html({c: colours[c] for c in present}, names))
    st.html(highlight.essay_html(view.text, tags, colours, list(CRITERIA)))
