"""Flags: signs that an essay needs a teacher's eye, each with a reason and the spans involved.

Every detector reads the :class:`~marker.analysis.Analysis`, may mark sentences
as *discounted* (they earn no credit: a repeat, a list of names, off-topic
text, words addressed to the marker), and returns a :class:`Flag` when the sign
is strong enough to tell a teacher. Detectors run before scoring, and content
points found only in discounted sentences are dropped, so credit follows
meaning: repeated text earns credit once, a list of names earns nothing, and
length alone cannot raise a mark.

The detectors look at general properties of text (repeats, sentence-hood,
word order, language, who the text addresses) rather than at known attack
strings, so they hold for attacks not seen before.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import filterfalse

from .analysis import Analysis
from .profile import essay_profile
from .spelling import is_known


@dataclass
class Flag:
    id: str
    reason: str
    sentences: list[int] = field(default_factory=list)


def _share(a: Analysis, idx) -> float:
    return a.words_in(idx) / max(1, a.doc.n_words)


# -- addressed to the marker ---------------------------------------------------
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.]{0,40}\b(rubric|instructions?|mark ?scheme|marking|criteria|previous|above)\b"
    r"|\b(award|give|assign|grade|mark|score)\b[^.]{0,30}\b(full|top|maximum|max|highest|perfect)\s+(marks?|score|grade|level)"
    r"|\b(award|give|assign)\b[^.]{0,30}\b(25|level\s*5|l5|an?\s+a\*?)\b"
    r"|\b(note|message|instructions?)\s+(to|for)\s+(the\s+)?(marker|examiner|grader|teacher|ai|assistant|model|system)\b"
    r"|\b(dear|attention)\s+(marker|examiner|grader|ai|assistant|model)\b"
    r"|\b(as an ai|you are an? (ai|marker|grader|language model)|system prompt|prompt:|\bsystem:)"
    r"|\bthis essay (deserves|should (get|receive|be given)|must (get|receive|be given))\b"
    r"|\b\d{1,2}\s*/\s*25\b",
    re.IGNORECASE,
)


# A sentence that names the marking and asks for an outcome is addressed to the marker, however worded.
_MARKING = re.compile(r"\b(marker|marking|marks?|examiner|grader|grading|rubric|mark ?scheme|assessor|ai|"
                      r"chatbot|language model|descriptors?|level\s*[45]|top band|full credit)\b", re.I)
_REQUEST = re.compile(r"\b(award|give|assign|receive|deserves?|should (get|receive|be given|be awarded)|"
                      r"must (get|receive|be given)|ignore|disregard|whatever the|regardless of|full|maximum|"
                      r"top|highest|perfect|25)\b", re.I)


# The same patterns for case-folded text: a quick whole-essay test (re.IGNORECASE is about twice as slow).
_INSTRUCTION_FOLDED = re.compile(_INSTRUCTION.pattern)
_MARKING_FOLDED = re.compile(_MARKING.pattern)
# Every match of _INSTRUCTION but one kind begins with one of these words, and every match of _MARKING
# with one of the others; the remaining kind ("18/25") needs a "/".
_INSTRUCTION_STARTS = ("ignore", "disregard", "forget", "override", "award", "give", "assign", "grade", "mark",
                       "score", "note", "message", "instruction", "dear", "attention", "as an ai", "you are a",
                       "system prompt", "prompt:", "system:", "this essay")
_OUT_OF_25 = re.compile(r"\b\d{1,2}\s*/\s*25\b")
_MARKING_STARTS = ("mark", "examiner", "grader", "grading", "rubric", "assessor", "ai", "chatbot", "language model",
                   "descriptor", "level", "top band", "full credit")


def _found_from(pattern: re.Pattern, text: str, starts: tuple[str, ...]) -> bool:
    """Whether ``pattern`` occurs in ``text``, for a pattern whose every match begins with one of
    ``starts``: it is tried only where those begin (str.find scans far faster than the regex engine,
    which tries every alternative at every position)."""
    for word in starts:
        i = text.find(word)
        while i != -1:
            if pattern.match(text, i):
                return True
            i = text.find(word, i + 1)
    return False


def _addresses_marker(text: str) -> bool:
    return bool(_INSTRUCTION.search(text)) or (
        len(_MARKING.findall(text)) >= 1 and len({m.group(0).lower() for m in _REQUEST.finditer(text)}) >= 2)


def instructions_to_marker(a: Analysis) -> Flag | None:
    folded = a.doc.normalised.casefold()
    if not (_found_from(_INSTRUCTION_FOLDED, folded, _INSTRUCTION_STARTS)
            or ("/" in folded and _OUT_OF_25.search(folded))
            or _found_from(_MARKING_FOLDED, folded, _MARKING_STARTS)):
        return None  # neither pattern occurs anywhere, so in no sentence or aside either
    hits = []
    for s in a.doc.sentences:
        text = a.doc.normalised[s.start:s.end]
        # parenthesised asides are read on their own: an instruction can hide inside a sentence
        parts = [text, *re.findall(r"\(([^)]{10,})\)", text)]
        if any(_addresses_marker(p) for p in parts):
            hits.append(s.index)
    if not hits:
        return None
    a.discounted.update(hits)
    return Flag("instructions_to_marker", f"{len(hits)} sentence(s) speak to the marker instead of answering "
                                          "the question (e.g. asking for marks); they earn no credit.", hits)


# -- repetition -----------------------------------------------------------------
REPEAT_SHARE = 0.55  # share of word triples a sentence shares with an earlier one to count as its repeat


def _shingles(keys: list[str], n: int = 3) -> set[tuple[str, ...]]:
    if n == 3 and len(keys) >= 3:  # the common case, built at C level
        return set(zip(keys, keys[1:], keys[2:]))
    return {tuple(keys[i:i + n]) for i in range(max(1, len(keys) - n + 1))}


def repetition(a: Analysis) -> Flag | None:
    """Sentences that repeat an earlier one (exactly or nearly) earn credit once."""
    seen: list[set] = []
    repeats = []
    index: dict[tuple, list[int]] = {}
    for i, keys in enumerate(a.keys):
        sh = _shingles(keys)
        repeat = False
        if len(keys) >= 5:
            shared_with = [j for g in sh for j in index.get(g, ())]
            if shared_with:  # (most sentences share no triple with an earlier one)
                # Every earlier sentence it shares a triple with is checked: the order of ties in
                # Counter.most_common follows the set's iteration order, which changes with the
                # process's string hashing, so checking only the first few was not deterministic.
                repeat = any(shared / max(1, min(len(sh), len(seen[j]))) >= REPEAT_SHARE
                             for j, shared in Counter(shared_with).items())
                if repeat:
                    repeats.append(i)
        seen.append(sh)
        if not repeat:
            for g in sh:
                index.setdefault(g, []).append(i)
    if not repeats:
        return None
    a.discounted.update(repeats)
    share = _share(a, repeats)
    if share < 0.08 and len(repeats) < 3:
        return None
    return Flag("repetition", f"{len(repeats)} sentence(s) ({round(100 * share)}% of the words) repeat earlier "
                              "text; repeated text is credited once.", repeats)


# -- lists of names and terms ----------------------------------------------------
def _term_count(a: Analysis, i: int) -> int:
    sig = a.signals[i]
    return len(sig.names) + len(sig.offices) + len(sig.events) + len(sig.historians)


def keyword_stuffing(a: Analysis) -> Flag | None:
    """Names and terms strung together without sentences that use them."""
    lists = []
    for i, sig in enumerate(a.signals):
        terms = _term_count(a, i)
        n = len(sig.keys)
        commas = a.doc.sentences[i].text.count(",")
        if terms >= 3 and (not sig.is_claim or (commas >= 3 and sig.function_ratio < 0.25)
                           or terms / max(1, n) > 0.6):
            lists.append(i)
        elif n >= 4 and sig.function_ratio < 0.1 and terms >= 2:
            lists.append(i)
    if not lists:
        return None
    a.discounted.update(lists)
    share = _share(a, lists)
    if share < 0.05 and len(lists) < 2 and max(_term_count(a, i) for i in lists) < 5:
        return None
    return Flag("keyword_stuffing", f"{len(lists)} passage(s) ({round(100 * share)}% of the words) list names or "
                                    "terms without using them in an argument; lists earn no credit.", lists)


# -- not prose ---------------------------------------------------------------------
_DET = {"the", "a", "an", "this", "these", "those", "his", "her", "their", "its", "my", "our", "your"}
_PREP = {"of", "to", "in", "on", "at", "by", "for", "with", "from", "into", "over", "after", "before", "during"}
_AUX = {"was", "were", "is", "are", "had", "has", "have", "did", "does", "would", "could", "should"}
_CONJ = {"and", "or", "but", "because", "so", "that", "which"}
_PRON = {"he", "she", "it", "they", "we", "i", "you"}
_BAD_NEXT = {**{w: _DET | _PREP | _AUX | _CONJ | _PRON for w in _DET},
             **{w: _PREP | _AUX | _CONJ for w in _PREP}, **{w: _DET | _PRON for w in _PRON},
             **{w: _CONJ for w in _CONJ}}


def gibberish(a: Analysis) -> Flag | None:
    """Made-up words, or real words in an order no English sentence has."""
    words = a.alpha_words
    if len(words) < 20:
        return None
    name_ok = a.lex.allowed_words
    not_names = list(filterfalse(name_ok.__contains__, words))
    unknown = (len(not_names) - sum(map(is_known, not_names))) / len(words)  # (C-level loops: is_known is memoised)
    pairs = [(x, y) for x, y in zip(words, words[1:]) if x in _BAD_NEXT]
    bad = sum(1 for x, y in pairs if y in _BAD_NEXT[x]) / max(1, len(pairs))
    if unknown > 0.45 and not _foreign(words):
        a.discounted.update(range(len(a.doc.sentences)))
        return Flag("gibberish", f"{round(100 * unknown)}% of the words are not English words.")
    if bad > 0.12 and len(pairs) >= 10:
        a.discounted.update(range(len(a.doc.sentences)))
        return Flag("gibberish", f"The words do not form sentences ({round(100 * bad)}% of word pairs are in an "
                                 "impossible order).")
    return None


_FOREIGN = {
    "french": {"le", "la", "les", "des", "est", "une", "et", "du", "que", "qui", "pour", "dans", "pas", "sur", "au"},
    "german": {"der", "die", "das", "und", "ist", "nicht", "ein", "eine", "mit", "den", "dem", "zu", "war", "auf"},
    "spanish": {"el", "los", "las", "que", "y", "en", "del", "por", "una", "con", "para", "es", "fue", "su"},
    "russian": set("и в не на что он как по был это".split()),
}
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_ENGLISH = {"the", "and", "of", "to", "was", "in", "that", "he", "his", "it", "is", "for", "with", "as", "had"}


def _foreign(words: list[str]) -> str | None:
    counts = Counter(words)
    en = sum(counts[w] for w in _ENGLISH) / len(words)
    best = max(_FOREIGN, key=lambda lang: sum(counts[w] for w in _FOREIGN[lang]))
    other = sum(counts[w] for w in _FOREIGN[best]) / len(words)
    return best if other > 0.08 and other > 2 * en else None


def non_english(a: Analysis) -> Flag | None:
    words = a.alpha_words
    if len(words) < 15:
        return None
    lang = _foreign(words)
    # (one search over all the words first: most essays have no Cyrillic letter at all)
    cyrillic = sum(1 for w in words if _CYRILLIC.search(w)) / len(words) if _CYRILLIC.search(" ".join(words)) else 0.0
    if lang or cyrillic > 0.3:
        a.discounted.update(range(len(a.doc.sentences)))
        return Flag("non_english", f"The essay is written in {('Russian' if cyrillic > 0.3 else lang.title())}, "
                                   "not English; it cannot be marked against this rubric.")
    return None


# -- the question, restated ------------------------------------------------------
def restatement(a: Analysis) -> Flag | None:
    if a.doc.n_words < a.rubric.min_words:
        return None  # too short to tell; too_short says so
    if len(a.found) > 2:
        return None  # makes points of its own (the flag needs at most two)
    q_keys = set(a.lex.keys(_question_sentence(a)))
    generic = {"why", "reason", "mani", "factor", "import", "this", "essay", "will", "look", "question", "discuss",
               "explain", "becaus", "the", "a", "an", "of", "to", "and", "in", "as", "by", "was", "did", "he", "it"}
    restating = []
    for i, keys in enumerate(a.keys):
        content = [k for k in keys if k not in generic]
        if content and sum(k in q_keys for k in content) / len(content) >= 0.6 and not a.sentence_points[i]:
            restating.append(i)
    n = len(a.keys)
    if n and len(restating) / n >= 0.5:
        a.discounted.update(restating)
        return Flag("restatement", f"{len(restating)} of {n} sentences restate the question without answering it.",
                    restating)
    return None


_QUESTIONS: dict[str, object] = {}


def _question_sentence(a: Analysis):
    from .text import analyse

    q = a.rubric.question
    if q not in _QUESTIONS:
        doc = analyse(q)
        _QUESTIONS[q] = doc.sentences[0] if doc.sentences else None
    return _QUESTIONS[q] or a.doc.sentences[0]


# -- topic and form ----------------------------------------------------------------
def too_short(a: Analysis) -> Flag | None:
    words = a.doc.n_words
    if words < a.rubric.min_words:
        return Flag("too_short", f"Only {words} words; an answer to this question needs at least "
                                 f"{a.rubric.min_words} to show its reasoning.")
    return None


def contest_sentences(a: Analysis) -> list[int]:
    """Sentences about the question's contest itself: a content point, or the rival (or both focus
    people) with who won or lost."""
    focus = a.rubric.vocabulary.focus
    rival = a.lex.name_keys.get(focus[-1].lower()) if focus else None
    return [i for i, s in enumerate(a.signals) if i not in a.discounted and (
        a.sentence_points[i] or (s.outcome and (rival in s.focus or len(s.focus) >= 2)))]


def off_topic(a: Analysis) -> Flag | None:
    """About something else: few of the question's points, and little about the contest itself."""
    n = len(a.signals)
    if n == 0 or a.doc.n_words < a.rubric.min_words:
        return None  # too short to tell what it is about; too_short says so
    found_points = a.found
    found = {p for p in found_points if any(h.sentence not in a.discounted for h in found_points[p].hits)}
    if len(found) > 2:
        return None  # makes several of the question's points
    words = max(1, a.doc.n_words)
    point_words = a.words_in(i for i in range(n) if a.sentence_points[i] and i not in a.discounted)
    off_words = a.words_in(i for i in range(n) if a.off_period[i])
    contest = len(contest_sentences(a))
    # Less than about a fifth of it is about the contest: it answers something else, even if it name-drops.
    if point_words / words < 0.25 and (contest < 2 or contest < 0.18 * n):
        off = [i for i in range(n) if a.off_period[i] or not a.relevant[i]]
        a.discounted.update(range(n))
        return Flag("off_topic", "The essay answers a different question: "
                                 f"only {len(found)} of the question's points appear, and "
                                 f"{round(100 * off_words / words)}% of it is about other topics or periods.",
                    off[:5])
    return None


def narrative_only(a: Analysis) -> Flag | None:
    prof = essay_profile(a)
    if a.doc.n_words >= 150 and prof["explain_density"] < 0.15 and (
            prof["narrative_share"] >= 0.2 or prof["why_para_share"] < 0.35) and len(a.found) >= 3:
        narr = [i for i, s in enumerate(a.signals) if s.narrative][:5]
        return Flag("narrative_only", "The essay tells the story of events but hardly explains how they "
                                      f"{a.rubric.wording.outcome}.", narr)
    return None


def no_paragraphs(a: Analysis) -> Flag | None:
    paras = [p for p in a.doc.paragraphs if p.n_words >= 12]
    if len(paras) <= 1 and a.doc.n_words > 200:
        return Flag("no_paragraphs", f"{a.doc.n_words} words in a single block with no paragraphs.")
    return None


# Order matters: text that earns no credit is set aside before topic and form are judged.
DETECTORS = [instructions_to_marker, non_english, gibberish, repetition, keyword_stuffing, restatement,
             off_topic, too_short, narrative_only, no_paragraphs]


def detect_flags(a: Analysis) -> list[Flag]:
    out = []
    for detector in DETECTORS:
        flag = detector(a)
        if flag is not None:
            out.append(flag)
        if a.discounted:
            a.drop_discounted_points()
    return out
