"""Rubric files: the shipped rubric validates, and broken rubrics are refused with file, field and problem."""
import textwrap

import pytest

from marker.cli import main
from marker.rubric import RubricError, load_rubric, parse_rubric

MINIMAL = textwrap.dedent("""
    id: tiny
    version: 2
    title: Tiny
    question: Why?
    max_mark: 10
    levels:
      - {level: 0, min: 0, max: 0, descriptor: nothing}
      - {level: 1, min: 1, max: 5, descriptor: some}
      - {level: 2, min: 6, max: 10, descriptor: good}
    criteria:
      - id: analysis
        name: Analysis
        bands: {0: a, 1: b, 2: c, 3: d, 4: e}
        feedback: {0: a, 1: b, 2: c, 3: d, 4: e}
""")


def test_shipped_rubric_loads_with_every_point():
    r = load_rubric("stalin_trotsky_1929")
    ids = [p.id for p in r.points]
    assert ids[0] == "A1" and "F1" in ids and len(ids) == 23
    assert {c.id for c in r.criteria} == {"relevance", "evidence", "range", "luck", "analysis", "judgement",
                                          "communication"}
    assert [lv.level for lv in r.levels] == [0, 1, 2, 3, 4, 5]
    assert all(p.feedback_missing for p in r.points)


def test_minimal_rubric_without_points_is_valid():
    r = parse_rubric(MINIMAL, "tiny.yaml")
    assert r.version == "2" and r.points == [] and r.level_for_mark(7) == 2


def test_errors_name_file_field_and_problem(tmp_path):
    bad = MINIMAL.replace("{level: 2, min: 6,", "{level: 2, min: 7,").replace("4: e}\n", "}\n", 1)
    path = tmp_path / "broken.yaml"
    path.write_text(bad)
    with pytest.raises(RubricError) as err:
        load_rubric(path)
    msg = str(err.value)
    assert "broken.yaml" in msg
    assert "criteria.0.bands" in msg and "missing [4]" in msg


def test_gap_between_levels_is_reported(tmp_path):
    path = tmp_path / "gap.yaml"
    path.write_text(MINIMAL.replace("{level: 2, min: 6,", "{level: 2, min: 7,"))
    with pytest.raises(RubricError, match="level 2 starts at 7 but level 1 ends at 5"):
        load_rubric(path)


def test_yaml_syntax_error_gives_line(tmp_path):
    path = tmp_path / "syntax.yaml"
    path.write_text("id: x\nlevels: [\n")
    with pytest.raises(RubricError, match=r"syntax.yaml: not valid YAML at line"):
        load_rubric(path)


def test_rubric_check_command(tmp_path, capsys):
    good = tmp_path / "tiny.yaml"
    good.write_text(MINIMAL)
    assert main(["rubric", "check", str(good)]) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("max_mark: 10", "max_mark: -1"))
    assert main(["rubric", "check", str(bad)]) == 1
    assert "max_mark" in capsys.readouterr().err


# -- a new question is a new file --------------------------------------------------
DATA = __import__("pathlib").Path(__file__).parent / "data"
EXAMPLES = DATA.parents[1] / "rubrics" / "examples"


def test_a_second_question_is_marked_in_its_own_words():
    """A rubric on another question (the Weimar Republic) marks an essay on it with no code change:
    its points are found, and nothing the marker writes speaks of Stalin or Trotsky."""
    import json

    import marker

    rubric = load_rubric(EXAMPLES / "weimar_1933.yaml")
    result = marker.mark((DATA / "weimar_essay.txt").read_text(encoding="utf-8"), rubric).to_dict()
    assert {p["id"] for p in result["points"] if p["found"]} == {"W1", "W2", "N1", "N2"}
    written = json.dumps({k: result[k] for k in ("criteria", "feedback", "feedback_items", "flag_reasons",
                                                 "review_reasons")})
    assert "stalin" not in written.lower() and "trotsky" not in written.lower()
    reasons = {c["id"]: " ".join(c["reasons"]) for c in result["criteria"]}
    assert "weakened the Republic or helped the Nazis" in reasons["analysis"]
    assert "balance: nazis, weakness" in reasons["range"]
    assert "deal with Hitler" in reasons["relevance"]
    # the paragraph that only lists who became Chancellor gets the explain target, in this question's words
    assert any(t.startswith("Your paragraph beginning \u201cIn 1930 Bruning") and "weakened the Republic" in t
               for t in result["feedback"]["targets"])


def test_balance_sides_must_be_sides_of_content_points(tmp_path):
    text = (EXAMPLES / "weimar_1933.yaml").read_text(encoding="utf-8").replace(
        "balance_sides: [weakness, nazis]", "balance_sides: [weakness, nazi]")
    path = tmp_path / "typo.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RubricError, match="balance_sides: no content point has side 'nazi'"):
        load_rubric(path)
