"""Calibration: learn a teacher's marking from marked essays, with honest agreement figures.

    report = train(texts, marks, rubric)            # cross-validated figures + the fitted model
    save_model(report.model, "class7b.emmodel")     # skops + JSON metadata, sha256-checked
    model = load_model("class7b.emmodel")           # refuses files this tool did not write
    result = model.apply(marker.mark(text, rubric), text)   # mark/level replaced when use_learnt

The learnt model (``MarkRegressor``) blends ridge regressions on the dense features
(length, mechanics and - when the rubric has content points - the rubric engine's bands,
points and flags) and on word/char TF-IDF, and, from ``HGB_MIN_N`` essays, a joint ridge on
both (the dense block weighted) and gradient-boosted trees (scikit-learn's
HistGradientBoostingRegressor, fixed seed) on the dense features, the text and joint ridges'
out-of-fold marks and prompt relevance (TF-IDF cosine to the centroids of the high- and
low-marked training essays, computed out of fold).  Each ridge's penalty (and the joint
ridge's dense weight) is chosen by exact leave-one-out error on the training essays only,
the trees' predictions come from an inner 5-fold cross-validation, and the blocks'
out-of-fold predictions are blended by a non-negative least-squares fit.  The blended
prediction is cut into marks at cut-points fitted for QWK on those out-of-fold training
predictions: plain rounding, a stretch-and-shift, or every cut-point optimised - whichever
wins a cross-fit on the training predictions.  With
fewer than ``SMALL_N`` essays the blend weights are fixed (length prior counted double) and
only a stretch-and-shift is fitted, so the model degrades gracefully.  Nothing is chosen on
held-out essays; the level follows from the rubric's mark ranges.

The learnt mark is used only when it beats the rubric-only marker in cross-validation
(``use_learnt``); even then criterion bands, evidence spans and feedback still come from
the rubric engine, so every mark stays explainable, and the result's ``model`` field
names the model.  Everything is seeded: the same data gives the same model.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import math
import os
import sys
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.model_selection import KFold, StratifiedKFold

from .features import MECHANICS_FEATURES, EssayFeatures, engine_available, remember_engine_result, rubric_key, text_key

__all__ = [
    "MODEL_VERSION", "FORMAT", "CalibrationError", "Agreement", "CurvePoint", "CalibrationReport",
    "CalibratedModel", "MarkRegressor", "train", "save_model", "load_model", "read_marked",
    "report_to_dict", "format_report", "run_cli_calibrate", "qwk", "agreement",
]

MODEL_VERSION = "3"  # bump when MarkRegressor / EssayFeatures change in a way old files cannot follow
FORMAT = "essay-marker-calibration"
FORMAT_VERSION = 1
MIN_ESSAYS = 10  # fewer marked essays than this cannot be cross-validated meaningfully
MIN_FOR_USE = 20  # the learnt mark is never used with fewer marked essays than this
CURVE_SIZES = (10, 15, 20, 30, 50, 100)

DENSE_ALPHAS = np.logspace(-2, 4, 13)
TEXT_ALPHAS = np.logspace(-2, 3, 11)


class CalibrationError(ValueError):
    """Marked essays or a model file that cannot be used; the message says why."""


# ---------------------------------------------------------------------------
# metrics
def qwk(y_true: Sequence[int], y_pred: Sequence[int], lo: int, hi: int) -> float:
    """Quadratic weighted kappa with the full label range lo..hi (so weights follow mark distance)."""
    a = np.asarray(y_true, dtype=int)
    b = np.asarray(y_pred, dtype=int)
    if len(a) == 0:
        return float("nan")
    if len(set(a.tolist()) | set(b.tolist())) < 2:
        return 1.0 if np.array_equal(a, b) else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        k = cohen_kappa_score(a, b, weights="quadratic", labels=list(range(lo, hi + 1)))
    return 0.0 if math.isnan(k) else float(k)


@dataclass
class Agreement:
    """Agreement of predicted marks with the teacher's: QWK and MAE on the mark, level agreement."""

    n: int
    qwk: float
    mae: float
    exact_level: float  # share of essays with the same level
    adjacent_level: float  # share within one level
    exact_mark: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def agreement(marks: Sequence[int], preds: Sequence[int], rubric: Any) -> Agreement:
    lo, hi = mark_range(rubric)
    y = np.asarray(marks, dtype=int)
    p = np.asarray(preds, dtype=int)
    ly = np.array([rubric.level_for_mark(int(m)) for m in y])
    lp = np.array([rubric.level_for_mark(int(m)) for m in p])
    return Agreement(
        n=len(y),
        qwk=qwk(y, p, lo, hi),
        mae=float(np.abs(y - p).mean()) if len(y) else float("nan"),
        exact_level=float((ly == lp).mean()) if len(y) else float("nan"),
        adjacent_level=float((np.abs(ly - lp) <= 1).mean()) if len(y) else float("nan"),
        exact_mark=float((y == p).mean()) if len(y) else float("nan"),
    )


def mark_range(rubric: Any) -> tuple[int, int]:
    return int(min(lv.min for lv in rubric.levels)), int(rubric.max_mark)


# ---------------------------------------------------------------------------
# the model
def _gram(A: Any, B: Any = None) -> np.ndarray:
    """A @ B.T as a dense array; for sparse TF-IDF the frequent columns go through BLAS."""
    if not sp.issparse(A):
        A = np.asarray(A)
        return A @ (A if B is None else np.asarray(B)).T
    A = sp.csc_matrix(A)
    Bm = A if B is None else sp.csc_matrix(B)
    freq = np.diff(A.indptr) > max(0.02 * A.shape[0], 5)
    out = np.zeros((A.shape[0], Bm.shape[0]))
    if freq.any():
        Ad = A[:, freq].toarray()
        out += Ad @ (Ad if B is None else Bm[:, freq].toarray()).T
    if (~freq).any():
        Ar = A[:, ~freq].tocsr()
        out += (Ar @ (Ar if B is None else Bm[:, ~freq].tocsr()).T).toarray()
    return out


def _loo_ridge(Z: Any, y: np.ndarray, alphas: np.ndarray, gram: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Ridge with an unpenalised intercept on the columns of Z, for every alpha at once.

    Returns (dual coefficients n x n_alpha, exact leave-one-out predictions n x n_alpha) from
    one eigen-decomposition of the centred Gram matrix (thin SVD when Z has few columns);
    ``gram`` is Z's Gram matrix when the caller already has it.
    Hat matrix H = 11'/n + Kc (Kc + a I)^-1, LOO residual = (y - yhat)_i / (1 - H_ii); the
    intercept's re-estimation inside the left-out step is neglected, as in scikit-learn's RidgeCV.
    """
    n = len(y)
    if gram is not None or sp.issparse(Z) or Z.shape[1] >= n:
        K = _gram(Z) if gram is None else gram
        m = K.mean(0)
        Kc = K - m[None, :] - m[:, None] + m.mean()
        e, U = sla.eigh(Kc, check_finite=False)
    else:  # few columns: thin SVD of the centred matrix
        Zd = np.asarray(Z, dtype=float)
        U, s, _ = np.linalg.svd(Zd - Zd.mean(0), full_matrices=False)
        e = s**2
    keep = e > max(float(e.max(initial=0.0)), 1e-300) * 1e-10  # drop the null space (incl. the constant)
    e, U = e[keep], U[:, keep]
    yc = y - y.mean()
    Uy = U.T @ yc
    inv = 1.0 / (e[:, None] + alphas[None, :])  # r x A
    C = U @ (Uy[:, None] * inv)  # dual coefficients (Kc + aI)^-1 yc restricted to the span
    fit = y.mean() + U @ (Uy[:, None] * e[:, None] * inv)
    h = 1.0 / n + (U**2) @ (e[:, None] * inv)
    loo = y[:, None] - (y[:, None] - fit) / np.clip(1.0 - h, 1e-12, None)
    return C, loo


_LENGTH_COLS = tuple(MECHANICS_FEATURES.index(c) for c in ("words_log", "words_sqrt", "types_log"))

# Small n: below SMALL_N training essays the blocks' blend weights are fixed (too few essays to learn
# them; the length prior counts double) and only a stretch-and-shift of the marks is fitted.
SMALL_N = 60
SMALL_N_WEIGHTS = {"length": 2.0, "dense": 1.0, "text": 1.0}
AFFINE_STRETCH = np.linspace(0.8, 3.0, 23)  # ridge marks shrink to the mean; QWK wants the teacher's spread
AFFINE_SHIFT = np.linspace(-0.4, 0.4, 13)  # in standard deviations of the marks
HGB_MIN_N = 200  # below this many training essays the boosted trees are left out
INNER_FOLDS = 5  # inner cross-validation (out-of-fold predictions for the trees, relevance and the blend)
# From HGB_MIN_N essays a joint ridge on [w * dense, TF-IDF] is added (one linear model weighing length and
# mechanics against the n-grams, where the separate ridges each model length their own way); the dense
# block's weight w is chosen with the penalty by leave-one-out error on the training essays.
JOINT_DENSE_WEIGHTS = (0.03, 0.1, 0.3)
HGB_PARAMS = dict(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20,
                  l2_regularization=1.0, early_stopping=False, random_state=0)


def _qwk_fast(y: np.ndarray, p: np.ndarray) -> float:
    """QWK of integer marks (any offset), in O(n): 1 - sum (y-p)^2 / sum over the chance pairing."""
    n = len(y)
    num = float(((y - p) ** 2).sum())
    den = float((y**2).sum() + (p**2).sum() - 2.0 * y.sum() * p.sum() / n)
    return 1.0 - num / den if den > 0 else 0.0


def _apply_cuts(raw: np.ndarray, cuts: np.ndarray, lo: int) -> np.ndarray:
    """Marks from continuous predictions: lo + the number of cut-points at or below each value."""
    return lo + np.searchsorted(cuts, raw, side="right")


def _affine_cuts(p: np.ndarray, y: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Cut-points of the best stretch-and-shift of the predictions (rounded) for QWK: 2 parameters."""
    base = np.arange(lo, hi, dtype=float) + 0.5
    m, sd = float(y.mean()), float(y.std()) or 1.0
    best, best_q = base, _qwk_fast(y, _apply_cuts(p, base, lo))
    for a in AFFINE_STRETCH:
        for b in AFFINE_SHIFT * sd:
            cuts = (base - m - b) / a + m  # round(m + a (p - m) + b) expressed as cut-points on p
            q = _qwk_fast(y, _apply_cuts(p, cuts, lo))
            if q > best_q + 1e-9:
                best, best_q = cuts, q
    return best


def _optimised_cuts(p: np.ndarray, y: np.ndarray, lo: int, hi: int, passes: int = 2) -> np.ndarray:
    """Cut-points maximising QWK on (out-of-fold) predictions: coordinate ascent from the best affine
    stretch, each cut searched on a grid between its neighbours; ties keep the current value."""
    cuts = _affine_cuts(p, y, lo, hi).copy()
    k = len(cuts)
    best_q = _qwk_fast(y, _apply_cuts(p, cuts, lo))
    for _ in range(passes):
        moved = False
        for i in range(k):
            left = cuts[i - 1] if i > 0 else cuts[i] - 1.0
            right = cuts[i + 1] if i < k - 1 else cuts[i] + 1.0
            for c in np.linspace(left, right, 18)[1:-1]:
                old = cuts[i]
                cuts[i] = c
                q = _qwk_fast(y, _apply_cuts(p, cuts, lo))
                if q > best_q + 1e-9:
                    best_q, moved = q, True
                else:
                    cuts[i] = old
        if not moved:
            break
    return cuts


def _choose_cuts(p: np.ndarray, y: np.ndarray, lo: int, hi: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """Rounding, affine stretch or optimised cut-points: whichever does best in a 2-fold cross-fit on
    the (out-of-fold) training predictions, then fitted on all of them."""
    y = np.asarray(y, dtype=int)
    base = np.arange(lo, hi, dtype=float) + 0.5
    methods: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
        "round": lambda pp, yy: base,
        "affine": lambda pp, yy: _affine_cuts(pp, yy, lo, hi),
        "cuts": lambda pp, yy: _optimised_cuts(pp, yy, lo, hi),
    }
    n = len(y)
    if n < SMALL_N:  # too few to choose between methods or to place every cut: stretch and shift only
        return _affine_cuts(p, y, lo, hi), "affine"
    perm = np.random.RandomState(seed).permutation(n)
    halves = (perm[: n // 2], perm[n // 2:])
    scores = {}
    for name, fn in methods.items():
        qs = []
        for rep in range(2):  # two different halvings: less noise in the choice
            if rep:
                perm2 = np.random.RandomState(seed + 1).permutation(n)
                halves = (perm2[: n // 2], perm2[n // 2:])
            for a, b in (halves, halves[::-1]):
                cuts = fn(p[a], y[a])
                qs.append(_qwk_fast(y[b], _apply_cuts(p[b], cuts, lo)))
        scores[name] = float(np.mean(qs))
    name = max(methods, key=lambda m: (scores[m], -list(methods).index(m)))
    return np.asarray(methods[name](p, y), dtype=float), name


def _centroid(M: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    c = np.asarray(M[rows].mean(0)).ravel() if len(rows) else np.zeros(M.shape[1])
    nrm = float(np.linalg.norm(c))
    return c / nrm if nrm > 0 else c


def _relevance_rows(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the high- and low-marked essays (top and bottom quarter by mark)."""
    hi_t, lo_t = np.quantile(y, 0.75), np.quantile(y, 0.25)
    hi = np.flatnonzero(y >= hi_t)
    lo = np.flatnonzero(y <= lo_t)
    return hi, lo


class MarkRegressor(RegressorMixin, BaseEstimator):
    """Essay texts -> mark: ridges on dense features and TF-IDF, boosted trees on the dense features,
    blended, then cut into marks by cut-points chosen for QWK on out-of-fold training predictions.

    Parameters: ``min_mark``/``max_mark`` (predictions are cut and clipped to these);
    ``rubric`` and ``use_engine`` (passed to ``EssayFeatures``); ``use_text`` (TF-IDF block);
    ``min_text_n`` (below this many training essays the text block is left out); ``full_dense_n``
    (below it a length-only ridge is added as a low-variance prior); ``use_trees`` (gradient-boosted
    trees on the dense features, the text and joint ridges' out-of-fold marks and prompt relevance,
    from ``HGB_MIN_N`` essays, when the joint ridge on dense and TF-IDF features is added too);
    ``cut_points`` (optimise the mark boundaries for QWK).
    """

    def __init__(self, min_mark: int = 0, max_mark: int = 25, rubric: Any = None, use_engine: bool | str = False,
                 use_text: bool = True, use_mechanics: bool = True, min_text_n: int = 20,
                 full_dense_n: int = 200, use_trees: bool = True, cut_points: bool = True) -> None:
        self.min_mark = min_mark
        self.max_mark = max_mark
        self.rubric = rubric
        self.use_engine = use_engine
        self.use_text = use_text
        self.use_mechanics = use_mechanics
        self.min_text_n = min_text_n
        self.full_dense_n = full_dense_n
        self.use_trees = use_trees
        self.cut_points = cut_points

    def fit(self, X: Any, y: Any) -> "MarkRegressor":
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # deterministic and no thread contention on small machines
            return self._fit(list(X), np.asarray(y, dtype=float))

    def _inner_splits(self, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        return list(KFold(min(INNER_FOLDS, n), shuffle=True, random_state=0).split(np.zeros(n)))

    def _fit(self, texts: list[str], y: np.ndarray) -> "MarkRegressor":
        n = len(y)
        if n < 2:
            raise CalibrationError("need at least two marked essays to fit a model")
        lo, hi = int(self.min_mark), int(self.max_mark)
        text = bool(self.use_text) and n >= self.min_text_n
        self.features_ = EssayFeatures(rubric=self.rubric, use_engine=self.use_engine, use_text=text,
                                       use_mechanics=self.use_mechanics).fit(texts)
        blocks: dict[str, Any] = {}
        D = None
        if self.features_.n_dense_:
            D = self.features_.dense_block(texts)
            if self.use_mechanics and n < self.full_dense_n:
                blocks["length"] = D[:, list(_LENGTH_COLS)]  # a strong, low-variance prior at small n
            blocks["dense"] = D
        T = None
        if text:
            T = self.features_.text_block(texts)
            blocks["text"] = T
        self.blocks_ = list(blocks)
        self.coef_: dict[str, np.ndarray] = {}
        self.intercept_: dict[str, float] = {}
        self.alpha_: dict[str, float] = {}
        self.trees_ = None
        self.centroids_ = np.zeros((0, 0))
        self.cuts_ = np.arange(lo, hi, dtype=float) + 0.5
        self.cut_method_ = "round"
        self.constant_ = float(y.mean())
        if np.ptp(y) == 0 or not blocks:
            self.blocks_ = []
            self.blender_ = None
            return self
        oof: dict[str, np.ndarray] = {}
        text_gram = _gram(T) if T is not None else None  # the text ridge's, reused by the joint ridge
        for name, Z in blocks.items():
            alphas = (TEXT_ALPHAS if name == "text" else DENSE_ALPHAS).astype(float)
            C, loo = _loo_ridge(Z, y, alphas, text_gram if name == "text" else None)
            err = ((loo - y[:, None]) ** 2).mean(0)
            j = int(np.argmin(err))
            c = C[:, j]
            mu = np.asarray(Z.mean(0)).ravel()
            w = np.asarray(Z.T @ c).ravel() - mu * c.sum()
            self.alpha_[name] = float(alphas[j])
            self.coef_[name] = w
            self.intercept_[name] = float(y.mean() - mu @ w)
            oof[name] = loo[:, j]
        if D is not None and T is not None and n >= HGB_MIN_N:
            oof["joint"] = self._fit_joint(D, T, y, text_gram)
            self.blocks_.append("joint")
        if self.use_trees and D is not None and n >= HGB_MIN_N:
            splits = self._inner_splits(n)
            rel = np.zeros((n, 0))
            if T is not None:  # prompt relevance: cosine to the high/low-marked centroids, out of fold
                rel = np.zeros((n, 2))
                for tr, te in splits:
                    h, l = _relevance_rows(y[tr])
                    C2 = np.vstack([_centroid(T, tr[h]), _centroid(T, tr[l])])
                    rel[te] = np.asarray(T[te] @ C2.T)
                h, l = _relevance_rows(y)
                self.centroids_ = np.vstack([_centroid(T, h), _centroid(T, l)])
            G = self._tree_input(D, rel, [oof[b] for b in ("text", "joint") if b in oof])
            tree_oof = np.zeros(n)
            for tr, te in splits:
                tree_oof[te] = HistGradientBoostingRegressor(**HGB_PARAMS).fit(G[tr], y[tr]).predict(G[te])
            self.trees_ = HistGradientBoostingRegressor(**HGB_PARAMS).fit(G, y)
            oof["trees"] = tree_oof
            self.blocks_.append("trees")
        P = np.column_stack([oof[b] for b in self.blocks_])
        self.blender_ = LinearRegression(positive=True).fit(P, y)
        if n < SMALL_N:  # too few essays to learn blend weights: fixed weights of the blocks
            wts = np.array([SMALL_N_WEIGHTS.get(b, 1.0) for b in self.blocks_], dtype=float)
            self.blender_.coef_ = wts / wts.sum()
            self.blender_.intercept_ = 0.0
        if self.cut_points:
            self.cuts_, self.cut_method_ = _choose_cuts(self.blender_.predict(P), y, lo, hi)
        return self

    def _fit_joint(self, D: np.ndarray, T: Any, y: np.ndarray, text_gram: np.ndarray) -> np.ndarray:
        """The joint ridge on [w * D, T]: w and the penalty by leave-one-out error; returns the LOO predictions.
        Its Gram matrix is w^2 D D' + T T', so the text block's Gram (``text_gram``) is reused for every w."""
        alphas = TEXT_ALPHAS.astype(float)
        dense_gram = D @ D.T
        best = None
        for wgt in JOINT_DENSE_WEIGHTS:
            C, loo = _loo_ridge(None, y, alphas, wgt * wgt * dense_gram + text_gram)
            err = ((loo - y[:, None]) ** 2).mean(0)
            j = int(np.argmin(err))
            if best is None or err[j] < best[0]:
                best = (float(err[j]), wgt, j, C[:, j], loo[:, j])
        _, wgt, j, c, loo_j = best
        Z = self._joint_matrix(D, T, wgt)
        mu = np.asarray(Z.mean(0)).ravel()
        w = np.asarray(Z.T @ c).ravel() - mu * c.sum()
        self.joint_weight_ = float(wgt)
        self.alpha_["joint"] = float(alphas[j])
        self.coef_["joint"] = w
        self.intercept_["joint"] = float(y.mean() - mu @ w)
        return loo_j

    @staticmethod
    def _joint_matrix(D: np.ndarray, T: Any, weight: float) -> sp.csr_matrix:
        return sp.hstack([sp.csr_matrix(D * weight), T], format="csr")

    @staticmethod
    def _tree_input(D: np.ndarray, rel: np.ndarray, stacked: list[np.ndarray]) -> np.ndarray:
        """Tree inputs: dense features, prompt relevance and the text and joint ridges' (out-of-fold) marks."""
        return np.hstack([D, rel] + [np.asarray(p, dtype=float)[:, None] for p in stacked])

    def predict_raw(self, X: Any) -> np.ndarray:
        texts = list(X)
        if not self.blocks_:
            return np.full(len(texts), self.constant_)
        D = self.features_.dense_block(texts) if self.features_.n_dense_ else None
        T = self.features_.text_block(texts) if "text" in self.blocks_ else None
        preds: dict[str, np.ndarray] = {}
        for name in self.blocks_:
            if name == "trees":
                continue
            if name == "joint":
                Z = self._joint_matrix(D, T, self.joint_weight_)
            else:
                Z = D if name == "dense" else D[:, list(_LENGTH_COLS)] if name == "length" else T
            preds[name] = np.asarray(Z @ self.coef_[name]).ravel() + self.intercept_[name]
        if "trees" in self.blocks_:
            rel = np.asarray(T @ self.centroids_.T) if T is not None and self.centroids_.size else np.zeros((len(texts), 0))
            stacked = [preds[b] for b in ("text", "joint") if b in preds]
            preds["trees"] = self.trees_.predict(self._tree_input(D, rel, stacked))
        return self.blender_.predict(np.column_stack([preds[b] for b in self.blocks_]))

    def predict(self, X: Any) -> np.ndarray:
        raw = self.predict_raw(X)
        return np.clip(_apply_cuts(raw, np.asarray(self.cuts_, dtype=float), int(self.min_mark)),
                       self.min_mark, self.max_mark).astype(int)


# ---------------------------------------------------------------------------
# the calibrated model (what is saved and applied)
@dataclass
class CalibratedModel:
    """A fitted MarkRegressor plus its metadata (rubric, figures, use_learnt)."""

    regressor: MarkRegressor
    meta: dict[str, Any]

    @property
    def model_id(self) -> str:
        return str(self.meta["model_id"])

    @property
    def use_learnt(self) -> bool:
        return bool(self.meta.get("use_learnt"))

    def level_for_mark(self, mark: int) -> int:
        for lv, lo, hi in self.meta["levels"]:
            if lo <= mark <= hi:
                return int(lv)
        raise ValueError(f"mark {mark} is outside every level")

    def predict(self, texts: Sequence[str], results: Sequence[Any] | None = None) -> np.ndarray:
        """Learnt marks of texts (whatever ``use_learnt`` says); ``results`` = their MarkResults."""
        texts = list(texts)
        if results is not None:
            rkey = (self.meta["rubric"], self.meta["rubric_version"])
            for t, r in zip(texts, results):
                remember_engine_result(t, rkey, r)
        return self.regressor.predict(texts)

    def apply(self, result: Any, text: str) -> Any:
        """A copy of the rubric engine's result with the learnt mark and level when ``use_learnt``.

        Criterion bands, evidence spans, points, flags and feedback stay the engine's; only
        ``mark``, ``level`` and ``model`` change.  Without ``use_learnt`` the copy is unchanged.
        """
        rid, rver = self.meta["rubric"], self.meta["rubric_version"]
        if (result.rubric, str(result.rubric_version)) != (rid, str(rver)):
            raise CalibrationError(
                f"model {self.model_id} was trained for rubric {rid} v{rver}, "
                f"not {result.rubric} v{result.rubric_version}"
            )
        out = copy.deepcopy(result)
        if not self.use_learnt:
            return out
        m = int(self.predict([text], [result])[0])
        out.mark = m
        out.level = self.level_for_mark(m)
        out.model = self.model_id
        return out


# ---------------------------------------------------------------------------
@dataclass
class CurvePoint:
    n: int  # marked essays trained on (per fold)
    learnt: Agreement
    repeats: int  # folds x seeds pooled


@dataclass
class CalibrationReport:
    rubric: str
    rubric_version: str
    n_essays: int
    folds: int
    stratified: bool
    learnt: Agreement
    rubric_only: Agreement | None
    curve: list[CurvePoint]
    use_learnt: bool
    reason: str
    model_id: str
    use_engine: bool
    seconds: float
    fold_qwk: list[float] = field(default_factory=list)
    model: CalibratedModel | None = None


def report_to_dict(report: CalibrationReport) -> dict[str, Any]:
    """The report's figures as plain JSON-able data (without the model itself)."""
    return {
        "rubric": report.rubric,
        "rubric_version": report.rubric_version,
        "model_id": report.model_id,
        "model_version": MODEL_VERSION,
        "n_essays": report.n_essays,
        "folds": report.folds,
        "stratified": report.stratified,
        "use_engine": report.use_engine,
        "learnt": report.learnt.to_dict(),
        "rubric_only": report.rubric_only.to_dict() if report.rubric_only else None,
        "fold_qwk": [round(q, 4) for q in report.fold_qwk],
        "curve": [{"n": c.n, "repeats": c.repeats, "learnt": c.learnt.to_dict()} for c in report.curve],
        "use_learnt": report.use_learnt,
        "reason": report.reason,
        "seconds": round(report.seconds, 2),
    }


def _folds(marks: np.ndarray, k: int, seed: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], bool]:
    """Stratified k folds when every mark occurs at least k times, else stratified on coarse bins, else plain."""
    X = np.zeros(len(marks))
    _, counts = np.unique(marks, return_counts=True)
    if counts.min() >= k:
        return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(X, marks)), True
    # stratify on quantile bins of the mark (as many as keep >= k essays per bin)
    for nb in (5, 4, 3, 2):
        edges = np.unique(np.quantile(marks, np.linspace(0, 1, nb + 1)[1:-1]))
        bins = np.searchsorted(edges, marks, side="right")
        _, c = np.unique(bins, return_counts=True)
        if len(c) > 1 and c.min() >= k:
            return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(X, bins)), True
    return list(KFold(k, shuffle=True, random_state=seed).split(X)), False


def _model_id(rubric: Any, texts: Sequence[str], marks: Sequence[int], use_engine: bool) -> str:
    h = hashlib.sha256()
    h.update(f"{MODEL_VERSION}|{rubric.id}|{rubric.version}|{use_engine}".encode())
    for t, m in zip(texts, marks):
        h.update(text_key(t).encode())
        h.update(f"|{int(m)};".encode())
    return f"learnt:{rubric.id}@{rubric.version}:{h.hexdigest()[:10]}"


def train(
    texts: Sequence[str],
    marks: Sequence[int],
    rubric: Any,
    *,
    folds: int = 5,
    random_state: int = 0,
    use_engine: bool | str = "auto",
    rubric_results: Sequence[Any] | None = None,
    curve_sizes: Sequence[int] = CURVE_SIZES,
    curve_seeds: int = 2,
    progress: Callable[[str], None] | None = None,
) -> CalibrationReport:
    """Cross-validate the learnt model against the rubric-only marker, then fit it on all essays.

    texts, marks: the teacher's marked essays (marks within the rubric's range).
    rubric: a Rubric, or a rubric id / path for ``marker.load_rubric``.
    use_engine: engine features (bands, points, flags); "auto" = when the rubric has content
        points and ``marker.mark`` is importable.
    rubric_results: the engine's MarkResults (or dicts) for the texts, if already marked; else
        the texts are marked here (each once) when the engine is available.
    Returns a CalibrationReport; ``report.model`` is the fitted CalibratedModel.
    """
    t0 = time.perf_counter()
    say = progress or (lambda s: None)
    if isinstance(rubric, (str, os.PathLike)):
        from .rubric import load_rubric

        rubric = load_rubric(rubric)
    texts = [str(t) for t in texts]
    y = np.asarray([int(round(float(m))) for m in marks], dtype=int)
    if len(texts) != len(y):
        raise CalibrationError(f"{len(texts)} essays but {len(y)} marks")
    lo, hi = mark_range(rubric)
    bad = [int(m) for m in y if not lo <= m <= hi]
    if bad:
        raise CalibrationError(f"marks outside the rubric's range {lo}-{hi}: {sorted(set(bad))[:10]}")
    n = len(texts)
    if n < MIN_ESSAYS:
        raise CalibrationError(f"need at least {MIN_ESSAYS} marked essays to calibrate, got {n}")
    rkey = rubric_key(rubric)

    # the rubric-only marker's marks (and the engine results the features reuse)
    rubric_marks: np.ndarray | None = None
    if rubric_results is not None:
        if len(rubric_results) != n:
            raise CalibrationError(f"{n} essays but {len(rubric_results)} rubric results")
        for t, r in zip(texts, rubric_results):
            remember_engine_result(t, rkey, r)
        rubric_marks = np.array([int(r["mark"] if isinstance(r, dict) else r.mark) for r in rubric_results])
    elif engine_available():
        from .features import engine_result

        say(f"marking {n} essays with the rubric engine")
        rubric_marks = np.array([int(engine_result(t, rubric)["mark"]) for t in texts])
    if use_engine == "auto":
        eng = bool(rubric.points) and (rubric_results is not None or engine_available())
    else:
        eng = bool(use_engine)

    def make() -> MarkRegressor:
        return MarkRegressor(min_mark=lo, max_mark=hi, rubric=rubric, use_engine=eng)

    k = max(2, min(folds, n // 2))
    splits, stratified = _folds(y, k, random_state)
    say(f"{k}-fold cross-validation on {n} essays")
    oof = np.zeros(n, dtype=int)
    fold_qwk = []
    for i, (tr, te) in enumerate(splits):
        m = make().fit([texts[j] for j in tr], y[tr])
        oof[te] = m.predict([texts[j] for j in te])
        fold_qwk.append(qwk(y[te], oof[te], lo, hi))
    learnt = agreement(y, oof, rubric)
    rub_agree = agreement(y, rubric_marks, rubric) if rubric_marks is not None else None

    # learning curve: train on n random essays of each training fold, test on the held-out fold
    curve: list[CurvePoint] = []
    rng_base = np.random.RandomState(random_state)
    seeds = rng_base.randint(0, 2**31 - 1, size=max(curve_seeds, 1))
    for size in sorted(set(int(s) for s in curve_sizes)):
        if size >= min(len(tr) for tr, _ in splits):
            continue
        ys, ps = [], []
        for seed in seeds:
            rng = np.random.RandomState(seed)
            for tr, te in splits:
                sub = rng.choice(tr, size=size, replace=False)
                m = make().fit([texts[j] for j in sub], y[sub])
                ys.append(y[te])
                ps.append(m.predict([texts[j] for j in te]))
        curve.append(CurvePoint(size, agreement(np.concatenate(ys), np.concatenate(ps), rubric), len(seeds) * len(splits)))
    curve.append(CurvePoint(min(len(tr) for tr, _ in splits), learnt, 1))

    # the decision
    if rub_agree is None:
        use, reason = False, "the rubric-only marker is not available to compare against; keeping the rubric mark"
    elif n < MIN_FOR_USE:
        use, reason = False, f"only {n} marked essays (at least {MIN_FOR_USE} needed before a learnt mark is used)"
    elif learnt.qwk > rub_agree.qwk and learnt.mae <= rub_agree.mae:
        use, reason = True, (f"learnt model agrees better with the teacher in cross-validation "
                             f"(QWK {learnt.qwk:.3f} vs {rub_agree.qwk:.3f}, MAE {learnt.mae:.2f} vs {rub_agree.mae:.2f})")
    else:
        use, reason = False, (f"learnt model does not beat the rubric-only marker in cross-validation "
                              f"(QWK {learnt.qwk:.3f} vs {rub_agree.qwk:.3f}, MAE {learnt.mae:.2f} vs {rub_agree.mae:.2f}); "
                              "keeping the rubric mark")

    say("fitting the final model on all essays")
    final = make().fit(texts, y)
    # the Rubric object is not stored: at apply time the engine's result comes with each MarkResult
    final.rubric = None
    final.features_.rubric = None
    mid = _model_id(rubric, texts, y, eng)
    try:
        import marker as _m

        marker_version = str(getattr(_m, "__version__", ""))
    except Exception:  # noqa: BLE001
        marker_version = ""
    report = CalibrationReport(
        rubric=rkey[0], rubric_version=rkey[1], n_essays=n, folds=k, stratified=stratified,
        learnt=learnt, rubric_only=rub_agree, curve=curve, use_learnt=use, reason=reason,
        model_id=mid, use_engine=eng, seconds=time.perf_counter() - t0, fold_qwk=fold_qwk,
    )
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_id": mid,
        "model_version": MODEL_VERSION,
        "marker_version": marker_version,
        "rubric": rkey[0],
        "rubric_version": rkey[1],
        "min_mark": lo,
        "max_mark": hi,
        "levels": [[int(lv.level), int(lv.min), int(lv.max)] for lv in sorted(rubric.levels, key=lambda v: v.level)],
        "n_essays": n,
        "use_learnt": use,
        "use_engine": eng,
        "reason": reason,
        "cv": report_to_dict(report),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    report.model = CalibratedModel(final, meta)
    return report


# ---------------------------------------------------------------------------
# saving and loading (skops inside a zip with a JSON metadata block; sha256-checked)
_MODEL_MEMBER = "model.skops"
_META_MEMBER = "meta.json"


def _trusted_types() -> list[str]:
    """Every type a model file may contain: this module's and scikit-learn / numpy types we use."""
    return [
        "marker.calibrate.MarkRegressor",
        "marker.features.EssayFeatures",
        "sklearn.linear_model._base.LinearRegression",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn._loss._loss.CyHalfSquaredError",
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.Interval",
        "numpy.random._generator.Generator",
        "numpy.uint64",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.float64",
        "numpy.int64",
        "builtins.dict",
        "builtins.list",
        "builtins.str",
        "builtins.float",
        "builtins.int",
        "builtins.bool",
        "builtins.tuple",
        "builtins.NoneType",
    ]


def save_model(model: CalibratedModel, path: str | os.PathLike[str]) -> Path:
    """Write the model as one file: a zip holding ``model.skops`` and ``meta.json`` (with its sha256)."""
    import skops.io as sio

    data = _stable_zip(sio.dumps(model.regressor))
    meta = dict(model.meta)
    meta["sha256"] = hashlib.sha256(data).hexdigest()
    meta["format"] = FORMAT
    meta["format_version"] = FORMAT_VERSION
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        zi = zipfile.ZipInfo(_META_MEMBER, date_time=(2020, 1, 1, 0, 0, 0))
        z.writestr(zi, json.dumps(meta, indent=1, sort_keys=True))
        zi = zipfile.ZipInfo(_MODEL_MEMBER, date_time=(2020, 1, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_STORED  # skops output is already a zip
        z.writestr(zi, data)
    os.replace(tmp, p)
    return p


def _stable_zip(data: bytes) -> bytes:
    """skops output made reproducible: object ids renumbered in order of appearance, member
    files renamed to match, fixed timestamps.  The same model then gives the same bytes (and
    sha256), and ``skops.io.loads`` reads it as before."""
    src = zipfile.ZipFile(io.BytesIO(data))
    schema = json.loads(src.read("schema.json"))
    ids: dict[str, str] = {}

    def new_id(old: Any) -> str:
        return ids.setdefault(str(old), str(len(ids) + 1))

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "__id__" and isinstance(v, int):
                    out[k] = int(new_id(v))
                elif k == "file" and isinstance(v, str) and v in src.namelist():
                    stem, dot, ext = v.partition(".")
                    out[k] = new_id(stem) + dot + ext
                else:
                    out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    schema = walk(schema)
    members = {"schema.json": json.dumps(schema, indent=2, sort_keys=True).encode("utf-8")}
    for name in src.namelist():
        if name != "schema.json":
            stem, dot, ext = name.partition(".")
            if stem not in ids:
                raise CalibrationError("cannot store the model: unexpected skops member " + name)
            members[ids[stem] + dot + ext] = src.read(name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for name in sorted(members):
            zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(zi, members[name])
    return buf.getvalue()


def read_model_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata block of a model file (no model is loaded)."""
    meta, _ = _read_container(path)
    return meta


def _read_container(path: str | os.PathLike[str]) -> tuple[dict[str, Any], bytes]:
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as z:
            names = set(z.namelist())
            if names != {_META_MEMBER, _MODEL_MEMBER}:
                raise CalibrationError(f"{p}: not a model file written by essay-marker (unexpected contents)")
            meta = json.loads(z.read(_META_MEMBER).decode("utf-8"))
            data = z.read(_MODEL_MEMBER)
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalibrationError(f"{p}: not a model file written by essay-marker ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CalibrationError(f"{p}: not a model file written by essay-marker (no {FORMAT} metadata)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CalibrationError(f"{p}: model file format {meta.get('format_version')} is not supported "
                               f"(this version reads {FORMAT_VERSION}); calibrate again")
    return meta, data


def load_model(path: str | os.PathLike[str]) -> CalibratedModel:
    """Load a model file written by ``save_model``.

    Refuses (CalibrationError) a file that is not one of ours, whose model bytes do not match
    the sha256 in its metadata, of another model version, or that holds any type outside the
    explicit trusted list (nothing is ever unpickled).
    """
    import skops.io as sio

    meta, data = _read_container(path)
    digest = hashlib.sha256(data).hexdigest()
    if digest != meta.get("sha256"):
        raise CalibrationError(f"{path}: the model does not match its recorded sha256 (file changed or damaged)")
    if str(meta.get("model_version")) != MODEL_VERSION:
        raise CalibrationError(f"{path}: model version {meta.get('model_version')} cannot be used by this "
                               f"version (model version {MODEL_VERSION}); calibrate again")
    trusted = _trusted_types()
    try:
        untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in trusted]
    except Exception as exc:  # noqa: BLE001
        raise CalibrationError(f"{path}: unreadable model ({exc})") from None
    if untrusted:
        raise CalibrationError(f"{path}: the model holds types this tool does not write: {untrusted}")
    try:
        reg = sio.loads(data, trusted=trusted)
    except Exception as exc:  # noqa: BLE001
        raise CalibrationError(f"{path}: cannot load the model ({exc})") from None
    if not isinstance(reg, MarkRegressor):
        raise CalibrationError(f"{path}: the file does not hold an essay-marker model")
    return CalibratedModel(reg, meta)


# ---------------------------------------------------------------------------
# reading marked essays
def _read_essay(path: Path) -> str:
    if path.suffix.lower() in ("", ".txt", ".md", ".text"):
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "cp1252", "latin-1"):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                continue
    from . import ingest  # docx, pdf, odt

    items = ingest.read_file(path)
    return "\n\n".join(e.text for e in items)


def read_marked(path: str | os.PathLike[str]) -> tuple[list[str], list[int], list[str]]:
    """Marked essays from a CSV (``file`` or ``text`` column, and ``mark``; files relative to the CSV),
    a folder with ``labels.json`` (objects with ``file`` and ``mark``), or a labels.json itself."""
    p = Path(path)
    if p.is_dir():
        labels = p / "labels.json"
        if labels.is_file():
            return _read_labels(labels)
        csvs = sorted(p.glob("*.csv"))
        if len(csvs) == 1:
            return _read_csv(csvs[0])
        raise CalibrationError(f"{p}: no labels.json (or a single CSV) in this folder")
    if not p.is_file():
        raise CalibrationError(f"{p}: no such file or folder")
    if p.suffix.lower() == ".json":
        return _read_labels(p)
    return _read_csv(p)


def _mark_of(v: Any, where: str) -> int:
    try:
        f = float(str(v).strip())
    except (TypeError, ValueError):
        raise CalibrationError(f"{where}: mark {v!r} is not a number") from None
    if not math.isfinite(f) or f != int(f):
        raise CalibrationError(f"{where}: mark {v!r} is not a whole number")
    return int(f)


def _load_file(base: Path, name: str, where: str) -> str:
    fp = (base / name)
    if not fp.is_file():
        raise CalibrationError(f"{where}: essay file {name!r} not found (relative to {base})")
    try:
        return _read_essay(fp)
    except CalibrationError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise CalibrationError(f"{where}: cannot read {name!r}: {exc}") from None


def _read_labels(path: Path) -> tuple[list[str], list[int], list[str]]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalibrationError(f"{path}: cannot read labels ({exc})") from None
    if not isinstance(items, list):
        raise CalibrationError(f"{path}: expected a list of objects with 'file' and 'mark'")
    texts, marks, names = [], [], []
    for i, it in enumerate(items):
        where = f"{path} item {i}"
        if not isinstance(it, dict) or "file" not in it or "mark" not in it:
            raise CalibrationError(f"{where}: needs 'file' and 'mark'")
        texts.append(_load_file(path.parent, str(it["file"]), where))
        marks.append(_mark_of(it["mark"], where))
        names.append(str(it["file"]))
    return texts, marks, names


def _read_csv(path: Path) -> tuple[list[str], list[int], list[str]]:
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"{path}: cannot read CSV ({exc})") from None
    try:
        dialect = csv.Sniffer().sniff(raw[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.DictReader(io.StringIO(raw), dialect=dialect))
    if not rows:
        raise CalibrationError(f"{path}: no rows")
    cols = {c.strip().lower(): c for c in rows[0].keys() if c}
    if "mark" not in cols or not ({"file", "text"} & set(cols)):
        raise CalibrationError(f"{path}: needs a 'mark' column and a 'file' or 'text' column (has {list(cols)})")
    texts, marks, names = [], [], []
    for i, r in enumerate(rows, start=2):
        where = f"{path} line {i}"
        f = (r.get(cols["file"]) or "").strip() if "file" in cols else ""
        if f:
            texts.append(_load_file(path.parent, f, where))
            names.append(f)
        else:
            t = r.get(cols["text"]) if "text" in cols else None
            if not t:
                raise CalibrationError(f"{where}: neither a file nor a text")
            texts.append(t)
            name_col = cols.get("name") or cols.get("essay")
            names.append((r.get(name_col) or "").strip() if name_col else f"row{i - 1}")
        marks.append(_mark_of(r.get(cols["mark"]), where))
    return texts, marks, names


# ---------------------------------------------------------------------------
# the CLI
def format_report(report: CalibrationReport) -> str:
    def row(name: str, a: Agreement | None) -> str:
        if a is None:
            return f"  {name:<14}{'(not available)':>10}"
        return (f"  {name:<14}{a.qwk:>7.3f}{a.mae:>8.2f}{100 * a.exact_level:>10.0f}%{100 * a.adjacent_level:>10.0f}%"
                f"{100 * a.exact_mark:>10.0f}%")

    lines = [
        f"Calibration for rubric {report.rubric} v{report.rubric_version}: {report.n_essays} marked essays, "
        f"{report.folds}-fold {'stratified ' if report.stratified else ''}cross-validation"
        f"{' (engine features on)' if report.use_engine else ''}",
        "",
        f"  {'':<14}{'QWK':>7}{'MAE':>8}{'level':>11}{'±1 level':>11}{'same mark':>11}",
        row("learnt", report.learnt),
        row("rubric-only", report.rubric_only),
        "",
        "Learning curve (learnt model; trained on n essays of each training fold, tested on the held-out fold):",
        f"  {'n':>5}{'QWK':>8}{'MAE':>8}{'level':>9}",
    ]
    for c in report.curve:
        lines.append(f"  {c.n:>5}{c.learnt.qwk:>8.3f}{c.learnt.mae:>8.2f}{100 * c.learnt.exact_level:>8.0f}%")
    lines += ["", f"use learnt mark: {'yes' if report.use_learnt else 'no'} - {report.reason}",
              f"model: {report.model_id}  ({report.seconds:.1f} s)"]
    return "\n".join(lines)


def run_cli_calibrate(marked_path: str | os.PathLike[str], rubric_ref: str, out_path: str | os.PathLike[str]) -> int:
    """``essay-marker calibrate MARKED --rubric ID --out FILE``: train, print the report, save. Exit code."""
    try:
        from .rubric import RubricError, load_rubric

        try:
            rubric = load_rubric(rubric_ref)
        except RubricError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        texts, marks, _ = read_marked(marked_path)
        print(f"read {len(texts)} marked essays from {marked_path}", file=sys.stderr)
        report = train(texts, marks, rubric, progress=lambda s: print(s, file=sys.stderr))
        print(format_report(report))
        save_model(report.model, out_path)
        print(f"saved {out_path}")
        return 0
    except CalibrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
