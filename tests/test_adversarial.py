"""Marks that cannot be gamed (issue 3), and fairness the other way.

Attacks (``marker/attacks.py``) are built from a few dev essays: the strongest four by label
mark and one mid-level (L3) essay. Each attack must raise its flag, send the essay to review,
and never raise the mark or the level above the source essay's. Attacks that carry nothing
creditable from the source (off-topic, gibberish, non-English, restatement, salad) must score
at most 5. Fairness transforms (no paragraphs, misspellings, bullet points) keep the level within
one of the source's, and a well-argued essay with an unusual judgement (luck was decisive) keeps
L4 or better. Honest dev essays carry at most one gaming flag in total.

The corpus is read from $ESSAY_MARKER_CORPUS (default ../shared/corpus) via the ``corpus_dir``
fixture; the corpus-free tests at the top check the builders themselves.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import marker
from marker import attacks as A

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "samples" / "sample_essay.txt").read_text(encoding="utf-8")
MAX_FALSE_FLAGS = 1  # across the honest dev essays (issue 3's target: at most 1 in 24)
FAIR_MARK_WITHOUT_SOURCE = 5  # L1 at most for text that owes nothing creditable to an essay


# --- the builders (no corpus needed) ---------------------------------------------------------------

def _all_cases():
    for name in [*A.ATTACKS, *A.FAIRNESS, "unusual_judgement"]:
        for variant in A.variants(name):
            yield name, variant


@pytest.mark.parametrize("name,variant", list(_all_cases()), ids=lambda x: str(x))
def test_builders_are_deterministic_and_non_trivial(name, variant):
    a = A.build(name, SAMPLE, seed=3, variant=variant)
    assert a == A.build(name, SAMPLE, seed=3, variant=variant)
    assert isinstance(a, str) and a.strip()
    if name not in ("misspell",) and name not in A.SOURCE_FREE and name != "unusual_judgement":
        assert a != SAMPLE or name == "no_paragraphs" and len(A.paragraphs(SAMPLE)) == 1


def test_registry_shapes():
    assert set(A.ATTACKS) == {"salad", "stuffing", "padding", "duplication", "paragraph_repeat", "shuffle",
                              "off_topic_namedrop", "gibberish", "non_english", "prompt_injection",
                              "restatement", "too_short"}
    assert set(A.FAIRNESS) == {"no_paragraphs", "misspell", "bullets"}
    for builder, flag in [*A.ATTACKS.values(), *A.FAIRNESS.values()]:
        assert callable(builder) and (flag is None or isinstance(flag, str))
    assert A.ATTACKS["shuffle"][1] is None
    assert A.ATTACKS["padding"][1] == "repetition"


def test_duplication_and_paragraph_repeat_shapes():
    paras = A.paragraphs(SAMPLE)
    dup = A.paragraphs(A.duplication(SAMPLE))
    assert dup == paras + paras
    copy = A.duplication(SAMPLE, variant="shuffled_copy")
    assert sorted(A.sentences(copy)) == sorted(A.sentences(SAMPLE) * 2)
    rep = A.paragraphs(A.paragraph_repeat(SAMPLE))
    assert len(rep) == len(paras) + 4
    assert max(rep.count(p) for p in rep) == 5
    edited = A.paragraphs(A.paragraph_repeat(SAMPLE, variant="edited"))
    assert len(edited) == len(paras) + 4 and max(edited.count(p) for p in edited) == 1


def test_shuffle_keeps_the_sentences():
    shuffled = A.shuffle(SAMPLE, seed=1)
    assert sorted(A.sentences(shuffled)) == sorted(A.sentences(SAMPLE))
    assert shuffled != A.shuffle(SAMPLE, seed=2)


def test_too_short_and_no_paragraphs_and_bullets():
    assert len(A.too_short(SAMPLE).split()) == 40
    flat = A.no_paragraphs(SAMPLE)
    assert "\n" not in flat and flat.split() == SAMPLE.split()
    lines = [ln for ln in A.bullets(SAMPLE).splitlines() if ln.strip()]
    assert all(ln.startswith("- ") for ln in lines) and len(lines) == len(A.sentences(SAMPLE))


def test_misspell_rate_and_names():
    text = A.misspell(SAMPLE, seed=0)
    before, after = SAMPLE.split(), text.split()
    assert len(before) == len(after)
    changed = sum(b != c for b, c in zip(before, after))
    assert 0.05 <= changed / len(before) <= 0.10
    if "Trotsky " in SAMPLE:
        assert re.search(r"\bTrot(ksy|ski|k)\b|\bTrostky\b", text)


def test_salad_has_no_sentences_using_the_names():
    text = A.salad(SAMPLE, variant="commas")
    verbs = {"was", "were", "had", "made", "became", "because", "is", "did"}
    assert not verbs & {w.strip(".,").lower() for w in text.split()}
    assert sum(t in text for t in ["Stalin", "Trotsky", "Lenin"]) >= 2


def test_prompt_injection_keeps_the_essay():
    for variant in A.variants("prompt_injection"):
        text = A.prompt_injection(SAMPLE, variant=variant)
        assert A.INJECTIONS[variant] in text
        assert text.replace(A.INJECTIONS[variant], " ").split() == SAMPLE.split()


def test_written_essays_have_the_requested_lengths():
    for essay in A.OFF_TOPIC.values():
        assert 220 <= len(essay.split()) <= 290
        assert all(name in essay for name in ("Trotsky", "Lenin", "Bukharin"))
    for essay in A.NON_ENGLISH.values():
        assert 120 <= len(essay.split()) <= 190
    assert 100 <= len(A.RESTATEMENT.split()) <= 160
    assert 450 <= len(A.UNUSUAL_JUDGEMENT.split()) <= 560


# --- the marker against the attacks (needs the labelled corpus) ---------------------------------

@pytest.fixture(scope="module")
def rubric():
    return marker.load_rubric("stalin_trotsky_1929")


@pytest.fixture(scope="module")
def dev(corpus_dir):
    folder = corpus_dir / "dev"
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    return [(lab, (folder / lab["file"]).read_text(encoding="utf-8")) for lab in labels]


@pytest.fixture(scope="module")
def sources(dev):
    """The strongest four dev essays by label mark, and the middle L3 essay."""
    honest = [(lab, text) for lab, text in dev if not lab["flags"]]
    strongest = sorted(honest, key=lambda e: (-e[0]["mark"], e[0]["file"]))[:4]
    level3 = sorted((e for e in honest if e[0]["level"] == 3), key=lambda e: (e[0]["mark"], e[0]["file"]))
    return strongest + [level3[len(level3) // 2]]


class _Marks:
    """marker.mark, once per distinct text (essays are marked one at a time, so needs_review is the
    essay's own and not a batch's similarity note)."""

    def __init__(self, rubric):
        self.rubric, self.cache = rubric, {}

    def __call__(self, text: str, name: str = "essay"):
        if text not in self.cache:
            self.cache[text] = marker.mark(text, self.rubric, essay=name)
        return self.cache[text]


@pytest.fixture(scope="module")
def marks(rubric):
    return _Marks(rubric)


def _describe(r) -> str:
    return f"mark {r.mark} L{r.level} flags {r.flags}"


NO_NEW_TEXT = {"shuffle"}


@pytest.mark.parametrize("attack", list(A.ATTACKS))
def test_attack_is_flagged_and_never_raises_the_mark(attack, sources, marks):
    builder, expected = A.ATTACKS[attack]
    problems = []
    for lab, text in sources:
        src = marks(text, lab["file"])
        for variant in A.variants(attack):
            r = marks(A.build(attack, text, variant=variant), f"{lab['file']}:{attack}")
            where = f"{A.case_id(attack, variant)} of {lab['file']} (source {_describe(src)}): {_describe(r)}"
            if expected and expected not in r.flags:
                problems.append(f"{where}: expected flag {expected!r} not raised")
            if expected and not r.needs_review:
                problems.append(f"{where}: not sent for review")
            # Shuffling adds and removes nothing, so it may move the mark by one either way (the marker reads
            # some things paragraph by paragraph); it must never lift the level. Every other attack adds
            # only text that earns nothing, so it must not raise the mark at all.
            slack = 1 if attack in NO_NEW_TEXT else 0
            if r.mark > src.mark + slack or r.level > src.level:
                problems.append(f"{where}: the attack raised the mark")
            if attack in A.SOURCE_FREE and r.mark > FAIR_MARK_WITHOUT_SOURCE:
                problems.append(f"{where}: more than {FAIR_MARK_WITHOUT_SOURCE} for text with nothing creditable")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("transform", list(A.FAIRNESS))
def test_fairness_transform_keeps_the_level(transform, sources, marks):
    _, expected = A.FAIRNESS[transform]
    problems = []
    for lab, text in sources:
        src = marks(text, lab["file"])
        for variant in A.variants(transform):
            r = marks(A.build(transform, text, variant=variant), f"{lab['file']}:{transform}")
            where = f"{A.case_id(transform, variant)} of {lab['file']} (source {_describe(src)}): {_describe(r)}"
            if abs(r.level - src.level) > 1:
                problems.append(f"{where}: level moved by more than one")
            gaming = set(r.flags) & set(A.GAMING_FLAGS)
            if gaming:
                problems.append(f"{where}: honest text flagged {sorted(gaming)}")
            if expected and len(A.paragraphs(text)) > 1 and len(text.split()) > 200 and expected not in r.flags:
                problems.append(f"{where}: expected flag {expected!r} not raised")
    assert not problems, "\n".join(problems)


def test_unusual_judgement_keeps_its_level(marks):
    r = marks(A.UNUSUAL_JUDGEMENT, "unusual_judgement")
    assert r.level >= 4, _describe(r)
    assert not set(r.flags) & set(A.GAMING_FLAGS), _describe(r)


def test_honest_essays_carry_no_gaming_flags(dev, marks):
    false = []
    for lab, text in dev:
        if lab["flags"]:
            continue
        r = marks(text, lab["file"])
        false += [f"{lab['file']}: {f} ({r.flag_reasons.get(f, '')})" for f in r.flags if f in A.GAMING_FLAGS]
    assert len(false) <= MAX_FALSE_FLAGS, "\n".join(false)
