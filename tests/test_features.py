"""EssayFeatures: shape, determinism, rubrics without content points, TF-IDF equal to scikit-learn's."""
from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp

from marker.features import MECHANICS_FEATURES, EssayFeatures, engine_available, mechanics
from marker.rubric import load_rubric
from synthetic import TINY_RUBRIC, synthetic_essays


@pytest.fixture()
def tiny_rubric(tmp_path):
    p = tmp_path / "tiny_test.yaml"
    p.write_text(TINY_RUBRIC, encoding="utf-8")
    return load_rubric(p)


def test_shape_sparse_and_names():
    texts, _ = synthetic_essays(30)
    f = EssayFeatures(use_engine=False).fit(texts)
    X = f.transform(texts)
    assert sp.issparse(X)
    assert X.shape == (30, f.n_features_out_)
    assert f.n_dense_ == len(MECHANICS_FEATURES)
    assert len(f.get_feature_names_out()) == X.shape[1]
    assert np.isfinite(X.data).all()
    # unseen text, empty text, new words: no error, same width
    Y = f.transform(["", "Completely novel zebra words appear here!"])
    assert Y.shape == (2, X.shape[1])


def test_deterministic():
    texts, _ = synthetic_essays(25, seed=3)
    a = EssayFeatures(use_engine=False).fit(texts).transform(texts)
    b = EssayFeatures(use_engine=False).fit(list(texts)).transform(texts)
    assert (a != b).nnz == 0


def test_rubric_without_content_points(tiny_rubric):
    texts, _ = synthetic_essays(12, seed=1)
    f = EssayFeatures(rubric=tiny_rubric).fit(texts)  # use_engine="auto": off without content points
    assert f.use_engine_ is False
    assert f.transform(texts).shape[0] == 12
    g = EssayFeatures(rubric=tiny_rubric, use_text=False).fit(texts)
    assert g.transform(texts).shape == (12, len(MECHANICS_FEATURES))


def test_tfidf_blocks_equal_sklearn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts, _ = synthetic_essays(40, seed=2)
    texts.append("A short one: @CAPS1 went to @LOCATION2. I am a b c")
    f = EssayFeatures(use_mechanics=False, use_engine=False).fit(texts)
    T = f.text_block(texts)
    pre = lambda s: re.sub(r"@([A-Za-z]+)\d*", r" anon\1 ", s).lower()  # noqa: E731
    nw = len(f.word_terms_)
    for cols, vec, terms in (
        (slice(0, nw), TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, preprocessor=pre), f.word_terms_),
        (slice(nw, None), TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                                          preprocessor=pre), f.char_terms_),
    ):
        ref = vec.fit_transform(texts)
        idx = {t: i for i, t in enumerate(vec.get_feature_names_out())}
        assert len(idx) == len(terms)
        diff = ref[:, [idx[t] for t in terms]] - T[:, cols]
        assert abs(diff).max() < 1e-12


def test_mechanics_values(tiny_rubric):
    text = "The king was crowned in 1066.  He ruled wisely!\n\nHis sonn recieved the throne later."
    m = mechanics(text)
    assert m["words"] == 15
    assert m["sentences"] == 3
    assert m["paragraphs"] == 2
    assert m["spelling_error_rate"] > 0  # "sonn", "recieved"
    clean = mechanics("The king was crowned. He ruled wisely.")
    assert clean["spelling_error_rate"] == 0
    # rubric vocabulary counts as correctly spelt
    assert mechanics("Trotsky met Zinoviev.", allowed_words=["zinoviev", "trotsky"])["spelling_error_rate"] == 0


def test_engine_features():
    if not engine_available():
        pytest.skip("marker.mark is not importable yet; engine features not tested")
    rubric = load_rubric("stalin_trotsky_1929")
    texts = [
        "Stalin became General Secretary in 1922 and used the post to appoint his supporters. "
        "Trotsky was arrogant and was ill when Lenin died, so he missed the funeral.",
        "Trotsky lost because he was seen as a threat by the other leaders, who feared a Bonapartist. "
        "Stalin allied with Zinoviev and Kamenev and later turned on them.",
        "I like football and my holidays were fun.",
    ]
    f = EssayFeatures(rubric=rubric, use_engine=True, use_text=False).fit(texts)
    assert f.use_engine_
    X = f.transform(texts)
    names = f.dense_feature_names()
    assert X.shape == (3, len(names))
    assert any(n.startswith("point_") for n in names) and any(n.startswith("band_") for n in names)
    assert (f.transform(texts) != X).nnz == 0  # memoised engine results give the same features


def test_memo_reset_between_calls_gives_same_features(monkeypatch):
    import marker.features as F

    texts, _ = synthetic_essays(20, seed=4)
    f = EssayFeatures(use_engine=False).fit(texts)
    before = f.transform(texts)
    monkeypatch.setattr(F, "_VOCAB_LIMIT", 10)  # every call now starts with a fresh n-gram memo
    # the same values up to floating-point summation order
    assert abs(f.transform(texts) - before).max() < 1e-12
    assert abs(EssayFeatures(use_engine=False).fit(texts).transform(texts) - before).max() < 1e-12
