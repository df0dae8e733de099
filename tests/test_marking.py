"""The marking engine as a teacher meets it: points found despite paraphrase and misspelling,
points not claimed when absent, explained bands, honest feedback, deterministic results."""
from pathlib import Path

import pytest
import yaml

import marker
from marker.analysis import analyse_essay
from marker.lexicon import lexicon_for

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "samples" / "sample_essay.txt").read_text(encoding="utf-8")
PROBES = yaml.safe_load((Path(__file__).parent / "data" / "point_probes.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rubric():
    return marker.load_rubric("stalin_trotsky_1929")


def found(text, rubric):
    return set(analyse_essay(text, rubric).found)


def test_paraphrased_point_is_found(rubric):
    # No "Testament", no "suppressed": the idea alone.
    assert "B1" in found("Lenin's last letter criticising Stalin was kept quiet by the party leaders, "
                         "so Stalin kept his job.", rubric)
    assert "A1" in found("Local bosses knew they owed their positions to Stalin, so they voted the way he wanted.",
                         rubric)


def test_misspelt_names_are_recognised(rubric):
    assert "B3" in found("Trotksy missed Lenin's funural because he was told the wrong date.", rubric)
    assert "B5" in found("Zinovyev and Kamanev underestimated Stalin and thought he was harmless.", rubric)
    assert "D2" in found("Stalin then allied with Bukarin and the Right to beat the Left.", rubric)


def test_misspelt_terms_are_recognised(rubric):
    # "Secetary" and "facions" are not English words; each is a small edit from a rubric term.
    analysis = analyse_essay("As General Secetary, Stalin could appoint his own men to run the party.", rubric)
    assert "A1" in analysis.found and analysis.found["A1"].explicit
    assert "D5" in found("Stalin used the ban on facions to expel anyone who organised against him.", rubric)


def test_real_words_are_not_corrected_into_rubric_terms(rubric):
    lex = lexicon_for(rubric)
    # "secretive" is a real word a letter or two from "secretary"; "expected" is near "expelled".
    assert lex.term_key("secretive") is None and lex.term_key("expected") is None
    assert "A1" not in found("Stalin was a secretive man who kept his thoughts to himself at meetings.", rubric)


def test_a_percentage_counts_as_a_precise_figure_anywhere_in_the_essay(rubric):
    # The "%" after a number is read from the sentence's own text, not at the number's place in the essay.
    a = analyse_essay("Stalin was popular. By 1927 about 40 % of the party had joined in the Lenin Enrolment, "
                      "so they backed Stalin.", rubric)
    assert a.signals[1].numbers == 1


def test_points_not_claimed_when_absent(rubric):
    for text in ["Stalin was born in Georgia in 1878 and trained to be a priest.",
                 "In the 1930s millions died in the famine and the purges.",
                 "The weather in Moscow is very cold in winter."]:
        assert found(text, rubric) == set(), text


def test_list_of_terms_is_not_a_point(rubric):
    assert found("Nomenklatura, Lenin Enrolment, troika, Bukharin, Deutscher, Testament.", rubric) == set()


def _probe_counts(probes, rubric):
    tp = fp = fn = 0
    for probe in probes:
        got, expected = found(probe["text"], rubric), set(probe["points"])
        tp, fp, fn = tp + len(got & expected), fp + len(got - expected), fn + len(expected - got)
    return tp, fp, fn


def test_probe_sentences_precision_and_recall(rubric):
    """Fresh sentences written for this test (not in any corpus or the rubric)."""
    tp, fp, fn = _probe_counts(PROBES, rubric)
    assert tp / (tp + fp) >= 0.8 and tp / (tp + fn) >= 0.8, (tp, fp, fn)


def test_second_probe_set_precision_and_recall(rubric):
    """A second, larger set with negatives (on-topic sentences that make no point): none may claim one."""
    probes = yaml.safe_load((Path(__file__).parent / "data" / "point_probes_2.yaml").read_text(encoding="utf-8"))
    tp, fp, fn = _probe_counts(probes, rubric)
    assert tp / (tp + fp) >= 0.8 and tp / (tp + fn) >= 0.7, (tp, fp, fn)
    assert all(found(p["text"], rubric) == set() for p in probes if not p["points"])


def test_every_band_cites_sentences_from_the_essay(rubric):
    r = marker.mark(SAMPLE, rubric, essay="sample_essay.txt")
    assert 0 <= r.mark <= 25 and r.level == rubric.level_for_mark(r.mark)
    for c in r.criteria:
        if c.band > 0 and c.id != "communication":
            assert c.evidence, f"{c.id} band {c.band} cites nothing"
        for span in c.evidence:
            assert SAMPLE[span.start:span.end] == span.text
        assert c.reasons
    for p in r.points:
        for start, end in p.spans:
            assert 0 <= start < end <= len(SAMPLE)


def test_strong_sample_outscores_weak_answer(rubric):
    weak = ("Stalin became leader because he was clever and Trotsky was not. Stalin was a bad man and "
            "Trotsky should have won. That is why Stalin won.") * 3
    strong = marker.mark(SAMPLE, rubric)
    poor = marker.mark(weak, rubric)
    assert strong.level >= 4 and poor.level <= 2, (strong.mark, poor.mark)


def test_feedback_never_says_a_covered_point_is_missing(rubric):
    r = marker.mark(SAMPLE, rubric)
    found_ids = {p.id for p in r.points if p.found}
    for item in r.feedback_items:
        if item["kind"] == "target" and item["point"]:
            assert item["point"] not in found_ids


def test_missing_luck_gives_a_target_about_luck(rubric):
    no_luck = "\n\n".join(p for p in SAMPLE.split("\n\n") if "fortunate" not in p and "luck" not in p.lower())
    r = marker.mark(no_luck, rubric)
    targets = [i for i in r.feedback_items if i["kind"] == "target"]
    assert any(i["criterion"] == "luck" for i in targets), targets


def test_a_missing_point_target_gives_its_reason_once(rubric):
    # The rubric's feedback_missing already says why the point matters; the target must not
    # follow it with the rubric's `why`, which says the same again in other words.
    r = marker.mark(SAMPLE, rubric)
    point_targets = [i for i in r.feedback_items if i["kind"] == "target" and i["point"]
                     and i["criterion"] in ("range", "luck")]
    assert point_targets
    for item in point_targets:
        point = rubric.point_by_id[item["point"]]
        assert item["text"] == point.feedback_missing
        assert point.why not in item["text"]


def test_narrated_paragraph_gets_a_target_on_explaining(rubric):
    story = ("Stalin and Trotsky.\n\n"
             "In 1922 Stalin became General Secretary. In 1923 Lenin wrote his Testament. In January 1924 Lenin "
             "died. In May 1924 the Testament was read to the Central Committee. In 1925 Trotsky lost his post as "
             "Commissar for War.\n\nIn 1926 Zinoviev and Kamenev joined Trotsky in the United Opposition. In 1927 "
             "Trotsky was expelled from the party. In 1929 Trotsky was deported from the USSR.")
    r = marker.mark(story, rubric)
    assert any(i["criterion"] == "analysis" and "tells what happened" in i["text"] for i in r.feedback_items)
    assert r.criterion("analysis").band <= 2


def test_same_essay_same_result(rubric):
    a = marker.mark(SAMPLE, rubric, essay="x").to_dict()
    b = marker.mark(SAMPLE, rubric, essay="x").to_dict()
    assert a == b


_REPEAT_CHECK = """
import marker
from marker.analysis import analyse_essay
from marker.flags import repetition
phrases = ["regional secretaries chose loyal delegates", "newspapers praised Lenin's modest heir",
           "Trotsky's illness kept him away", "Zinoviev feared a military dictator"]
text = " ".join(["Stalin controlled the party machine.",
                 "During 1923 the " + phrases[0] + " whenever congress met in Moscow.",
                 "Meanwhile many " + phrases[1] + " after January, which pleased provincial readers.",
                 "Unfortunately " + phrases[2] + " from crucial Politburo meetings throughout that winter.",
                 "Privately " + phrases[3] + " might seize power using Red Army units.",
                 "Stalin controlled the party machine; " + ", ".join(phrases) + "."])
a = analyse_essay(text, marker.load_rubric())
repetition(a)
print(sorted(a.discounted))
"""


def test_repeats_are_found_whatever_the_hash_seed():
    """The last sentence repeats the whole of the first, and shares as many word triples with each of
    four others. Python's string hashing differs between processes; the verdict must not."""
    import os
    import subprocess
    import sys

    verdicts = set()
    for seed in range(6):
        out = subprocess.run([sys.executable, "-c", _REPEAT_CHECK], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": str(seed)}, cwd=ROOT)
        verdicts.add(out.stdout.strip())
    assert verdicts == {"[5]"}


def test_result_round_trips_through_json(rubric):
    r = marker.mark(SAMPLE, rubric, essay="x")
    assert marker.MarkResult.from_dict(r.to_dict()).to_dict() == r.to_dict()


def test_mark_many_keeps_order_and_reports_copies(rubric):
    other = SAMPLE.replace("Stalin", "Stalin").replace("In conclusion", "To conclude")
    batch = marker.mark_many([("a.txt", SAMPLE), ("b.txt", "Trotsky was arrogant. " * 30), ("c.txt", other)],
                             rubric)
    assert [r.essay for r in batch.results] == ["a.txt", "b.txt", "c.txt"]
    pair = batch.similar_pairs[0]
    assert {pair["a"], pair["b"]} == {"a.txt", "c.txt"} and pair["overlap"] > 0.8
    assert batch.results[0].similar_to[0]["essay"] == "c.txt"


def test_mark_many_parallel_matches_serial(rubric):
    essays = [(f"e{i}.txt", SAMPLE.replace("1922", str(1900 + i))) for i in range(6)]
    serial = marker.mark_many(essays, rubric, processes=1)
    parallel = marker.mark_many(essays, rubric, processes=2)
    assert [r.to_dict() for r in serial.results] == [r.to_dict() for r in parallel.results]
