"""Fit the band models (marker/data/band_model.json) on labelled corpora, and report honestly.

    python scripts/fit_band_model.py ../shared/corpus/dev ../shared/corpus/dev_fixedlen

For each criterion a ridge regression maps the measures listed in
``marker.bands.FEATURES`` (standardised) to the human band. Before writing the
model, the script prints leave-one-essay-out QWK per criterion, so the figures
are for essays the fit did not see. Essays flagged off-topic are left out of
the fit for every criterion but communication (the flag caps them anyway).
Deterministic: same corpora, same engine, same file.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.metrics import cohen_kappa_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from marker.analysis import analyse_essay  # noqa: E402
from marker.bands import DEFAULT_MODEL, FEATURES  # noqa: E402
from marker.flags import detect_flags  # noqa: E402
from marker.profile import essay_profile  # noqa: E402
from marker.rubric import load_rubric  # noqa: E402

ALPHA = 3.0
# Measures that count against a band (everything else can only raise it).
LOWER_IS_BETTER = {"off_share", "narrative_share", "spelling_rate", "bullets", "chatty"}


def profiles(corpora: list[Path], rubric) -> list[tuple[dict, dict, bool]]:
    out = []
    for corpus in corpora:
        for row in json.loads((corpus / "labels.json").read_text(encoding="utf-8")):
            a = analyse_essay((corpus / row["file"]).read_text(encoding="utf-8"), rubric)
            off = any(f.id == "off_topic" for f in detect_flags(a))
            out.append((row, essay_profile(a), off))
    return out


def fit(X: np.ndarray, y: np.ndarray, signs: np.ndarray) -> tuple[np.ndarray, np.ndarray, Ridge, float]:
    """Standardise, fit a ridge, and measure how much the ridge shrank the spread of the bands:
    ``stretch`` restores it, so strong essays are not pulled down to the middle (nor weak ones up)."""
    mu, sd = X.mean(0), X.std(0)
    sd[sd == 0] = 1.0
    # Monotone in the mark scheme's direction: signs fixed, weights fitted (non-negative after the flip).
    sd = sd * signs
    reg = Ridge(alpha=ALPHA, positive=True).fit((X - mu) / sd, y)
    spread = reg.predict((X - mu) / sd).std()
    stretch = float(np.clip(y.std() / spread, 1.0, 1.6)) if spread > 0 else 1.0
    return mu, sd, reg, stretch


def predict(mu, sd, reg, stretch, x: np.ndarray) -> float:
    p = float(reg.predict(((x - mu) / sd)[None])[0])
    return reg.intercept_ + (p - reg.intercept_) * stretch


def report_loo_marks(rows, loo_scores, rubric) -> None:
    """Marks from the left-out essays' band scores, through the same level fit the engine uses."""
    from marker.score import fit_level

    gold, pred, gl, pl = [], [], [], []
    for (row, _, off), scores in zip(rows, loo_scores):
        bands = {c: int(np.floor(v + 0.5)) for c, v in scores.items()}
        f = fit_level(rubric, scores, bands)
        mark, level = (0, 0) if off else (f.mark, f.level)
        gold.append(row["mark"]), pred.append(mark), gl.append(row["level"]), pl.append(level)
    gold, pred, gl, pl = map(np.array, (gold, pred, gl, pl))
    print(f"leave-one-out marks: QWK {cohen_kappa_score(gold, pred, weights='quadratic'):.3f}, "
          f"MAE {np.abs(gold - pred).mean():.2f}, level exact {100 * np.mean(gl == pl):.1f}%, "
          f"adjacent {100 * np.mean(np.abs(gl - pl) <= 1):.1f}%")


def main(argv: list[str]) -> int:
    corpora = [Path(p) for p in argv] or [Path("../shared/corpus/dev"), Path("../shared/corpus/dev_fixedlen")]
    rubric = load_rubric("stalin_trotsky_1929")
    rows = profiles(corpora, rubric)
    model = {"fitted_on": [str(c) for c in corpora], "n": len(rows), "alpha": ALPHA, "criteria": {}}
    loo_scores: list[dict[str, float]] = [{} for _ in rows]
    print(f"{len(rows)} essays; leave-one-out QWK per criterion:")
    for cid, feats in FEATURES.items():
        signs = np.array([-1.0 if f in LOWER_IS_BETTER else 1.0 for f in feats])
        X = np.array([[r[1][f] for f in feats] for r in rows])
        y = np.array([r[0]["criteria"][cid] for r in rows], dtype=float)
        use = np.array([cid == "communication" or not r[2] for r in rows])
        preds = []
        for i in range(len(rows)):
            m = use.copy()
            m[i] = False
            p = 0.0 if (not use[i]) else predict(*fit(X[m], y[m], signs), X[i])
            preds.append(float(np.clip(p, 0, 4)))
            loo_scores[i][cid] = preds[-1]
        q = cohen_kappa_score(y.astype(int), [int(np.floor(p + 0.5)) for p in preds], weights="quadratic")
        mu, sd, reg, stretch = fit(X[use], y[use], signs)
        # Stretching about the intercept: fold the stretch into the weights.
        model["criteria"][cid] = {"features": feats, "mean": mu.round(6).tolist(), "scale": sd.round(6).tolist(),
                                  "coef": (reg.coef_ * stretch).round(6).tolist(),
                                  "intercept": round(float(reg.intercept_), 6), "stretch": round(stretch, 3),
                                  "loo_qwk": round(float(q), 3)}
        print(f"  {cid:14} {q:.3f}")
    report_loo_marks(rows, loo_scores, rubric)
    DEFAULT_MODEL.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {DEFAULT_MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
