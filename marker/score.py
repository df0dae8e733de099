"""Criterion bands, level and mark.

Each criterion scorer reads the :class:`~marker.analysis.Analysis` and returns a
continuous score on the 0-4 band scale, the sentences that earned it, and the
reasons in words. The mark scheme's descriptors are the specification: e.g.
range counts themes and balance, analysis measures how much of the essay
explains rather than narrates, judgement looks for weighing backed by reasons
and for where in the essay it happens.

The level is then chosen by *best fit* against the rubric's level profiles
(typical criterion bands of an essay at each level, weighted by the rubric's
criterion weights), the mark placed within the level by how far the essay sits
between neighbouring profiles, and the mark scheme's ceilings applied
(single-factor answers, narrative, no judgement).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .analysis import Analysis
from .profile import body_paragraphs as _body_paragraphs, linking_sentences, rival_paragraphs
from .rubric import Rubric


@dataclass
class CriterionScore:
    id: str
    score: float
    spans: list[int] = field(default_factory=list)  # sentence indexes
    reasons: list[str] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)  # sentence -> why cited

    @property
    def band(self) -> int:
        return int(min(4, max(0, math.floor(self.score + 0.5))))


def _clip(x: float) -> float:
    return max(0.0, min(4.0, x))


def _credited(a: Analysis, i: int) -> bool:
    return i not in a.discounted


# -- relevance ---------------------------------------------------------------
def score_relevance(a: Analysis) -> CriterionScore:
    sig, n = a.signals, len(a.signals)
    words = max(1, a.doc.n_words)
    rel = [i for i in range(n) if a.relevant[i] and _credited(a, i)]
    off = [i for i in range(n) if a.off_period[i]]
    with_points = [i for i in rel if a.sentence_points[i]]
    rel_share = a.words_in(rel) / words
    point_share = a.words_in(with_points) / words
    off_share = a.words_in(off) / words
    paras = _body_paragraphs(a)
    para_sents = {p: [s.index for s in a.doc.paragraphs[p].sentences] for p in paras}
    rival_paras = rival_paragraphs(a, paras)
    why_paras = sum(1 for p in paras if any(sig[i].explains and _credited(a, i) for i in para_sents[p]))
    n_found = len(a.found)
    if n_found == 0 and not rel:
        return CriterionScore("relevance", 0.0, [], ["Nothing in the essay is about the question."])
    score = (1.2 * min(1.0, point_share / 0.55) + 1.0 * why_paras / max(1, len(paras))
             + 0.8 * min(1.0, rival_paras / max(1, len(paras)) / 0.5) + 0.6 * min(1.0, rel_share / 0.8)
             + 0.4 * min(1.0, n_found / 8))
    score -= 4.0 * max(0.0, off_share - 0.05)
    if n_found <= 1:
        score = min(score, 1.4)
    reasons = [f"{round(100 * point_share)}% of the essay makes points about the question",
               f"{why_paras} of {len(paras)} paragraphs explain why",
               f"{rival_paras} of {len(paras)} paragraphs deal with {a.rubric.rival or 'the rival'}"]
    if off:
        reasons.append(f"{round(100 * off_share)}% is off the question or outside the period")
    cited = sorted(with_points, key=lambda i: (not sig[i].explains, i))[:6]
    notes = {i: "on the question" for i in cited}
    for i in off[:3]:
        notes[i] = "off the question / outside the period"
    return CriterionScore("relevance", _clip(score), sorted(notes), reasons, notes)


# -- evidence ----------------------------------------------------------------
def score_evidence(a: Analysis) -> CriterionScore:
    sig = a.signals
    used = [i for i in range(len(sig)) if a.sentence_points[i] and sig[i].is_claim and _credited(a, i)
            and not a.off_period[i]]
    items = sum(min(4, sig[i].evidence_items) for i in used)
    precise = [i for i in used if sig[i].evidence_items >= 2 or sig[i].dates or sig[i].quotes or sig[i].historians]
    quotes = sum(len(sig[i].quotes) for i in used)
    historians = len(set().union(*[sig[i].historians for i in used])) if used else 0
    dates = sum(sig[i].dates for i in used)
    if not used:
        return CriterionScore("evidence", 0.0, [], ["No factual detail is used to support a point."])
    share = len(precise) / len(used)
    score = (1.0 + 1.1 * math.log2(1 + items) / math.log2(1 + 24) * 2.2 * (0.6 + 0.4 * share)
             + 0.25 * min(2, quotes) + 0.25 * min(2, historians) + 0.15 * min(3, dates))
    if len(a.found) <= 2:
        score = min(score, 1.6)
    reasons = [f"{items} precise details (dates, offices, events, figures, quotations) in {len(used)} sentences "
               f"that make points", f"{len(precise)} sentences carry precise support"]
    if quotes:
        reasons.append(f"{quotes} quotation(s)")
    if historians:
        reasons.append(f"{historians} historian(s) cited")
    cited = sorted(used, key=lambda i: -sig[i].evidence_items)[:6]
    return CriterionScore("evidence", _clip(score), sorted(cited), reasons,
                          {i: "precise detail" for i in cited})


# -- range -------------------------------------------------------------------
def score_range(a: Analysis) -> CriterionScore:
    themes = {t.id: t for t in a.rubric.themes if t.counts_for_range}
    covered = {tid: pts for tid, pts in a.theme_points().items() if tid in themes and pts}
    found = a.found
    sides = {p.side for t in a.rubric.themes for p in t.points if p.id in found}
    n_points = sum(1 for p in found if a.rubric.theme_of(p).id in themes)
    if not themes:
        return CriterionScore("range", 0.0, [], ["The rubric lists no themes."])
    frac = len(covered) / len(themes)
    balance = a.rubric.balance(sides)
    score = 4.2 * frac * (0.75 + 0.25 * balance / 3) + 0.5 * min(1.0, n_points / 12) - 0.3
    if n_points <= 1:
        score = min(score, 1.0)
    missing = [themes[t].label for t in themes if t not in covered]
    reasons = [f"{len(covered)} of {len(themes)} themes covered ({n_points} points)"]
    if a.rubric.balance_sides:
        reasons.append(f"balance: {', '.join(sorted(sides & set(a.rubric.balance_sides))) or 'none'}")
    if missing:
        reasons.append("not covered: " + "; ".join(missing))
    firsts = sorted({found[p].sentences[0] for pts in covered.values() for p in pts if found[p].sentences})
    return CriterionScore("range", _clip(score), firsts[:8], reasons, {i: "a factor" for i in firsts[:8]})


# -- luck --------------------------------------------------------------------
def score_luck(a: Analysis) -> CriterionScore:
    luck_ids = {p.id for p in a.rubric.points if p.luck}
    if not luck_ids:
        return CriterionScore("luck", 0.0, [], ["The rubric has no luck points."])
    sig = a.signals
    found_points = a.found
    found = [p for p in luck_ids if p in found_points]
    luck_named = a.luck_named
    luck_sents = [i for i in range(len(sig)) if luck_named[i] and (sig[i].focus or a.sentence_points[i])]
    explained = {p for p in found if any(sig[i].causal or sig[i].outcome for i in found_points[p].sentences)}
    weighed = [i for i in luck_sents if sig[i].weighing or (sig[i].judgement and sig[i].causal)]
    if not found and not luck_sents:
        return CriterionScore("luck", 0.0, [], ["Luck, chance and timing are not discussed."])
    score = 0.6 + 0.55 * len(explained) + 0.2 * (len(found) - len(explained)) + 0.35 * min(2, len(luck_sents)) \
        + 0.5 * min(2, len(weighed))
    if not found:
        score = min(score, 1.0)
    reasons = [f"{len(found)} luck factor(s) found, {len(explained)} explained"]
    if luck_sents:
        reasons.append(f"luck named as such in {len(luck_sents)} sentence(s)")
    if weighed:
        reasons.append("luck is weighed against other factors")
    cited = sorted({found_points[p].sentences[0] for p in found if found_points[p].sentences} | set(weighed))
    return CriterionScore("luck", _clip(score), cited[:6], reasons, {i: "luck / contingency" for i in cited[:6]})


# -- analysis ----------------------------------------------------------------
def score_analysis(a: Analysis) -> CriterionScore:
    sig = a.signals
    claims = [i for i in range(len(sig)) if sig[i].is_claim and _credited(a, i) and not a.off_period[i]]
    if not claims:
        return CriterionScore("analysis", 0.0, [], ["No explanation of causes."])
    explaining = [i for i in claims if sig[i].explains and (a.sentence_points[i] or sig[i].focus)]
    linking = linking_sentences(a, explaining)
    narrative = [i for i in claims if sig[i].narrative and not sig[i].causal]
    paras = _body_paragraphs(a)
    explaining_set = set(explaining)
    para_expl = sum(1 for p in paras if any(s.index in explaining_set for s in a.doc.paragraphs[p].sentences))
    density = len(explaining) / len(claims)
    para_share = para_expl / max(1, len(paras))
    narr_share = len(narrative) / len(claims)
    score = 0.5 + 2.0 * min(1.0, density / 0.5) + 1.2 * para_share + 0.5 * min(1.0, len(linking) / 4) \
        - 1.5 * max(0.0, narr_share - 0.15)
    if not explaining:
        score = min(score, 1.0)
    reasons = [f"{len(explaining)} of {len(claims)} sentences explain how a factor {a.rubric.wording.outcome}",
               f"{para_expl} of {len(paras)} paragraphs contain explanation"]
    if linking:
        reasons.append(f"{len(linking)} sentence(s) link factors together")
    if narr_share > 0.15:
        reasons.append(f"{round(100 * narr_share)}% of sentences narrate events without explaining them")
    cited = sorted(explaining, key=lambda i: (i not in linking, i))[:6]
    notes = {i: "explains a cause" for i in cited}
    for i in linking[:2]:
        notes[i] = "links factors"
    return CriterionScore("analysis", _clip(score), sorted(notes), reasons, notes)


# -- judgement ---------------------------------------------------------------
def score_judgement(a: Analysis) -> CriterionScore:
    sig = a.signals
    paras = a.doc.paragraphs
    if not paras:
        return CriterionScore("judgement", 0.0, [], ["No conclusion or judgement."])
    credited = [i for i in range(len(sig)) if _credited(a, i) and sig[i].is_claim]
    weigh = [i for i in credited if sig[i].weighing and (sig[i].focus or a.sentence_points[i] or sig[i].outcome)]
    reasoned = [i for i in weigh if sig[i].causal or len(a.sentence_points[i]) >= 1]
    last = paras[-1]
    first = paras[0]
    credited_set, weigh_set = set(credited), set(weigh)
    concl = [s.index for s in last.sentences if s.index in credited_set] if len(paras) > 1 else \
        [s.index for s in last.sentences[-3:] if s.index in credited_set]
    has_conclusion = any(sig[i].conclusion_opener or sig[i].judgement for i in concl)
    early = any(i in weigh_set for i in [s.index for s in first.sentences]) and len(paras) > 1
    weigh_paras = len({sig_i_para(a, i) for i in weigh})
    counter = [i for i in credited if any(j in sig[i].judgement for j in ("however", "although", "nevertheless",
                                                                          "whereas", "historians", "historian",
                                                                          "disagree", "some argue", "debate"))]
    if not weigh and not has_conclusion:
        return CriterionScore("judgement", 0.0 if len(a.found) == 0 else 0.5, [],
                          ["No judgement on which factors mattered most."])
    score = 0.8 * has_conclusion + 0.45 * min(3, len(reasoned)) + 0.25 * min(4, len(weigh)) \
        + 0.5 * early + 0.35 * min(3, weigh_paras) + 0.15 * min(3, len(counter))
    if not reasoned:
        score = min(score, 1.2)
    reasons = []
    reasons.append("a conclusion gives a judgement" if has_conclusion else "no clear conclusion")
    reasons.append(f"{len(reasoned)} sentence(s) weigh factors with reasons, in {weigh_paras} paragraph(s)")
    if early:
        reasons.append("the line of argument is set out at the start")
    cited = sorted(set(reasoned[:4]) | set(weigh[:2]) | ({concl[-1]} if has_conclusion and concl else set()))
    return CriterionScore("judgement", _clip(score), cited, reasons, {i: "judgement" for i in cited})


def sig_i_para(a: Analysis, i: int) -> int:
    return a.doc.sentences[i].paragraph


# -- communication -----------------------------------------------------------
def score_communication(a: Analysis) -> CriterionScore:
    doc = a.doc
    words = doc.n_words
    if words == 0:
        return CriterionScore("communication", 0.0, [], ["Nothing written."])
    paras = [p for p in doc.paragraphs if p.n_words >= 12]
    bullets = sum(1 for s in doc.sentences if s.bullet)
    err_rate = len(a.spelling_errors) / words
    sentences = [s for s in doc.sentences if len(s.words) >= 3]
    mean_len = words / max(1, len(sentences))
    chatty = sum(1 for s in a.signals if s.chatty)
    score = 3.3
    if len(paras) <= 1 and words > 150:
        score -= 1.6
    elif len(paras) == 2 and words > 300:
        score -= 0.6
    if bullets >= 3:
        score -= 1.2
    score -= min(2.0, max(0.0, err_rate - 0.004) * 60)
    if mean_len > 40 or mean_len < 7:
        score -= 0.6
    score -= 0.3 * min(2, chatty)
    if len(paras) >= 4 and err_rate < 0.006 and any(s.judgement for s in a.signals[:3]) and bullets < 3:
        score += 0.6
    reasons = [f"{len(paras)} paragraph(s)", f"{len(a.spelling_errors)} spelling error(s) in {words} words",
               f"average sentence length {mean_len:.0f} words"]
    if bullets >= 3:
        reasons.append("written as bullet points or notes")
    return CriterionScore("communication", _clip(score), [], reasons, {})


SCORERS = {
    "relevance": score_relevance, "evidence": score_evidence, "range": score_range, "luck": score_luck,
    "analysis": score_analysis, "judgement": score_judgement, "communication": score_communication,
}


# -- level and mark ----------------------------------------------------------
@dataclass
class LevelFit:
    level: int
    mark: int
    continuous_mark: float
    capped_by: list[str]
    boundary_distance: float  # marks from the nearest level boundary of the continuous mark


def fit_level(rubric: Rubric, scores: dict[str, float], bands: dict[str, int]) -> LevelFit:
    """Best fit of the criterion scores to the rubric's level profiles, then ceilings."""
    levels = sorted(rubric.levels, key=lambda lv: lv.level)
    weights = {c.id: c.weight for c in rubric.criteria}
    profiled = [lv for lv in levels if lv.profile]

    def quality(bandset: dict[str, float]) -> float:
        ws = [(weights.get(c, 0.0), v) for c, v in bandset.items() if weights.get(c, 0.0) > 0]
        tot = sum(w for w, _ in ws)
        return sum(w * v for w, v in ws) / tot if tot else 0.0

    if len(profiled) >= 2:
        crits = [c for c in profiled[-1].profile if weights.get(c, 0.0) > 0]
        q = quality({c: scores.get(c, 0.0) for c in crits})
        anchors = [(quality({c: lv.profile.get(c, 0.0) for c in crits}), (lv.min + lv.max) / 2) for lv in profiled]
        # Stretch the end anchors to the ends of the mark range: the best answers get full marks.
        anchors[0] = (anchors[0][0], float(levels[0].min))
        anchors.append((4.0, float(rubric.max_mark)))
        anchors.sort()
        cont = _interpolate(q, anchors)
    else:  # no profiles: the mean band scales the mark range
        cont = rubric.max_mark * sum(scores.values()) / (4 * max(1, len(scores)))
    mark = int(max(levels[0].min, min(rubric.max_mark, math.floor(cont + 0.5))))
    if mark == levels[0].min and len(levels) > 1 and scores.get("relevance", 1.0) >= 0.5:
        mark = levels[1].min  # something relevant is worth more than nothing
    level = rubric.level_for_mark(mark)
    capped = []
    for cap in rubric.caps:
        if bands.get(cap.criterion, 4) <= cap.at_most and level > cap.max_level:
            level = cap.max_level
            top = next(lv for lv in levels if lv.level == level)
            mark = min(mark, top.max)
            capped.append(cap.reason)
    bounds = [lv.min - 0.5 for lv in levels[1:]]
    dist = min((abs(cont - b) for b in bounds), default=99.0)
    return LevelFit(level, mark, cont, capped, dist)


def _interpolate(x: float, pts: list[tuple[float, float]]) -> float:
    if x <= pts[0][0]:
        return pts[0][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 > x0 else y1
    return pts[-1][1]
