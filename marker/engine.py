"""mark() and mark_many(): text in, MarkResult out."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from . import __version__
from .analysis import Analysis, analyse_essay
from .feedback import build_feedback
from .flags import Flag, contest_sentences, detect_flags
from .ingest import EssayText, IngestFailure
from .result import CriterionResult, MarkResult, PointResult, Span
from .rubric import Rubric, load_rubric
from .bands import describe, labels_for, load_band_model
from .profile import essay_profile
from .score import SCORERS, CriterionScore, _clip, fit_level

REVIEW_BELOW = 0.55  # confidence under which a result goes to the teacher's review queue
BORDERLINE = 0.5  # a fit within this many marks of a level boundary goes to review too
PARALLEL_FROM = 48  # batches at least this large are marked over several processes


def _rubric(rubric: Rubric | str | None) -> Rubric:
    if rubric is None:
        return load_rubric()
    return rubric if isinstance(rubric, Rubric) else load_rubric(rubric)


def _span(a: Analysis, i: int, note: str = "") -> Span:
    s = a.doc.sentences[i]
    return Span(s.start, s.end, s.text, tuple(sorted(a.sentence_points[i])), note)


# Flags whose sentences are pasted-in text that earns nothing: the essay is marked as if they were not there.
BLANKED = {"instructions_to_marker", "repetition", "keyword_stuffing"}


def _without_uncreditable_text(a: Analysis, text: str, flags: list[Flag], rub: Rubric,
                               use_similarity: bool) -> Analysis:
    """Re-read the essay with repeats, lists and words to the marker blanked out (spaces keep every
    offset valid), so such text can neither earn credit nor shift the measures of the rest."""
    blank = sorted({i for f in flags if f.id in BLANKED for i in f.sentences} | (
        a.discounted if any(f.id in BLANKED for f in flags) else set()))
    if not blank or {f.id for f in flags} & {"off_topic", "gibberish", "non_english"}:
        return a
    chars = list(text)
    for i in blank:
        s = a.doc.sentences[i]
        chars[s.start:s.end] = [c if c == "\n" else " " for c in text[s.start:s.end]]
    cleaned = analyse_essay("".join(chars), rub, use_similarity=use_similarity)
    cleaned.doc.text = text  # spans still quote the essay as written
    detect_flags(cleaned)  # discount anything left in the cleaned text too
    return cleaned


def _apply_flags(scores: dict[str, CriterionScore], flags: list[Flag]) -> None:
    """What the mark scheme says flagged essays earn, beyond the discounted sentences."""
    ids = {f.id for f in flags}
    if "off_topic" in ids:
        for cid in ("relevance", "evidence", "range", "luck", "analysis", "judgement"):
            if cid in scores:
                scores[cid].score = min(scores[cid].score, 0.4)
                scores[cid].reasons.append("capped: the essay answers a different question")


def _apply_structure(scores: dict[str, CriterionScore], profile: dict[str, float]) -> None:
    """Signposts out of place mean the argument's structure is broken: judgement is not sustained and
    the essay is hard to follow. (No marked essay in the dev corpus has this, so no band model can learn it.)"""
    misplaced = profile.get("misplaced_signposts", 0.0)
    if misplaced:
        for cid, per in (("judgement", 0.5), ("communication", 0.7), ("analysis", 0.3)):
            if cid in scores:
                scores[cid].score = _clip(scores[cid].score - per * misplaced)
                scores[cid].reasons.append(f"{int(misplaced)} signpost(s) out of place (e.g. a conclusion "
                                           "before the end): the argument's structure is broken")


def _confidence(a: Analysis, scores: dict[str, CriterionScore], fit, flags: list[Flag]) -> tuple[float, list[str]]:
    reasons = []
    conf = 0.9
    unsure_points = [p.id for p in a.points if 0.4 <= p.confidence < 0.65]
    if unsure_points:
        conf -= 0.03 * min(5, len(unsure_points))
    near = [cid for cid, s in scores.items() if abs(s.score - round(s.score)) > 0.35]
    conf -= 0.02 * len(near)
    if fit.boundary_distance < BORDERLINE:
        conf -= 0.15
        reasons.append(f"borderline between two levels (the fit lands {fit.continuous_mark:.1f})")
    if fit.capped_by:
        conf -= 0.1
        reasons.append("mark limited by a mark-scheme ceiling: " + "; ".join(fit.capped_by))
    for f in flags:
        conf -= 0.15
        reasons.append(f"flagged {f.id}: {f.reason}")
    if unsure_points:
        reasons.append("unsure whether these points are made: " + ", ".join(unsure_points))
    conf = max(0.05, min(0.99, conf))
    if conf < REVIEW_BELOW and not any(r.startswith("low confidence") for r in reasons):
        reasons.insert(0, f"low confidence ({conf:.2f})")
    return conf, reasons


def mark(text: str, rubric: Rubric | str | None = None, essay: str = "pasted", *,
         use_similarity: bool = True) -> MarkResult:
    """Mark one essay against a rubric (an id, a path, or a loaded Rubric)."""
    with _one_blas_thread():
        return _mark(text, _rubric(rubric), essay, use_similarity)


_BLAS: object | None = None


def _one_blas_thread():
    """A context in which BLAS uses one thread. Marking multiplies small matrices (an essay's
    sentences by the rubric's reference sentences): extra BLAS threads only spin, and on a busy
    machine they more than double the time per essay. The controller is built once (building it
    scans the loaded libraries); entering its limit costs microseconds."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")  # type: ignore[attr-defined]


def _mark(text: str, rub: Rubric, essay: str, use_similarity: bool) -> MarkResult:
    a = analyse_essay(text, rub, use_similarity=use_similarity)
    flags = detect_flags(a)
    flagged = a  # flag sentences index this reading
    a = _without_uncreditable_text(a, text, flags, rub, use_similarity)
    scores = {c.id: SCORERS[c.id](a) if c.id in SCORERS else CriterionScore(c.id, 0.0, [], ["no scorer"])
              for c in rub.criteria}
    profile = essay_profile(a)
    labels = labels_for(rub)
    for cid, model in load_band_model().items():
        if cid in scores:
            value, contribs = model.score(profile)
            scores[cid].score = _clip(value)
            note = describe(contribs, labels=labels)
            if note:
                scores[cid].reasons.append(note)
    rel = scores.get("relevance")
    if rel and rel.band == 0 and not flags and len(contest_sentences(a)) >= 2:
        # Weak, but about the question: the mark scheme's band 1 ("the struggle appears in passing").
        rel.score = 0.6
        rel.reasons.append("raised to band 1: some sentences are about the contest itself")
    if rel and rel.band == 0 and a.doc.n_words >= rub.min_words and not flags:
        # Nothing in it answers the question: say so, rather than give 0 without a reason.
        flags.append(Flag("off_topic", "Nothing in the essay answers the question: "
                                       f"\u201c{rub.question}\u201d", []))
    _apply_flags(scores, flags)
    _apply_structure(scores, profile)
    bands = {cid: s.band for cid, s in scores.items()}
    fit = fit_level(rub, {cid: s.score for cid, s in scores.items()}, bands)
    if not a.found and a.doc.n_words and {"off_topic"} & {f.id for f in flags}:
        fit.mark, fit.level = 0, rub.level_for_mark(0)
    conf, review_reasons = _confidence(a, scores, fit, flags)
    items = build_feedback(a, scores, [f.id for f in flags])

    errors = sorted(a.factual_errors, key=lambda e: e.minor)  # false statements before contested ones
    criteria = []
    for c in rub.criteria:
        s = scores[c.id]
        reasons = list(s.reasons)
        wrong = {e.sentence: _error_note(e) for e in errors} if c.id == "evidence" else {}
        evidence = [_span(a, i, wrong.get(i) or s.notes.get(i, "")) for i in s.spans]
        if wrong:
            # Errors lower the evidence band (a measure its band model reads); cite them there.
            false = {e.check: e.correction for e in errors if not e.minor}  # each distinct error once
            if false:
                reasons.append(f"{len(false)} factual error(s): " + " ".join(list(false.values())[:3]))
            contested = {e.check for e in errors if e.minor}
            if contested:
                reasons.append(f"{len(contested)} contested claim(s) stated as fact (not counted against the band)")
            evidence += [_span(a, i, wrong[i]) for i in sorted(set(wrong) - set(s.spans))]
        criteria.append(CriterionResult(
            id=c.id, band=s.band, max_band=4, feedback=c.feedback[s.band],
            evidence=evidence, reasons=reasons, score=s.score))
    points = []
    for p in a.points:
        spans = [(a.doc.sentences[i].start, a.doc.sentences[i].end) for i in p.sentences]
        how = next((h.how for h in p.hits if h.confidence == p.confidence), "")
        points.append(PointResult(p.id, p.found, p.confidence, spans, p.explicit, how))
    words = a.doc.n_words
    result = MarkResult(
        essay=essay, rubric=rub.id, rubric_version=rub.version, marker_version=__version__,
        mark=fit.mark, max_mark=rub.max_mark, level=fit.level, confidence=conf,
        needs_review=bool(flags) or conf < REVIEW_BELOW or fit.boundary_distance < BORDERLINE, review_reasons=review_reasons,
        criteria=criteria, points=points,
        flags=[f.id for f in flags], flag_reasons={f.id: f.reason for f in flags},
        flag_spans={f.id: [_span(flagged, i) for i in f.sentences if i < len(flagged.doc.sentences)]
                    for f in flags},
        feedback={"strengths": [i.text for i in items if i.kind == "strength"],
                  "targets": [i.text for i in items if i.kind == "target"]},
        stats={"words": words, "sentences": len(a.doc.sentences), "paragraphs": len(a.doc.paragraphs),
               "spelling_errors": len(a.spelling_errors), "points_found": len(a.found),
               "continuous_mark": round(fit.continuous_mark, 2)},
    )
    result.feedback_items = [i.to_dict(a) for i in items]
    result.factual_errors = [
        {**_span(a, e.sentence).to_dict(), "check": e.check, "correction": e.correction, "point": e.point,
         "minor": e.minor}
        for e in errors]
    return result


def _error_note(e) -> str:
    return "contested claim stated as fact" if e.minor else "factual error"


@dataclass
class BatchResult:
    results: list[MarkResult]
    failures: list[IngestFailure] = field(default_factory=list)
    similar_pairs: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"results": [r.to_dict() for r in self.results],
                "failures": [{"name": f.name, "reason": f.reason} for f in self.failures],
                "similar_pairs": list(self.similar_pairs)}


def _mark_one(name: str, text: str, rub: Rubric) -> MarkResult | IngestFailure:
    try:
        return mark(text, rub, essay=name)
    except Exception as exc:  # one bad essay must not lose the batch
        return IngestFailure(name, f"could not be marked: {type(exc).__name__}: {exc}")


_WORKER_RUBRIC: Rubric | None = None


def _init_worker(rub: Rubric) -> None:
    """Each worker process receives the rubric once, not with every essay."""
    global _WORKER_RUBRIC
    _WORKER_RUBRIC = rub


def _mark_in_worker(item: tuple[str, str]) -> MarkResult | IngestFailure:
    return _mark_one(item[0], item[1], _WORKER_RUBRIC)


def iter_mark(essays: Sequence[EssayText | tuple[str, str]], rubric: Rubric | str | None = None, *,
              processes: int | None = None) -> Iterator[MarkResult | IngestFailure]:
    """Mark essays one by one, in order, yielding each result (or failure) as soon as it is ready.

    For large jobs (10,000 essays) this keeps memory flat: results can be written out as they come.
    Batches of ``PARALLEL_FROM`` or more run over several processes.
    """
    rub = _rubric(rubric)
    items = [(e.name, e.text) if isinstance(e, EssayText) else (e[0], e[1]) for e in essays]
    if processes is None:
        processes = min(os.cpu_count() or 1, 4) if len(items) >= PARALLEL_FROM else 1
    if processes > 1:
        with ProcessPoolExecutor(max_workers=processes, initializer=_init_worker, initargs=(rub,)) as pool:
            yield from pool.map(_mark_in_worker, items, chunksize=max(1, min(32, len(items) // (processes * 8))))
    else:
        for name, text in items:
            yield _mark_one(name, text, rub)


def mark_many(essays: Iterable[EssayText | tuple[str, str]], rubric: Rubric | str | None = None, *,
              processes: int | None = None,
              progress: Callable[[int, int, str], None] | None = None) -> BatchResult:
    """Mark a class set. Large batches run over several processes; order is kept.

    An essay that cannot be marked becomes a failure with its name and reason;
    the rest are still marked. Pairs of essays sharing much of their text are
    reported in ``similar_pairs`` and on each result's ``similar_to``.
    """
    from .similarity import similar_pairs

    items = [(e.name, e.text) if isinstance(e, EssayText) else (e[0], e[1]) for e in essays]
    total = len(items)
    outputs: list[MarkResult | IngestFailure] = []
    for done, out in enumerate(iter_mark(items, rubric, processes=processes), 1):
        outputs.append(out)
        if progress:
            progress(done, total, items[done - 1][0])
    results = [o for o in outputs if isinstance(o, MarkResult)]
    failures = [o for o in outputs if isinstance(o, IngestFailure)]
    texts = {n: t for n, t in items}
    pairs = similar_pairs([(r.essay, texts[r.essay]) for r in results])
    by_name = {r.essay: r for r in results}
    for pair in pairs:
        by_name[pair["a"]].similar_to.append({"essay": pair["b"], "overlap": pair["overlap"]})
        by_name[pair["b"]].similar_to.append({"essay": pair["a"], "overlap": pair["overlap"]})
    for pair in pairs:
        for name in (pair["a"], pair["b"]):
            other = pair["b"] if name == pair["a"] else pair["a"]
            by_name[name].needs_review = True
            by_name[name].review_reasons.append(f"shares {round(100 * pair['overlap'])}% of its text with {other}")
    return BatchResult(results, failures, pairs)
