"""Band models: from an essay's profile (see :mod:`marker.profile`) to a 0-4 score per criterion.

Each criterion reads a few named measures through a linear map (standardised
measures, ridge-regularised weights) fitted on marked essays by
``scripts/fit_band_model.py`` and shipped as ``marker/data/band_model.json``.
The measures are rubric-relative (share of themes covered, share of sentences
that explain), so the same map serves any rubric; a rubric may ship its own.

Every band stays explainable: the result lists the measures that moved the
score most (``contributions``), and the criterion's scorer in
:mod:`marker.score` supplies the sentences that earned it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parent / "data" / "band_model.json"

# The measures each criterion is read from: what the mark scheme says it looks at.
FEATURES: dict[str, list[str]] = {
    "relevance": ["point_share", "why_para_share", "rival_para_share", "off_share", "points_log",
                  "explain_density", "deep_density"],
    "evidence": ["evidence_items_log", "evidence_per_point", "precise_share", "quotes", "historians", "dates_log",
                 "points_log", "factual_errors"],
    "range": ["themes_share", "balance", "points_log", "luck_found"],
    "luck": ["luck_found", "luck_explained", "luck_named", "luck_weighed"],
    # Analysis and judgement are about the quality of the argument, so they read densities (per claim), not
    # counts: a count of explaining or weighing sentences grows with length, and an essay full of facts
    # that only tells the story stays low however many points it names.
    "analysis": ["explain_density", "deep_density", "linking_density", "narrative_share", "why_para_share",
                 "evidence_per_point", "mean_word_len"],
    "judgement": ["has_conclusion", "reasoned_weighing_density", "weighing_paras", "early_judgement",
                  "counter_density", "linking_density", "mean_sentence_len"],
    "communication": ["paragraphs_ok", "bullets", "spelling_rate", "mean_sentence_len", "chatty", "type_token",
                      "mean_word_len"],
}

LABELS = {
    "point_share": "share of the essay making points", "why_para_share": "paragraphs that explain why",
    "rival_para_share": "paragraphs dealing with the rival", "off_share": "off-topic or out-of-period text",
    "points_log": "content points made", "explain_density": "sentences that explain causes",
    "deep_density": "explanations backed by detail", "evidence_items_log": "precise details",
    "evidence_per_point": "detail per point", "precise_share": "points with precise support",
    "quotes": "quotations", "historians": "historians cited", "dates_log": "exact dates",
    "factual_errors": "factual errors",
    "themes_share": "themes covered", "balance": "balance of the sides of the argument",
    "luck_found": "luck factors", "luck_explained": "luck factors explained", "luck_named": "luck named as such",
    "luck_weighed": "luck weighed", "linking_log": "links between factors",
    "linking_density": "links between factors", "narrative_share": "narrative sentences",
    "mean_word_len": "precision of vocabulary", "has_conclusion": "a concluding judgement",
    "reasoned_weighing_log": "weighing with reasons", "reasoned_weighing_density": "weighing with reasons",
    "weighing_paras": "paragraphs that weigh factors", "early_judgement": "argument set out early",
    "counter_log": "counter-arguments", "counter_density": "counter-arguments", "mean_sentence_len":
    "sentence length", "paragraphs_ok": "paragraphing", "bullets": "bullet points", "spelling_rate":
    "spelling errors per 100 words", "chatty": "informal register", "type_token": "variety of vocabulary",
}


@dataclass(frozen=True)
class LinearBand:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def score(self, profile: dict[str, float]) -> tuple[float, list[tuple[str, float]]]:
        contribs = []
        total = self.intercept
        for f, mu, sd, w in zip(self.features, self.mean, self.scale, self.coef):
            c = w * (profile.get(f, mu) - mu) / sd
            total += c
            contribs.append((f, c))
        contribs.sort(key=lambda x: -abs(x[1]))
        return total, contribs


@lru_cache(maxsize=4)
def load_band_model(path: str = str(DEFAULT_MODEL)) -> dict[str, LinearBand]:
    p = Path(path)
    if not p.is_file():
        return {}
    data = json.loads(p.read_text(encoding="utf-8"))
    return {c: LinearBand(tuple(m["features"]), tuple(m["mean"]), tuple(m["scale"]), tuple(m["coef"]),
                          float(m["intercept"])) for c, m in data["criteria"].items()}


def labels_for(rubric) -> dict[str, str]:
    """``LABELS`` in the words of a rubric: its rival and the sides a balanced answer covers."""
    out = dict(LABELS)
    if rubric.rival:
        out["rival_para_share"] = f"paragraphs dealing with {rubric.rival}"
    if rubric.balance_sides:
        out["balance"] = f"balance of {rubric.balance_label()}"
    return out


def describe(contribs: list[tuple[str, float]], n: int = 3, labels: dict[str, str] = LABELS) -> str:
    parts = [f"{labels.get(f, f)} ({'+' if c >= 0 else '-'})" for f, c in contribs[:n] if abs(c) >= 0.05]
    return "most weight: " + ", ".join(parts) if parts else ""
