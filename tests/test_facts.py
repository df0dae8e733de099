"""Factual errors: the rubric's common errors are caught, cited under evidence, corrected in feedback,
and never claimed where the essay is right or says the opposite."""
from __future__ import annotations

import pytest

import marker
from marker.analysis import analyse_essay
from marker.facts import find_errors
from marker.result import MarkResult
from marker.rubric import RubricError

BODY = (
    "Stalin became leader rather than Trotsky mainly because of his power inside the party.\n\n"
    "As General Secretary from April 1922 Stalin controlled appointments, which meant that the local "
    "secretaries he chose picked the delegates who voted for him at party congresses.\n\n"
    "{death} This left a power vacuum, and because Lenin's Testament was not published, Stalin survived "
    "its warning that he was too rude.\n\n"
    "Trotsky was arrogant and never built a faction, so the Old Bolsheviks distrusted him and feared he "
    "might become a military dictator like Napoleon. He was expelled from the party in November 1927.\n\n"
    "In conclusion, Stalin's control of the party machine was the most important reason, because it turned "
    "Trotsky's weaknesses into defeats at every congress."
)
WRONG = BODY.format(death="Lenin died in 1922 after a long illness had kept him from work.")
RIGHT = BODY.format(death="Lenin died in January 1924 after a long illness had kept him from work.")


@pytest.fixture(scope="module")
def rubric():
    return marker.load_rubric()


def _errors(text: str, rubric) -> list[str]:
    a = analyse_essay(text, rubric)
    return [e.check for e in find_errors(a.keys, rubric, a.lex)]


def test_wrong_date_is_caught_cited_and_corrected(rubric):
    res = marker.mark(WRONG, rubric)
    assert [e["check"] for e in res.factual_errors] == ["lenin_death_date"]
    err = res.factual_errors[0]
    assert WRONG[err["start"]:err["end"]].startswith("Lenin died in 1922")
    assert "21 January 1924" in err["correction"]
    evidence = res.criterion("evidence")
    assert any("factual error" in r for r in evidence.reasons)
    assert any(s.note == "factual error" and s.start == err["start"] for s in evidence.evidence)
    assert any("21 January 1924" in t for t in res.feedback["targets"])


def test_the_same_essay_with_the_fact_right_has_no_error_and_no_less_evidence_credit(rubric):
    wrong, right = marker.mark(WRONG, rubric), marker.mark(RIGHT, rubric)
    assert right.factual_errors == []
    assert not any("Check your facts" in t for t in right.feedback["targets"])
    assert right.criterion("evidence").score > wrong.criterion("evidence").score


@pytest.mark.parametrize("sentence, check", [
    ("In 1923 Lenin died and the party was left without a leader.", "lenin_death_date"),
    ("Lenin's Testament named Trotsky as his successor.", "testament_named_successor"),
    ("Trotsky was exiled to Siberia in 1928.", "trotsky_exiled_to_siberia"),
    ("By 1925 Trotsky had been expelled and sent away.", "trotsky_expulsion_date"),
    ("Stalin had Trotsky killed in 1929.", "trotsky_murder_date"),
    ("In 1929 he had Trotsky killed in Mexico.", "trotsky_murder_date"),  # a pronoun between year and event
    ("Stalin got rid of his rivals in the purges, so he became leader.", "purges_explain_rise"),
    ("Stalin gave Trotsky the wrong date, so he looked as if he did not care.", "funeral_wrong_date_as_fact"),
    ("At the 14th Party Congress in 1926 Stalin defeated Zinoviev.", "fourteenth_congress_date"),
])
def test_common_errors_are_caught(rubric, sentence, check):
    assert _errors(sentence, rubric) == [check]


@pytest.mark.parametrize("sentence", [
    "Lenin died on 21 January 1924.",
    "In 1922 Lenin fell ill and died two years later.",  # the year belongs to the illness
    "Lenin, after a stroke in 1922, died.",
    "Lenin's Testament did not name Trotsky as his successor.",
    "Trotsky had escaped from Siberia under the Tsar.",  # true: his pre-revolution exile
    "Trotsky was expelled from the party in 1927 and deported in 1929.",
    "Trotsky was murdered in Mexico in 1940.",
    "After Lenin's death in 1924, Trotsky lost ground in 1925.",
    "Lenin died, and in 1925 Trotsky lost his post.",
    "Later, in the 1930s, Stalin had his old rivals Zinoviev and Kamenev shot in the purges.",
    "The purges came after 1929, so they cannot explain how Stalin beat his rivals.",
    "Trotsky claimed that Stalin had told him the wrong date for the funeral.",
    "Whether or not Stalin gave him the wrong date, Trotsky's absence looked disrespectful.",
])
def test_right_or_negated_statements_are_not_errors(rubric, sentence):
    assert _errors(sentence, rubric) == []


def test_a_contested_claim_stated_as_fact_gets_advice_but_costs_no_evidence_credit(rubric):
    stated = BODY.format(death="Lenin died in January 1924, and Stalin told Trotsky the wrong date for the funeral.")
    hedged = BODY.format(death="Lenin died in January 1924, and Trotsky claimed Stalin told him the wrong date "
                               "for the funeral.")
    res, fair = marker.mark(stated, rubric), marker.mark(hedged, rubric)
    assert [(e["check"], e["minor"]) for e in res.factual_errors] == [("funeral_wrong_date_as_fact", True)]
    assert fair.factual_errors == []
    assert any(t.startswith("Be careful how you state") and "Trotsky claimed" in t for t in res.feedback["targets"])
    assert any(s.note == "contested claim stated as fact" for s in res.criterion("evidence").evidence)
    assert res.criterion("evidence").score == fair.criterion("evidence").score


def test_a_repeated_error_counts_once_per_sentence_and_not_in_blanked_repeats(rubric):
    text = WRONG + "\n\n" + "Lenin died in 1922 after a long illness had kept him from work. " * 3
    res = marker.mark(text, rubric)
    assert [e["check"] for e in res.factual_errors] == ["lenin_death_date"]


def test_the_same_mistake_in_several_sentences_is_one_target_and_one_error_in_the_reasons(rubric):
    text = WRONG + ("\n\nBecause Lenin died in 1922, Trotsky lost his protector.\n\n"
                    "Lenin's death in 1922 changed everything for the party.")
    res = marker.mark(text, rubric)
    assert [e["check"] for e in res.factual_errors] == ["lenin_death_date"] * 3  # every sentence is cited
    assert sum(t.startswith("Check your facts") for t in res.feedback["targets"]) == 1
    assert any(r.startswith("1 factual error(s)") for r in res.criterion("evidence").reasons)


def test_factual_errors_survive_the_json_round_trip(rubric):
    res = marker.mark(WRONG, rubric)
    again = MarkResult.from_dict(res.to_dict())
    assert again.factual_errors == res.factual_errors


def test_fact_check_naming_an_unknown_point_is_rejected(tmp_path):
    text = (tmp_path / "r.yaml")
    base = open(marker.load_rubric().source, encoding="utf-8").read()
    bad = base.replace("    point: B2\n", "    point: Z9\n", 1)
    text.write_text(bad, encoding="utf-8")
    with pytest.raises(RubricError) as info:
        marker.load_rubric(str(text))
    assert "Z9" in str(info.value) and "fact_checks" in str(info.value)


def test_bad_year_range_is_rejected(tmp_path):
    base = open(marker.load_rubric().source, encoding="utf-8").read()
    bad = base.replace('years: ["1926-1929"]', 'years: ["late 1920s"]', 1)
    path = tmp_path / "r.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(RubricError) as info:
        marker.load_rubric(str(path))
    assert "late 1920s" in str(info.value)
