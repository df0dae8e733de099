"""The numbers behind each criterion: an essay's profile, computed from the analysis.

Each criterion's band is read off a handful of these measures (see
:mod:`marker.bands`). They are proportions and small counts of things the mark
scheme names (themes covered, sentences that explain, weighing with reasons),
chosen so that length alone moves none of the higher-order criteria.

Counts (``*_log``) and densities (``*_density``, ``*_share``: per claim or per
paragraph) of the same thing both appear. Where the mark scheme describes
*quality* (analysis, judgement), the band models read the densities: on the dev
corpus longer essays are also better ones, so a count there stands in for
length and marks same-length essays towards the middle.
"""
from __future__ import annotations

import math
import re

from .analysis import Analysis

COUNTER_WORDS = ("however", "although", "nevertheless", "whereas", "historians", "historian", "disagree",
                 "some argue", "debate", "yet", "on the other hand")


_CONCLUDING = re.compile(r"\W*(in conclusion|to conclude|in summary|to sum up)\b", re.I)
_INTRODUCING = re.compile(r"\bthis essay (will|is going to) (argue|explain|discuss|look at|show)\b", re.I)


def _log(x: float) -> float:
    return math.log2(1.0 + max(0.0, x))


def body_paragraphs(a: Analysis) -> list[int]:
    paras = [p.index for p in a.doc.paragraphs if p.n_words >= 12]
    return paras or [p.index for p in a.doc.paragraphs]


def rival_paragraphs(a: Analysis, paras: list[int]) -> int:
    """How many of ``paras`` deal with the rival: name them, or make a point on the rival's side.
    Every paragraph counts when the question names no rival."""
    rival = a.lex.name_keys.get(a.rubric.rival.lower()) if a.rubric.rival else None
    if rival is None:
        return len(paras)
    rival_points = a.rubric.rival_points
    return sum(1 for p in paras if any(rival in a.signals[s.index].focus
                                       or not rival_points.isdisjoint(a.sentence_points[s.index])
                                       for s in a.doc.paragraphs[p].sentences))


def linking_sentences(a: Analysis, explaining: list[int]) -> list[int]:
    """The explaining sentences that link factors: points of two themes, or a point and two causal links."""
    theme_of, sig = a.rubric.theme_of, a.signals
    return [i for i in explaining if len({theme_of(p).id for p in a.sentence_points[i]}) >= 2
            or (len(sig[i].causal) >= 2 and a.sentence_points[i])]


def essay_profile(a: Analysis) -> dict[str, float]:
    """Measures named after what they count; all finite floats.

    Remembered on the analysis until its set of discounted sentences changes (the flags read the
    profile before scoring does)."""
    key = frozenset(a.discounted)
    cached = a.__dict__.get("_profile")
    if cached is None or cached[0] != key:
        cached = a.__dict__["_profile"] = (key, _profile(a))
    return dict(cached[1])


def _profile(a: Analysis) -> dict[str, float]:
    sig, n = a.signals, len(a.signals)
    words = max(1, a.doc.n_words)
    credited = [i for i in range(n) if i not in a.discounted]
    claims = [i for i in credited if sig[i].is_claim and not a.off_period[i]]
    n_claims = max(1, len(claims))
    point_sents = [i for i in claims if a.sentence_points[i]]
    explaining = [i for i in claims if sig[i].explains and (a.sentence_points[i] or sig[i].focus)]
    deep = [i for i in explaining if a.sentence_points[i] and (sig[i].evidence_items or len(sig[i].causal) >= 2)]
    linking = linking_sentences(a, explaining)
    narrative = [i for i in claims if sig[i].narrative and not sig[i].causal]
    paras = body_paragraphs(a)
    para_sents = {p: [s.index for s in a.doc.paragraphs[p].sentences] for p in paras}
    n_paras = max(1, len(paras))
    rival_paras = rival_paragraphs(a, paras)
    explaining_set = set(explaining)
    why_paras = sum(1 for p in paras if any(i in explaining_set for i in para_sents[p]))

    # evidence
    used = [i for i in point_sents if i not in a.discounted]
    items = sum(min(4, sig[i].evidence_items) for i in used)
    precise = [i for i in used if sig[i].evidence_items >= 2 or sig[i].dates or sig[i].quotes or sig[i].historians]
    quotes = sum(len(sig[i].quotes) for i in used)
    historians = len(set().union(*[sig[i].historians for i in used])) if used else 0
    dates = sum(sig[i].dates for i in used)

    # range
    themes = [t for t in a.rubric.themes if t.counts_for_range]
    found = a.found
    covered = [t for t in themes if any(p.id in found for p in t.points)]
    sides = {p.side for t in a.rubric.themes for p in t.points if p.id in found}
    balance = a.rubric.balance(sides)
    n_points = sum(1 for t in themes for p in t.points if p.id in found)

    # luck
    luck_ids = [p.id for p in a.rubric.points if p.luck]
    luck_found = [p for p in luck_ids if p in found]
    luck_expl = [p for p in luck_found if any(sig[i].causal or sig[i].outcome for i in found[p].sentences)]
    luck_named = a.luck_named
    luck_sents = [i for i in credited if luck_named[i] and (sig[i].focus or a.sentence_points[i])]
    luck_weighed = [i for i in luck_sents if sig[i].weighing or (sig[i].judgement and sig[i].causal)]

    # judgement
    weigh = [i for i in claims if sig[i].weighing and (sig[i].focus or a.sentence_points[i] or sig[i].outcome)]
    reasoned = [i for i in weigh if sig[i].causal or a.sentence_points[i]]
    last, first = (a.doc.paragraphs[-1], a.doc.paragraphs[0]) if a.doc.paragraphs else (None, None)
    concl = [s.index for s in last.sentences] if last is not None else []
    if len(a.doc.paragraphs) <= 1:
        concl = concl[-3:]
    has_conclusion = any(sig[i].conclusion_opener or sig[i].judgement for i in concl if i not in a.discounted)
    weigh_set = set(weigh)
    early = len(a.doc.paragraphs) > 1 and any(s.index in weigh_set for s in first.sentences)
    weigh_paras = len({a.doc.sentences[i].paragraph for i in reasoned})
    counter = [i for i in claims if any(j in sig[i].judgement for j in COUNTER_WORDS)]
    # Signposts out of place ("In conclusion" mid-essay, "This essay will argue" at the end): the
    # structure of the argument is broken, as in a jumbled or pasted-together essay.
    last_para = len(a.doc.paragraphs) - 1
    misplaced = sum(1 for s in a.doc.sentences if (
        (s.paragraph < last_para and _CONCLUDING.match(s.text)) or (s.paragraph > 0 and s.paragraph == last_para
                                                                     and _INTRODUCING.search(s.text))))

    # communication
    real_paras = [p for p in a.doc.paragraphs if p.n_words >= 12]
    bullets = sum(1 for s in a.doc.sentences if s.bullet)
    long_sents = [s for s in a.doc.sentences if len(s.words) >= 3]
    mean_len = words / max(1, len(long_sents))
    lowers = [w for s in a.doc.sentences for w in s.lowers]
    ttr = len(set(lowers[:400])) / max(1, min(400, len(lowers)))
    mean_word = sum(map(len, lowers)) / max(1, len(lowers))

    return {
        "words_log": _log(words),
        "claims_log": _log(len(claims)),
        "point_share": a.words_in(point_sents) / words,
        "off_share": a.words_in(i for i in range(n) if a.off_period[i]) / words,
        "discounted_share": a.words_in(a.discounted) / words,
        "why_para_share": why_paras / n_paras,
        "rival_para_share": rival_paras / n_paras,
        "points_found": float(len(found)),
        "explain_density": len(explaining) / n_claims,
        "deep_density": len(deep) / n_claims,
        "linking_log": _log(len(linking)),
        "linking_density": len(linking) / n_claims,
        "narrative_share": len(narrative) / n_claims,
        "evidence_items_log": _log(items),
        "evidence_per_point": items / max(1, len(used)),
        "precise_share": len(precise) / max(1, len(used)),
        "quotes": float(min(3, quotes)),
        "historians": float(min(3, historians)),
        "dates_log": _log(dates),
        # distinct errors: the same mistake repeated is one misconception, not several
        "factual_errors": float(min(3, len({e.check for e in a.factual_errors if not e.minor}))),
        "themes_share": len(covered) / max(1, len(themes)),
        "balance": balance / 3,
        "points_log": _log(n_points),
        "luck_found": float(len(luck_found)),
        "luck_explained": float(len(luck_expl)),
        "luck_named": float(min(3, len(luck_sents))),
        "luck_weighed": float(min(2, len(luck_weighed))),
        "has_conclusion": float(has_conclusion),
        "reasoned_weighing_log": _log(len(reasoned)),
        "reasoned_weighing_density": len(reasoned) / n_claims,
        "weighing_paras": float(min(4, weigh_paras)),
        "early_judgement": float(early),
        "counter_log": _log(len(counter)),
        "counter_density": len(counter) / n_claims,
        "misplaced_signposts": float(min(3, misplaced)),
        "paragraphs_ok": float(min(5, len(real_paras))) / 5,
        "bullets": float(bullets >= 3),
        "spelling_rate": 100 * len(a.spelling_errors) / words,
        "mean_sentence_len": mean_len,
        "chatty": float(min(3, sum(1 for s in sig if s.chatty))),
        "type_token": ttr,
        "mean_word_len": mean_word,
    }
