"""Calibration: agreement figures, the use_learnt decision, apply(), safe save/load, reading marked essays."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest

from marker.calibrate import (
    CalibrationError,
    CalibratedModel,
    load_model,
    read_marked,
    read_model_meta,
    report_to_dict,
    run_cli_calibrate,
    save_model,
    train,
)
from marker.result import CriterionResult, MarkResult
from marker.rubric import load_rubric
from synthetic import FACTS, TINY_RUBRIC, synthetic_essays


@pytest.fixture(scope="module")
def rubric(tmp_path_factory):
    p = tmp_path_factory.mktemp("rubric") / "tiny_test.yaml"
    p.write_text(TINY_RUBRIC, encoding="utf-8")
    return load_rubric(p)


@pytest.fixture(scope="module")
def data():
    return synthetic_essays(60, seed=7)


def _train(texts, marks, rubric, rubric_marks, **kw):
    # rubric_results stand in for the rubric engine's marks (any object or dict with "mark")
    return train(texts, marks, rubric, rubric_results=[{"mark": int(m)} for m in rubric_marks],
                 curve_sizes=(10, 20), curve_seeds=1, **kw)


@pytest.fixture(scope="module")
def beats(data, rubric):
    """A rubric-only marker that gives everyone 3: the learnt model must beat it."""
    texts, marks = data
    return _train(texts, marks, rubric, [3] * len(marks))


def _result(rubric, mark: int, essay: str = "e.txt") -> MarkResult:
    return MarkResult(
        essay=essay, rubric=rubric.id, rubric_version=rubric.version, marker_version="test", mark=mark,
        max_mark=rubric.max_mark, level=rubric.level_for_mark(mark), confidence=0.5, needs_review=False,
        criteria=[CriterionResult("communication", 2, 4, "Link ideas.")], points=[], flags=[], flag_reasons={},
        feedback={"strengths": [], "targets": []}, stats={"words": 10},
    )


def test_learnt_beats_constant(beats, data):
    texts, marks = data
    y = np.array(marks)
    assert beats.learnt.qwk > 0.6
    assert beats.learnt.mae < np.abs(y - np.median(y)).mean()  # better than the best constant
    assert beats.rubric_only is not None and beats.rubric_only.qwk == 0.0
    assert beats.use_learnt, beats.reason
    assert [c.n for c in beats.curve][:2] == [10, 20]
    d = report_to_dict(beats)
    json.dumps(d)  # plain JSON
    assert d["use_learnt"] is True and d["learnt"]["qwk"] == round(beats.learnt.qwk, 4)


def test_marks_in_range_and_levels(beats, rubric):
    model = beats.model
    extreme = ["", "word " * 2000, " ".join(FACTS * 5)]
    preds = model.predict(extreme)
    assert all(0 <= p <= 6 for p in preds)
    texts, _ = synthetic_essays(15, seed=99)
    for t in texts:
        res = model.apply(_result(rubric, 3), t)
        assert 0 <= res.mark <= rubric.max_mark
        assert res.level == rubric.level_for_mark(res.mark)
        assert res.model == model.model_id != "rubric"
        assert res.criteria[0].band == 2  # bands come from the engine, unchanged


def test_apply_keeps_rubric_result_untouched(beats, rubric):
    original = _result(rubric, 3)
    out = beats.model.apply(original, FACTS[0])
    assert original.mark == 3 and original.model == "rubric"
    assert out is not original


def test_use_learnt_false_when_rubric_marker_is_better(data, rubric):
    texts, marks = data
    rep = _train(texts, marks, rubric, marks)  # a rubric-only marker that agrees perfectly
    assert rep.rubric_only.qwk == 1.0
    assert not rep.use_learnt
    assert "does not beat" in rep.reason
    res = rep.model.apply(_result(rubric, 4), texts[0])
    assert res.mark == 4 and res.model == "rubric"


def test_too_few_essays_refused(data, rubric):
    texts, marks = data
    with pytest.raises(CalibrationError):
        _train(texts[:5], marks[:5], rubric, marks[:5])
    with pytest.raises(CalibrationError):
        _train(texts[:12], [9] * 12, rubric, [3] * 12)  # 9 is outside 0-6


def test_deterministic(beats, data, rubric, tmp_path):
    texts, marks = data
    again = train(texts, marks, rubric, rubric_results=[{"mark": 3}] * len(marks), curve_sizes=(10, 20), curve_seeds=1)
    assert report_to_dict(again)["learnt"] == report_to_dict(beats)["learnt"]
    assert [c.learnt for c in again.curve] == [c.learnt for c in beats.curve]
    assert again.model_id == beats.model_id
    probe, _ = synthetic_essays(20, seed=5)
    assert np.array_equal(again.model.regressor.predict_raw(probe), beats.model.regressor.predict_raw(probe))
    a = read_model_meta(save_model(beats.model, tmp_path / "a.emmodel"))
    b = read_model_meta(save_model(again.model, tmp_path / "b.emmodel"))
    assert a["sha256"] == b["sha256"]


def test_save_load_round_trip(beats, rubric, tmp_path):
    path = save_model(beats.model, tmp_path / "m.emmodel")
    loaded = load_model(path)
    assert isinstance(loaded, CalibratedModel)
    probe, _ = synthetic_essays(20, seed=11)
    assert np.array_equal(loaded.predict(probe), beats.model.predict(probe))
    assert np.allclose(loaded.regressor.predict_raw(probe), beats.model.regressor.predict_raw(probe))
    meta = loaded.meta
    assert meta["rubric"] == "tiny_test" and meta["rubric_version"] == "1"
    assert meta["n_essays"] == 60 and meta["use_learnt"] is True
    assert "qwk" in meta["cv"]["learnt"] and len(meta["sha256"]) == 64
    assert loaded.apply(_result(rubric, 3), probe[0]).mark == beats.model.apply(_result(rubric, 3), probe[0]).mark


def _rewrite(path, meta=None, model=None):
    with zipfile.ZipFile(path) as z:
        m = json.loads(z.read("meta.json"))
        data = z.read("model.skops")
    meta = m if meta is None else meta(m)
    data = data if model is None else model(data)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("meta.json", json.dumps(meta))
        z.writestr("model.skops", data)


def test_tampered_file_refused(beats, tmp_path):
    path = save_model(beats.model, tmp_path / "m.emmodel")

    def flip(data: bytes) -> bytes:
        b = bytearray(data)
        b[len(b) // 2] ^= 0xFF
        return bytes(b)

    _rewrite(path, model=flip)
    with pytest.raises(CalibrationError, match="sha256"):
        load_model(path)


def test_foreign_files_refused(beats, tmp_path):
    import skops.io as sio
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import FunctionTransformer

    junk = tmp_path / "junk.emmodel"
    junk.write_bytes(b"\x80\x04K\x01.")  # a pickle
    with pytest.raises(CalibrationError, match="not a model file"):
        load_model(junk)
    bare = tmp_path / "bare.skops"
    sio.dump(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), bare)  # skops, but not our container
    with pytest.raises(CalibrationError, match="not a model file"):
        load_model(bare)
    # our container, a matching hash, but a type we never write: refused before anything is built
    evil = save_model(beats.model, tmp_path / "evil.emmodel")
    payload = sio.dumps(FunctionTransformer(func=print))
    _rewrite(evil, model=lambda _: payload, meta=lambda m: {**m, "sha256": hashlib.sha256(payload).hexdigest()})
    with pytest.raises(CalibrationError, match="types"):
        load_model(evil)


def test_wrong_rubric_refused(beats, rubric):
    res = _result(rubric, 3)
    res.rubric_version = "2"
    with pytest.raises(CalibrationError, match="rubric"):
        beats.model.apply(res, FACTS[0])


def test_read_marked_csv_and_labels(tmp_path):
    (tmp_path / "a.txt").write_text("First essay.", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Second essay.", encoding="utf-8")
    (tmp_path / "marks.csv").write_text("file,mark\na.txt,3\nb.txt,5\n", encoding="utf-8")
    assert read_marked(tmp_path / "marks.csv") == (["First essay.", "Second essay."], [3, 5], ["a.txt", "b.txt"])
    (tmp_path / "texts.csv").write_text('text,mark\n"Inline, with comma.",2\n', encoding="utf-8")
    texts, marks, _ = read_marked(tmp_path / "texts.csv")
    assert texts == ["Inline, with comma."] and marks == [2]
    (tmp_path / "labels.json").write_text(json.dumps([{"file": "b.txt", "mark": 4, "level": 1}]), encoding="utf-8")
    assert read_marked(tmp_path) == (["Second essay."], [4], ["b.txt"])
    (tmp_path / "bad.csv").write_text("file,mark\nmissing.txt,3\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match="not found"):
        read_marked(tmp_path / "bad.csv")
    (tmp_path / "nomark.csv").write_text("file\na.txt\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match="mark"):
        read_marked(tmp_path / "nomark.csv")


def test_run_cli_calibrate(tmp_path, capsys, monkeypatch):
    import marker.calibrate as cal

    rubric_path = tmp_path / "tiny_test.yaml"
    rubric_path.write_text(TINY_RUBRIC, encoding="utf-8")
    texts, marks = synthetic_essays(24, seed=3)
    rows = io.StringIO()
    rows.write("text,mark\n")
    for t, m in zip(texts, marks):
        rows.write('"' + t.replace('"', '""') + f'",{m}\n')
    (tmp_path / "marked.csv").write_text(rows.getvalue(), encoding="utf-8")
    monkeypatch.setattr(cal, "CURVE_SIZES", (10,))
    real_train = cal.train
    # the rubric-only marks come from the engine when it is there; stand in for it here
    monkeypatch.setattr(cal, "train", lambda t, m, r, **kw: real_train(
        t, m, r, rubric_results=[{"mark": 3}] * len(t), curve_sizes=(10,), curve_seeds=1, **kw))
    out = tmp_path / "model.emmodel"
    assert run_cli_calibrate(tmp_path / "marked.csv", str(rubric_path), out) == 0
    printed = capsys.readouterr().out
    assert "learnt" in printed and "rubric-only" in printed and "Learning curve" in printed
    assert load_model(out).meta["n_essays"] == 24
    assert run_cli_calibrate(tmp_path / "nothing.csv", str(rubric_path), out) == 2


def test_same_bytes_whatever_the_process_history(rubric, monkeypatch):
    import marker.features as F

    texts, marks = synthetic_essays(30, seed=21)

    def sha() -> str:
        rep = train(texts, marks, rubric, rubric_results=[{"mark": 3}] * 30, curve_sizes=(), curve_seeds=1)
        import skops.io as sio

        from marker.calibrate import _stable_zip

        return hashlib.sha256(_stable_zip(sio.dumps(rep.model.regressor))).hexdigest()

    first = sha()
    monkeypatch.setattr(F, "_VOCAB_LIMIT", 0)  # next call starts with an empty n-gram memo ...
    other, _ = synthetic_essays(25, seed=8)
    F.EssayFeatures(use_engine=False).fit(other[::-1])  # ... filled in a different order
    monkeypatch.setattr(F, "_VOCAB_LIMIT", 10**9)
    assert sha() == first


def test_trees_and_cut_points_round_trip(tmp_path, monkeypatch):
    """From HGB_MIN_N essays the model adds the joint ridge and boosted trees; they save, load (explicit
    trusted types) and give byte-identical files when trained twice on the same data."""
    import skops.io as sio

    import marker.calibrate as cal
    from marker.calibrate import HGB_MIN_N, MarkRegressor, _stable_zip

    monkeypatch.setitem(cal.HGB_PARAMS, "max_iter", 15)  # the same code path, fewer boosting rounds: fast

    texts, marks = synthetic_essays(max(HGB_MIN_N, 120), seed=13)
    a = MarkRegressor(0, 6).fit(texts, marks)
    b = MarkRegressor(0, 6).fit(list(texts), list(marks))
    assert "trees" in a.blocks_ and "joint" in a.blocks_ and a.cut_method_ in ("round", "affine", "cuts")
    assert np.all(np.diff(a.cuts_) > 0) and len(a.cuts_) == 6
    assert hashlib.sha256(_stable_zip(sio.dumps(a))).digest() == hashlib.sha256(_stable_zip(sio.dumps(b))).digest()
    model = CalibratedModel(a, {"model_id": "learnt:test", "model_version": "x", "use_learnt": True})
    from marker.calibrate import MODEL_VERSION

    model.meta["model_version"] = MODEL_VERSION
    loaded = load_model(save_model(model, tmp_path / "trees.emmodel"))
    probe, _ = synthetic_essays(25, seed=14)
    assert np.array_equal(loaded.predict(probe), a.predict(probe))
    assert np.allclose(loaded.regressor.predict_raw(probe), a.predict_raw(probe))
    assert all(0 <= p <= 6 for p in loaded.predict(["", "word " * 3000]))


def test_cut_points_fit_qwk():
    from marker.calibrate import _affine_cuts, _apply_cuts, _choose_cuts, _optimised_cuts, _qwk_fast, qwk

    rng = np.random.RandomState(0)
    y = rng.randint(0, 7, 300)
    p = 3 + 0.5 * (y - 3) + rng.randn(300) * 0.6  # shrunk towards the mean, as ridge marks are
    assert abs(_qwk_fast(y, np.clip(np.rint(p), 0, 6).astype(int)) - qwk(y, np.clip(np.rint(p), 0, 6), 0, 6)) < 1e-9
    base = qwk(y, _apply_cuts(p, np.arange(6) + 0.5, 0), 0, 6)
    aff = qwk(y, _apply_cuts(p, _affine_cuts(p, y, 0, 6), 0), 0, 6)
    opt = qwk(y, _apply_cuts(p, _optimised_cuts(p, y, 0, 6), 0), 0, 6)
    assert base < aff <= opt + 1e-12
    cuts, method = _choose_cuts(p, y, 0, 6)
    assert method in ("affine", "cuts") and np.all(np.diff(cuts) > 0)
