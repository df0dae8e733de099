"""Fit the band models (marker/data/band_model.json) on labelled corpora, and report honestly.

    python scripts/fit_band_model.py ../shared/corpus/dev ../shared/corpus/dev_fixedlen
    python scripts/fit_band_model.py --cross-corpus ../shared/corpus/dev ../shared/corpus/dev_fixedlen

For each criterion a ridge regression maps the measures listed in
``marker.bands.FEATURES`` (standardised) to the human band. Before writing the
model, the script prints leave-one-essay-out figures, so they are for essays the
fit did not see: each essay is marked by the engine itself (``marker.mark``:
flags, caps, level fit and all) with band models fitted on the other essays,
overall and per corpus. ``--cross-corpus`` also marks each corpus with models
fitted on the others only (e.g. the same-length essays of ``dev_fixedlen`` by a
model that never saw one). Essays flagged off-topic are left out of the fit for
every criterion but communication (the flag caps them anyway).
Deterministic: same corpora, same engine, same file.
"""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.metrics import cohen_kappa_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import marker.engine as engine  # noqa: E402
from marker.analysis import analyse_essay  # noqa: E402
from marker.bands import DEFAULT_MODEL, FEATURES, LinearBand  # noqa: E402
from marker.flags import detect_flags  # noqa: E402
from marker.profile import essay_profile  # noqa: E402
from marker.rubric import load_rubric  # noqa: E402

ALPHA = 3.0
# Measures that count against a band (everything else can only raise it).
LOWER_IS_BETTER = {"off_share", "narrative_share", "spelling_rate", "bullets", "chatty", "factual_errors"}


def profiles(corpora: list[Path], rubric) -> list[tuple[dict, dict, bool, str, str]]:
    """(label row, profile, flagged off-topic, corpus name, essay text) per essay."""
    out = []
    for corpus in corpora:
        for row in json.loads((corpus / "labels.json").read_text(encoding="utf-8")):
            text = (corpus / row["file"]).read_text(encoding="utf-8")
            a = analyse_essay(text, rubric)
            off = any(f.id == "off_topic" for f in detect_flags(a))
            out.append((row, essay_profile(a), off, corpus.name, text))
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


def design(rows) -> dict[str, tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per criterion: measures, their signs, X, human bands y, and which essays the fit may use."""
    out = {}
    for cid, feats in FEATURES.items():
        signs = np.array([-1.0 if f in LOWER_IS_BETTER else 1.0 for f in feats])
        X = np.array([[r[1][f] for f in feats] for r in rows])
        y = np.array([r[0]["criteria"][cid] for r in rows], dtype=float)
        use = np.array([cid == "communication" or not r[2] for r in rows])
        out[cid] = (feats, signs, X, y, use)
    return out


def band_models(data, train: np.ndarray) -> dict[str, LinearBand]:
    """Band models fitted on the essays in ``train``, as the engine reads them (stretch folded in)."""
    models = {}
    for cid, (feats, signs, X, y, use) in data.items():
        m = use & train
        mu, sd, reg, stretch = fit(X[m], y[m], signs)
        models[cid] = LinearBand(tuple(feats), tuple(mu), tuple(sd), tuple(reg.coef_ * stretch), float(reg.intercept_))
    return models


@contextmanager
def engine_models(models: dict[str, LinearBand]):
    """Let the engine mark with these band models instead of the shipped file."""
    saved = engine.load_band_model
    engine.load_band_model = lambda *args, **kwargs: models
    try:
        yield
    finally:
        engine.load_band_model = saved


def _qwk(gold, pred) -> float:
    gold, pred = np.asarray(gold, int), np.asarray(pred, int)
    if len(set(gold) | set(pred)) < 2:
        return float("nan")
    return float(cohen_kappa_score(gold, pred, weights="quadratic"))


def report(title: str, rows, results) -> None:
    """Mark QWK, MAE, level exact / adjacent and criterion QWK, for all essays and per corpus."""
    print(title)
    names = [None, *dict.fromkeys(r[3] for r in rows)]
    for name in names:
        sel = [(r, res) for r, res in zip(rows, results) if res is not None and (name is None or r[3] == name)]
        if not sel or (name is not None and len(names) == 2):
            continue
        gold = np.array([r[0]["mark"] for r, _ in sel])
        pred = np.array([res.mark for _, res in sel])
        gl = np.array([r[0]["level"] for r, _ in sel])
        pl = np.array([res.level for _, res in sel])
        crit = "  ".join(
            f"{cid} {_qwk([r[0]['criteria'][cid] for r, _ in sel], [res.criterion(cid).band for _, res in sel]):.2f}"
            for cid in FEATURES)
        print(f"  {name or 'all':14} n={len(sel):2d}  mark QWK {_qwk(gold, pred):.3f}, "
              f"MAE {np.abs(gold - pred).mean():.2f}, level exact {100 * np.mean(gl == pl):.1f}%, "
              f"adjacent {100 * np.mean(np.abs(gl - pl) <= 1):.1f}%")
        print(f"  {'':14}       criterion QWK  {crit}")


def loo_marks(rows, data, rubric) -> list:
    """Each essay marked by the engine with band models fitted on all the other essays."""
    out = []
    for i, r in enumerate(rows):
        train = np.ones(len(rows), dtype=bool)
        train[i] = False
        with engine_models(band_models(data, train)):
            out.append(engine.mark(r[4], rubric, r[0]["file"]))
    return out


def cross_corpus_marks(rows, data, rubric) -> list:
    """Each corpus marked by the engine with band models fitted on the other corpora only."""
    out: list = [None] * len(rows)
    corpora = [r[3] for r in rows]
    for name in dict.fromkeys(corpora):
        train = np.array([c != name for c in corpora])
        if not train.any():
            continue
        with engine_models(band_models(data, train)):
            for i, r in enumerate(rows):
                if r[3] == name:
                    out[i] = engine.mark(r[4], rubric, r[0]["file"])
    return out


def main(argv: list[str]) -> int:
    cross = "--cross-corpus" in argv
    paths = [p for p in argv if p != "--cross-corpus"]
    corpora = [Path(p) for p in paths] or [Path("../shared/corpus/dev"), Path("../shared/corpus/dev_fixedlen")]
    rubric = load_rubric("stalin_trotsky_1929")
    rows = profiles(corpora, rubric)
    data = design(rows)
    model = {"fitted_on": [str(c) for c in corpora], "n": len(rows), "alpha": ALPHA, "criteria": {}}
    print(f"{len(rows)} essays; leave-one-out QWK per criterion (band models alone):")
    for cid, (feats, signs, X, y, use) in data.items():
        preds = []
        for i in range(len(rows)):
            m = use.copy()
            m[i] = False
            p = 0.0 if (not use[i]) else predict(*fit(X[m], y[m], signs), X[i])
            preds.append(float(np.clip(p, 0, 4)))
        q = cohen_kappa_score(y.astype(int), [int(np.floor(p + 0.5)) for p in preds], weights="quadratic")
        mu, sd, reg, stretch = fit(X[use], y[use], signs)
        # Stretching about the intercept: fold the stretch into the weights.
        model["criteria"][cid] = {"features": feats, "mean": mu.round(6).tolist(), "scale": sd.round(6).tolist(),
                                  "coef": (reg.coef_ * stretch).round(6).tolist(),
                                  "intercept": round(float(reg.intercept_), 6), "stretch": round(stretch, 3),
                                  "loo_qwk": round(float(q), 3)}
        print(f"  {cid:14} {q:.3f}")
    report("leave-one-out, each essay marked by the engine with band models fitted on the others:",
           rows, loo_marks(rows, data, rubric))
    if cross:
        report("cross-corpus, each corpus marked with band models fitted on the other corpora only:",
               rows, cross_corpus_marks(rows, data, rubric))
    DEFAULT_MODEL.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {DEFAULT_MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
