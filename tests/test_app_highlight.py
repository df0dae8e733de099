"""ui/highlight.py: evidence spans to HTML."""
from __future__ import annotations

from ui import highlight

TEXT = "Stalin was General Secretary. <Trotsky> was arrogant & aloof.\n\nLuck mattered."
S1_END = TEXT.index(" <Trotsky>")  # 29
P1_END = TEXT.index("\n")  # end of the first paragraph
LUCK = TEXT.index("Luck")
RESULT = {
    "criteria": [
        {"id": "evidence", "evidence": [{"start": 0, "end": S1_END, "text": "", "points": ["A1"], "note": "office"}]},
        {"id": "analysis", "evidence": [{"start": 0, "end": P1_END, "text": "", "points": []}]},
        {"id": "luck", "evidence": [{"start": LUCK, "end": len(TEXT), "text": "", "points": ["B2"]}]},
    ],
    "points": [{"id": "A1", "found": True, "spans": [[0, 29]]}, {"id": "C1", "found": False, "spans": []}],
    "flag_spans": {"repetition": [{"start": LUCK, "end": len(TEXT), "text": ""}]},
}


def test_overlapping_spans_are_cut_escaped_and_titled():
    names = {"evidence": "Evidence", "analysis": "Analysis", "luck": "Luck"}
    tags = highlight.criterion_tags(RESULT, names)
    colours = highlight.colours_for(highlight.CRITERIA)
    html = highlight.essay_html(TEXT, tags, colours, list(highlight.CRITERIA))
    assert "&lt;Trotsky&gt;" in html and "&amp;" in html  # essay text is escaped
    assert html.count("<mark") == 3  # first sentence: both; rest of paragraph: analysis; last: luck
    assert 'title="Evidence (A1; office); Analysis"' in html
    assert colours["evidence"] in html and "border-bottom" in html
    assert "\n\n" in html  # paragraphs kept (pre-wrap)
    plain = html.replace("<mark", "\x00").split("\x00")
    assert len(plain) == 4
    side = highlight.spans_by_key(TEXT, tags)
    assert side["evidence"] == ["Stalin was General Secretary."] and side["luck"] == ["Luck mattered."]


def test_point_and_flag_tags_and_legend():
    pts = highlight.point_tags(RESULT, {"A1": "General Secretary"})
    assert [(t.key, t.label) for t in pts] == [("A1", "A1: General Secretary")]
    flags = highlight.flag_tags(RESULT)
    assert flags[0].key == "flag:repetition"
    # one colour per theme of the rubric, whatever the point ids look like
    colours = highlight.colours_for(["A1", "A2", "depression", "flag:repetition"], by="point",
                                    theme_index={"A1": 0, "A2": 0, "depression": 1})
    assert colours["A1"] == colours["A2"] != colours["depression"]
    assert colours["flag:repetition"] == highlight.FLAG_COLOUR
    legend = highlight.legend_html({"A1": colours["A1"]}, {"A1": "A1 <General>"})
    assert "A1 &lt;General&gt;" in legend


def test_spans_outside_the_text_are_ignored():
    tags = [highlight.Tag(5, 500, "evidence", "x"), highlight.Tag(-1, 3, "evidence", "x")]
    assert "<mark" not in highlight.essay_html("short", tags, {"evidence": "#fff"})


def test_feedback_tags():
    data = {"feedback_items": [{"kind": "strength", "text": "Good detail", "spans": [[0, 29]]},
                               {"kind": "target", "text": "Explain why", "spans": [[LUCK, len(TEXT)]]},
                               {"kind": "target", "text": "No sentence", "spans": []}]}
    tags = highlight.feedback_tags(data)
    assert [(t.key, t.label) for t in tags] == [("strength", "Good detail"), ("target", "Explain why")]
    assert highlight.feedback_tags({}) == []
