"""The speed-ups that stand in for slower code must give exactly what that code gives.

Each fast path here replaces a general computation with a quicker one that is exact only by an
argument (see the docstrings at each); these tests check the argument against the general code.
"""
from __future__ import annotations

import os
import random
import string
from pathlib import Path

import numpy as np
import pytest

import marker
from marker import flags, lexicon, signals, text
from marker.embed import get_encoder
from marker.lexicon import phrase_positions

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "samples" / "sample_essay.txt").read_text(encoding="utf-8")


def _corpus_essays(n: int = 40) -> list[Path]:
    """Some essays of the development corpus (ESSAY_MARKER_CORPUS), if it is at hand."""
    corpus = Path(os.environ.get("ESSAY_MARKER_CORPUS", ROOT.parent / "shared" / "corpus"))
    return sorted(corpus.glob("*/*.txt"))[:n] if corpus.is_dir() else []


@pytest.fixture(scope="module")
def rubric():
    return marker.load_rubric()


def test_simple_punkt_contexts_are_breaks_for_punkt_too():
    punkt = text._punkt
    general = type(punkt).text_contains_sentbreak  # the class's method, not this instance's shortcut
    params = punkt._params
    words = sorted(params.abbrev_types) + sorted({a for a, _ in params.collocations}) + [
        w for w in sorted(params.ortho_context)[:3000] if w.isalpha()]
    nexts = sorted({b for _, b in params.collocations}) + sorted(params.sent_starters) + sorted(params.ortho_context)[:500]
    printable = [c for c in string.printable if not c.isspace()]
    rnd = random.Random(0)
    simple = 0
    for _ in range(30_000):
        word = rnd.choice([rnd.choice(words), "".join(rnd.choice(string.ascii_letters) for _ in range(rnd.randint(1, 6)))])
        word = rnd.choice([word, word.capitalize(), word.upper()])
        nxt = rnd.choice([rnd.choice(nexts), "".join(rnd.choice(printable) for _ in range(rnd.randint(1, 4)))])
        nxt = rnd.choice([nxt, nxt.capitalize(), nxt + rnd.choice(printable)])
        context = word + rnd.choice(".?!") + " " * rnd.randint(1, 2) + nxt
        if text._simple_sentbreak(context):
            simple += 1
            assert general(punkt, context), context
    assert simple > 10_000
    assert not text._simple_sentbreak("etc. And")  # an abbreviation goes to Punkt itself
    assert not text._simple_sentbreak("1929. This")  # so does a number


def test_sentences_split_as_punkt_splits_them():
    punkt = text._punkt
    lines = [line for line in text.normalise(SAMPLE).splitlines() if line.strip()]
    lines += ["Dr. Smith met Mr. Jones at 3 p.m. on Jan. 5. They talked.", "It cost $5.50. Then what? Nothing!",
              "He said \"stop.\" She left. (See ch. 4.) Done."]
    for line in lines:
        fast = list(punkt.span_tokenize(line))
        del punkt.text_contains_sentbreak  # back to the class's own method for a moment
        try:
            slow = list(punkt.span_tokenize(line))
        finally:
            punkt.text_contains_sentbreak = text._contains_sentbreak
        assert fast == slow, line


def test_quick_marker_address_test_agrees_with_the_patterns():
    snippets = ["ignore the rubric", "give this full marks", "award 25", "note to the marker", "dear examiner",
                "as an AI", "system prompt", "this essay deserves", "18/25", "18 / 25", "mark scheme", "level 5",
                "top band", "full credit", "remark", "giveaway", "said", "maintain", "x/25", "12/250", "Forget the above"]
    rnd = random.Random(1)
    words = SAMPLE.split()
    seen = {True: 0, False: 0}
    for _ in range(400):
        w = list(words)
        for _ in range(rnd.randint(0, 2)):
            w.insert(rnd.randrange(len(w) + 1), rnd.choice(snippets))
        folded = text.normalise(" ".join(w)).casefold()
        want = bool(flags._INSTRUCTION_FOLDED.search(folded) or flags._MARKING_FOLDED.search(folded))
        got = bool(flags._found_from(flags._INSTRUCTION_FOLDED, folded, flags._INSTRUCTION_STARTS)
                   or ("/" in folded and flags._OUT_OF_25.search(folded))
                   or flags._found_from(flags._MARKING_FOLDED, folded, flags._MARKING_STARTS))
        assert got == want
        seen[want] += 1
    assert seen[True] and seen[False]


def test_encoder_sums_match_the_segmented_sum():
    enc = get_encoder()
    doc = text.analyse(SAMPLE)
    texts = [s.text for s in doc.sentences] + ["", "Trotsky", "  spaced   out  text "]
    vecs = enc.encode(texts)
    unk = enc._model.unk_token_id
    ids = [[i for c in t.split() for i in enc._model.tokenizer.encode(c, add_special_tokens=False).ids if i != unk]
           for t in texts]
    lengths = np.array([len(i) for i in ids])
    want = np.zeros_like(vecs)
    rows = np.flatnonzero(lengths)
    flat = np.array([t for i in ids for t in i], dtype=np.intp)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[rows]
    want[rows] = np.add.reduceat(enc._model.embedding[flat], starts, axis=0, dtype=np.float32)
    norms = np.linalg.norm(want, axis=1, keepdims=True)
    np.divide(want, norms, out=want, where=norms > 0)
    assert np.array_equal(vecs, want)
    assert np.array_equal(enc.encode_split([t.split() for t in texts]), vecs)


def test_merged_phrase_index_lists_hits_as_each_index_does(rubric):
    lex = lexicon.lexicon_for(rubric)
    indexes = {"causal": signals.question_words(lex).causal, "judgement": signals.JUDGEMENT, "weighing": signals.WEIGHING,
               "offices": lex.office_index, "events": lex.event_index, "topic": lex.topic_index,
               "off_topic": lex.off_topic_index}
    doc = text.analyse(SAMPLE + "\n\nSo that, so that it was decisive; in order to win he made it so, because of this.")
    for s in doc.sentences:
        keys = lex.keys(s)
        sig = signals.sentence_signals(s, keys, lex)
        for name, index in indexes.items():
            assert getattr(sig, name) == index.hits(keys, set(keys)), (name, s.text)


def test_cue_matches_agree_with_a_plain_reading(rubric):
    lex = lexicon.lexicon_for(rubric)
    doc = text.analyse(SAMPLE + "\n\n" + "\n\n".join(p.read_text(encoding="utf-8") for p in _corpus_essays()))
    for s in doc.sentences:
        keys = lex.keys(s)
        key_set = set(keys)

        def holds(part):
            return any(ph.key_set <= key_set and (len(ph.keys) == 1 or phrase_positions(keys, ph) is not None)
                       for ph in part)

        want_full, want_partial = {}, set()
        for k in sorted(key_set):
            for pid, cues in lex.point_cues.items():
                for cue in cues:
                    if pid in want_full or k not in {alt.keys[0] for alt in cue.parts[0]}:
                        continue
                    misses = sum(not holds(part) for part in cue.parts)
                    if misses == 0:
                        want_full[pid] = cue.text
                    elif misses == 1 and len(cue.parts) >= 3:
                        want_partial.add(pid)
        full, partial = lex.cue_index.matches(keys, key_set)
        assert full == want_full
        assert partial == want_partial - set(want_full)


def test_memoised_keys_and_spelling_match_fresh_ones(rubric):
    lex = lexicon.lexicon_for(rubric)
    fresh = lexicon._build(rubric)
    for s in text.analyse(SAMPLE + " Trotksy's Kamanev Stalin's organisation colour teh").sentences:
        assert lex.keys(s) == fresh.keys(s) == [fresh._resolve_key(w) for w in s.words]
        assert [lex.spelling_error(w) for w in s.words] == [fresh.spelling_error(w) for w in s.words]
