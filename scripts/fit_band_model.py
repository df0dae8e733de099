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


def profiles(corpora: list[Path], rubric) -> list[tuple[dict, dict, bool]]:
    out = []
    for corpus in corpora:
        for row in json.loads((corpus / "labels.json").read_text(encoding="utf-8")):
            a = analyse_essay((corpus / row["file"]).read_text(encoding="utf-8"), rubric)
            off = any(f.id == "off_topic" for f in detect_flags(a))
            out.append((row, essay_profile(a), off))
    return out


def fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, Ridge]:
    mu, sd = X.mean(0), X.std(0)
    sd[sd == 0] = 1.0
    return mu, sd, Ridge(alpha=ALPHA).fit((X - mu) / sd, y)


def main(argv: list[str]) -> int:
    corpora = [Path(p) for p in argv] or [Path("../shared/corpus/dev"), Path("../shared/corpus/dev_fixedlen")]
    rubric = load_rubric("stalin_trotsky_1929")
    rows = profiles(corpora, rubric)
    model = {"fitted_on": [str(c) for c in corpora], "n": len(rows), "alpha": ALPHA, "criteria": {}}
    print(f"{len(rows)} essays; leave-one-out QWK per criterion:")
    for cid, feats in FEATURES.items():
        X = np.array([[r[1][f] for f in feats] for r in rows])
        y = np.array([r[0]["criteria"][cid] for r in rows], dtype=float)
        use = np.array([cid == "communication" or not r[2] for r in rows])
        preds = []
        for i in range(len(rows)):
            m = use.copy()
            m[i] = False
            mu, sd, reg = fit(X[m], y[m])
            p = 0.0 if (not use[i]) else reg.predict(((X[i] - mu) / sd)[None])[0]
            preds.append(int(np.clip(np.floor(p + 0.5), 0, 4)))
        q = cohen_kappa_score(y.astype(int), preds, weights="quadratic")
        mu, sd, reg = fit(X[use], y[use])
        model["criteria"][cid] = {"features": feats, "mean": mu.round(6).tolist(), "scale": sd.round(6).tolist(),
                                  "coef": reg.coef_.round(6).tolist(), "intercept": round(float(reg.intercept_), 6),
                                  "loo_qwk": round(float(q), 3)}
        print(f"  {cid:14} {q:.3f}")
    DEFAULT_MODEL.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {DEFAULT_MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
