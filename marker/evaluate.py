"""Agreement of the marker with human marks in a labelled corpus (``labels.json``).

Prints what a department would ask before trusting the marker: QWK and mean
absolute error on the mark, exact and adjacent level agreement, QWK per
criterion band, and precision / recall / F1 of content points (with recall on
paraphrased points, those made without the standard term, on their own).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import cohen_kappa_score

from .engine import mark_many
from .result import MarkResult
from .rubric import CRITERIA_IDS, Rubric


def qwk(a: list[int], b: list[int]) -> float:
    if len(set(a) | set(b)) < 2:
        return 1.0 if list(a) == list(b) else 0.0
    return float(cohen_kappa_score(a, b, weights="quadratic"))


@dataclass
class Evaluation:
    n: int
    mark_qwk: float
    mae: float
    level_exact: float
    level_adjacent: float
    criteria_qwk: dict[str, float]
    point_precision: float
    point_recall: float
    point_f1: float
    paraphrase_recall: float
    rows: list[dict] = field(default_factory=list)
    # factual errors, per essay: labelled errors (minor slips aside) caught, and errors claimed in essays with none
    errors_caught: int = 0
    essays_with_errors: int = 0
    error_false_alarms: int = 0
    essays_without_errors: int = 0
    # the same for contested claims stated as fact (labelled "(minor)"; the rubric's ``minor`` checks)
    contested_caught: int = 0
    essays_with_contested: int = 0
    contested_false_alarms: int = 0
    essays_without_contested: int = 0

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        return d


def load_labels(corpus: Path) -> list[dict]:
    path = corpus / "labels.json"
    if not path.is_file():
        raise FileNotFoundError(f"{corpus}: no labels.json (a list of {{file, mark, level, criteria, points}})")
    return json.loads(path.read_text(encoding="utf-8"))


def evaluate(corpora: list[Path], rubric: Rubric, processes: int | None = None) -> Evaluation:
    labels, texts = [], []
    for corpus in corpora:
        for row in load_labels(corpus):
            labels.append(row)
            texts.append((row["file"], (corpus / row["file"]).read_text(encoding="utf-8")))
    batch = mark_many(texts, rubric, processes=processes)
    results: dict[str, MarkResult] = {r.essay: r for r in batch.results}
    gold_marks, pred_marks, gold_lv, pred_lv = [], [], [], []
    crit_gold: dict[str, list[int]] = {c: [] for c in CRITERIA_IDS}
    crit_pred: dict[str, list[int]] = {c: [] for c in CRITERIA_IDS}
    tp = fp = fn = para_tp = para_n = 0
    errors = {"false": [0, 0, 0, 0], "contested": [0, 0, 0, 0]}  # caught, with, false alarms, without
    rows = []
    for row in labels:
        r = results[row["file"]]
        gold_marks.append(row["mark"])
        pred_marks.append(r.mark)
        gold_lv.append(row["level"])
        pred_lv.append(r.level)
        for c in CRITERIA_IDS:
            if c in row.get("criteria", {}):
                crit_gold[c].append(row["criteria"][c])
                crit_pred[c].append(r.bands.get(c, 0))
        gold_pts = {pid for pid, p in row.get("points", {}).items() if p.get("covered", True)}
        pred_pts = {p.id for p in r.points if p.found}
        tp += len(gold_pts & pred_pts)
        fp += len(pred_pts - gold_pts)
        fn += len(gold_pts - pred_pts)
        for pid, p in row.get("points", {}).items():
            if p.get("covered", True) and not p.get("explicit", True):
                para_n += 1
                para_tp += pid in pred_pts
        labelled = row.get("factual_errors", [])
        gold_errors = [e for e in labelled if not e.startswith("(minor)")]
        for kind, gold, pred in (
                ("false", gold_errors, [e for e in r.factual_errors if not e.get("minor")]),
                ("contested", [e for e in labelled if e.startswith("(minor)")],
                 [e for e in r.factual_errors if e.get("minor")])):
            tally = errors[kind]
            if gold:
                tally[0] += bool(pred)
                tally[1] += 1
            elif not labelled:
                tally[2] += bool(pred)
                tally[3] += 1
        rows.append({"file": row["file"], "gold": row["mark"], "pred": r.mark, "gold_level": row["level"],
                     "level": r.level, "bands": r.bands, "gold_bands": row.get("criteria", {}),
                     "missed": sorted(gold_pts - pred_pts), "extra": sorted(pred_pts - gold_pts),
                     "flags": r.flags, "gold_flags": row.get("flags", []),
                     "errors": len(r.factual_errors), "gold_errors": len(gold_errors)})
    gm, pm = np.array(gold_marks), np.array(pred_marks)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return Evaluation(
        n=len(labels),
        mark_qwk=qwk(gold_marks, pred_marks),
        mae=float(np.abs(gm - pm).mean()) if len(gm) else 0.0,
        level_exact=float(np.mean(np.array(gold_lv) == np.array(pred_lv))) if gold_lv else 0.0,
        level_adjacent=float(np.mean(np.abs(np.array(gold_lv) - np.array(pred_lv)) <= 1)) if gold_lv else 0.0,
        criteria_qwk={c: qwk(crit_gold[c], crit_pred[c]) for c in CRITERIA_IDS if crit_gold[c]},
        point_precision=prec, point_recall=rec,
        point_f1=2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        paraphrase_recall=para_tp / para_n if para_n else 0.0,
        rows=rows,
        errors_caught=errors["false"][0], essays_with_errors=errors["false"][1],
        error_false_alarms=errors["false"][2], essays_without_errors=errors["false"][3],
        contested_caught=errors["contested"][0], essays_with_contested=errors["contested"][1],
        contested_false_alarms=errors["contested"][2], essays_without_contested=errors["contested"][3],
    )


def format_evaluation(ev: Evaluation, verbose: bool = False) -> str:
    lines = [
        f"essays                 {ev.n}",
        f"mark QWK               {ev.mark_qwk:.3f}",
        f"mark MAE               {ev.mae:.2f}",
        f"level exact            {100 * ev.level_exact:.1f}%",
        f"level adjacent         {100 * ev.level_adjacent:.1f}%",
        "criterion QWK          " + "  ".join(f"{c} {v:.2f}" for c, v in ev.criteria_qwk.items()),
        f"points P / R / F1      {ev.point_precision:.3f} / {ev.point_recall:.3f} / {ev.point_f1:.3f}",
        f"paraphrased recall     {ev.paraphrase_recall:.3f}",
        f"factual errors         caught in {ev.errors_caught} of {ev.essays_with_errors} essays with errors; "
        f"claimed in {ev.error_false_alarms} of {ev.essays_without_errors} without",
        f"contested as fact      caught in {ev.contested_caught} of {ev.essays_with_contested} essays; "
        f"claimed in {ev.contested_false_alarms} of {ev.essays_without_contested} without any error",
    ]
    if verbose:
        lines.append("")
        lines.append(f"{'essay':16} {'gold':>4} {'pred':>4}  bands (pred/gold)  missed / extra points")
        for r in ev.rows:
            bands = " ".join(f"{r['bands'].get(c, '-')}/{r['gold_bands'].get(c, '-')}" for c in CRITERIA_IDS)
            lines.append(f"{r['file']:16} {r['gold']:>4} {r['pred']:>4}  {bands}  -{','.join(r['missed'])} "
                         f"+{','.join(r['extra'])} {','.join(r['flags'])}"
                         + (f" errors:{r['errors']}" if r["errors"] else ""))
    return "\n".join(lines)
