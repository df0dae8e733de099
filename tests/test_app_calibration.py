"""Learn from my marks: training on the teacher's overrides, storing the model, switching the
assignment to the learnt marker and back, access control, and the app page (AppTest)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from streamlit.testing.v1 import AppTest

from conftest_app import (  # noqa: F401 - fixtures
    PASSWORD, RUBRIC_ID, ROOT, book, class_and_assignment, db_url, make_essays, sqlite_url, teacher,
)
from markbook.auth import PermissionDenied, Principal
from markbook.db import Database
from markbook.models import Assignment, LearntModel, Result
from markbook.service import MIN_TEACHER_MARKS, CalibrationRefused, MarkBook

APP = str(ROOT / "ui" / "app.py")
EMAIL = "okafor@school.example"
KEY_PHRASES = ("Testament", "Lenin Enrolment", "funeral", "Socialism in One Country")
FAST = {"curve_sizes": (10, 15), "curve_seeds": 1}  # a shorter learning curve keeps the tests quick


def teacher_mark(essay: str) -> int:
    """A teacher who rewards specific knowledge (the rubric marker does not see it this way)."""
    return 4 + 3 * sum(p in essay for p in KEY_PHRASES)


def seed(book, t, aid, n_essays: int) -> list[dict]:
    """Upload and mark ``n_essays`` essays; return the results table rows."""
    book.ingest_uploads(t, aid, [(name, body.encode()) for name, body in make_essays(n_essays)])
    book.mark_pending(t, aid, processes=1)
    return book.results_table(t, aid)


def give_teacher_marks(book, t, rows: list[dict]) -> None:
    """Override each row with the teacher's mark (a band change when the mark already agrees)."""
    for r in rows:
        v = book.submission_detail(t, r["submission_id"])
        m = teacher_mark(v.text)
        if m != v.result.mark:
            book.override(t, v.result.id, mark=m, reason="my mark")
        else:
            band = v.result.bands["luck"]
            book.override(t, v.result.id, bands={"luck": (band + 1) % 5}, reason="agree with the mark")


def load_stored_model(book, model_id: int):
    from marker.calibrate import load_model
    import tempfile

    with book.db.session() as s:
        blob = s.get(LearntModel, model_id).model_file
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "m.emmodel"
        p.write_bytes(blob)
        return load_model(p)


# --------------------------------------------------------------------------- service
def test_learn_switch_to_the_learnt_marker_and_back(book, teacher, class_and_assignment):
    import marker

    _cid, aid = class_and_assignment
    rows = seed(book, teacher, aid, 30)
    by_student = sorted(rows, key=lambda r: r["student"])
    marked, untouched = by_student[:24], by_student[24:]
    give_teacher_marks(book, teacher, marked)
    status = book.calibration_status(teacher, aid)
    assert status.teacher_marked == 24 and status.can_learn and status.models == [] and status.active is None

    m = book.learn_from_marks(teacher, aid, **FAST)
    assert m.n_essays == 24 and m.rubric_id == RUBRIC_ID and m.model_key.startswith("learnt:")
    rep = m.report
    assert {"qwk", "mae", "exact_level", "adjacent_level"} <= set(rep["learnt"]) <= set(rep["rubric_only"]) | {"n"}
    assert rep["curve"] and all("n" in c and "qwk" in c["learnt"] for c in rep["curve"])
    assert m.use_learnt, m.reason  # the teacher's marks follow content the rubric marker weighs differently
    assert rep["learnt"]["qwk"] > rep["rubric_only"]["qwk"]

    # stored: the model file (sha256-checked on load) and its figures
    with book.db.session() as s:
        row = s.get(LearntModel, m.id)
        assert row.assignment_id == aid and row.created_by == teacher.id and row.n_essays == 24
        assert row.report["learnt"] == rep["learnt"] and row.use_learnt
        assert s.get(Assignment, aid).active_model_id is None  # training alone does not switch
    model = load_stored_model(book, m.id)
    assert model.use_learnt

    # switch: untouched essays show the learnt mark, overridden ones keep the teacher's mark
    n = book.use_learnt_marker(teacher, aid, m.id)
    assert n == 30
    table = {r["submission_id"]: r for r in book.results_table(teacher, aid)}
    for r in untouched:
        v = book.submission_detail(teacher, r["submission_id"])
        with book.db.session() as s:
            rubric_row = s.scalar(select(Result).where(Result.submission_id == r["submission_id"],
                                                       Result.model == "rubric"))
            rubric_json = rubric_row.result_json
        expected = model.apply(marker.MarkResult.from_dict(rubric_json), v.text)
        t = table[r["submission_id"]]
        assert t["model"] == m.model_key and v.result.model == m.model_key
        assert t["mark"] == t["marker_mark"] == expected.mark and t["level"] == expected.level
        assert t["rubric_mark"] == rubric_json["mark"] and not t["overridden"]
        assert v.result.bands == {c["id"]: c["band"] for c in rubric_json["criteria"]}  # bands unchanged
        assert v.result.feedback == rubric_json["feedback"]
        assert any(o["model"] == "rubric" for o in v.older_results)
    for r in marked:
        t = table[r["submission_id"]]
        assert t["overridden"] and t["mark"] == teacher_mark(book.submission_detail(teacher, r["submission_id"]).text)
    assert any(table[r["submission_id"]]["mark"] != r["mark"] for r in untouched)  # the learnt mark differs somewhere
    export = book.markbook_rows(teacher, aid)
    assert {e["Marked by"] for e in export} == {"learnt marker"}
    status = book.calibration_status(teacher, aid)
    assert status.active is not None and status.active.id == m.id

    # an essay marked after the switch gets the learnt mark too
    extra = "Stalin won because of the Testament being hidden and the Lenin Enrolment of 1924.\n\n" + make_essays(1)[0][1]
    book.ingest_uploads(teacher, aid, [("late_student.txt", extra.encode())])
    book.mark_pending(teacher, aid, processes=1)
    late = next(r for r in book.results_table(teacher, aid) if r["student"] == "Late Student")
    assert late["model"] == m.model_key

    # an override made while the learnt marker is shown stays the teacher's mark after switching back
    some = untouched[0]["submission_id"]
    shown = book.submission_detail(teacher, some).result
    new_mark = 3 if shown.mark != 3 else 5
    book.override(teacher, shown.id, mark=new_mark, reason="I disagree with the learnt mark")

    # back to the rubric marker: the rubric results are shown again (learnt rows are kept)
    book.use_rubric_marker(teacher, aid)
    table = {r["submission_id"]: r for r in book.results_table(teacher, aid)}
    for r in untouched[1:]:
        t = table[r["submission_id"]]
        assert t["model"] == "rubric" and t["mark"] == r["mark"] and t["rubric_mark"] == r["mark"]
    assert table[some]["mark"] == new_mark and table[some]["overridden"]
    assert {e["Marked by"] for e in book.markbook_rows(teacher, aid)} == {"rubric marker"}
    assert book.calibration_status(teacher, aid).active is None

    actions = [e["action"] for e in book.audit_log(teacher)]
    assert {"calibration.train", "calibration.use_learnt", "calibration.use_rubric"} <= set(actions)
    train_entry = next(e for e in book.audit_log(teacher) if e["action"] == "calibration.train")
    assert train_entry["detail"]["model"] == m.id and train_entry["detail"]["essays"] == 24

    # another teacher can neither see, train, nor switch this assignment, nor use its model elsewhere
    other = book.create_teacher("Mr Berg", "berg@school.example", PASSWORD)
    for call in (lambda: book.calibration_status(other, aid), lambda: book.learn_from_marks(other, aid),
                 lambda: book.use_learnt_marker(other, aid, m.id), lambda: book.use_rubric_marker(other, aid)):
        with pytest.raises(PermissionDenied):
            call()
    ocid = book.create_class(other, "Other class")
    oaid = book.create_assignment(other, ocid, "Other essay", rubric_id=RUBRIC_ID)
    with pytest.raises(PermissionDenied):
        book.use_learnt_marker(other, oaid, m.id)
    assert book.calibration_status(other, oaid).models == []
    student = Principal("student", 1, "x")
    with pytest.raises(PermissionDenied):
        book.learn_from_marks(student, aid)
    with book.db.session() as s:
        assert s.get(Assignment, oaid).active_model_id is None
        assert s.get(Assignment, aid).active_model_id is None


def test_fewer_than_15_marks_is_refused_and_a_model_that_does_not_win_cannot_be_used(book, teacher,
                                                                                     class_and_assignment):
    _cid, aid = class_and_assignment
    rows = sorted(seed(book, teacher, aid, 16), key=lambda r: r["student"])
    give_teacher_marks(book, teacher, rows[:MIN_TEACHER_MARKS - 1])
    assert not book.calibration_status(teacher, aid).can_learn
    with pytest.raises(CalibrationRefused, match=f"at least {MIN_TEACHER_MARKS} essays.*has {MIN_TEACHER_MARKS - 1}"):
        book.learn_from_marks(teacher, aid)
    with book.db.session() as s:
        assert s.scalar(select(LearntModel.id)) is None

    # 16 marked essays: it trains, but the engine needs more before the learnt mark is used
    give_teacher_marks(book, teacher, rows[MIN_TEACHER_MARKS - 1:])
    m = book.learn_from_marks(teacher, aid, **FAST)
    assert m.n_essays == 16 and not m.use_learnt and m.reason
    assert book.calibration_status(teacher, aid).models[0].reason == m.reason
    with pytest.raises(CalibrationRefused, match="cannot be used"):
        book.use_learnt_marker(teacher, aid, m.id)
    assert all(r["model"] == "rubric" for r in book.results_table(teacher, aid))
    assert "calibration.use_learnt" not in [e["action"] for e in book.audit_log(teacher)]


def test_migration_from_0001_keeps_rows_and_adds_the_learnt_marker_tables(sqlite_url):
    from markbook.db import make_engine, upgrade

    eng = make_engine(sqlite_url)
    upgrade(eng, "0001")
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO teachers (id, name, email, password_hash, created_at) "
                          "VALUES (1, 'Old', 'old@x.org', 'h', '2024-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO classes (id, teacher_id, name, created_at) VALUES (1, 1, 'C', '2024-01-01')"))
        conn.execute(text("INSERT INTO assignments (id, class_id, title, question, rubric_id, rubric_version, "
                          "rubric_yaml, feedback_only, created_at) VALUES (1, 1, 'A', 'Q', 'r', '1', 'y', 0, "
                          "'2024-01-01')"))
        conn.execute(text("INSERT INTO students (id, class_id, name, created_at) VALUES (1, 1, 'S', '2024-01-01')"))
        conn.execute(text("INSERT INTO submissions (id, assignment_id, student_id, draft, kind, text, source_name, "
                          "content_hash, status, created_at) VALUES (1, 1, 1, 1, 'final', 'T', 's.txt', 'h', "
                          "'pending', '2024-01-01')"))
    eng.dispose()
    db = Database(sqlite_url)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM submissions")).scalar() == 1  # no cascade on upgrade
        assert conn.execute(text("SELECT active_model_id FROM assignments")).scalar() is None
        assert conn.execute(text("SELECT count(*) FROM calibrated_models")).scalar() == 0
    db.dispose()


# --------------------------------------------------------------------------- the app
@pytest.fixture
def app_book(tmp_path, monkeypatch):
    path = tmp_path / "app.db"
    monkeypatch.setenv("ESSAY_MARKER_DB", str(path))
    db = Database(f"sqlite:///{path}")
    yield MarkBook(db)
    db.dispose()


def texts(at) -> str:
    parts = []
    for kind in ("markdown", "caption", "success", "info", "warning", "error", "header", "subheader"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def test_app_learn_button_shows_figures_and_switches(app_book):
    book = app_book
    t = book.create_teacher("Ms Okafor", EMAIL, PASSWORD, first_run=True)
    cid = book.create_class(t, "12B History")
    aid = book.create_assignment(t, cid, "Stalin v Trotsky", rubric_id=RUBRIC_ID)
    rows = seed(book, t, aid, 22)
    give_teacher_marks(book, t, rows[:10])

    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="signin_email").input(EMAIL)
    at.text_input(key="signin_password").input(PASSWORD)
    next(b for b in at.button if getattr(b, "form_id", "") == "teacher_signin").click().run()
    at.sidebar.radio(key="nav").set_value("Learn from my marks").run()
    assert not at.exception
    page = texts(at)
    assert "10** essay(s) have your own mark" in page and "no separate" in page
    assert at.button(key="learn_marks").disabled

    give_teacher_marks(book, t, rows[10:])
    at.run()
    assert not at.button(key="learn_marks").disabled
    at.button(key="learn_marks").click().run()
    assert not at.exception
    page = texts(at)
    assert "Learnt marker #1 trained on 22 of your marks" in page
    assert "QWK, learnt marker" in page and "QWK, rubric marker" in page
    figures = at.dataframe[0].value
    assert list(figures["Marker"]) == ["Learnt marker", "Rubric marker"]
    assert {"Agreement (QWK)", "Average gap in marks (MAE)", "Same level", "Within one level"} <= set(figures.columns)
    assert "Learning curve" in page
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1 and "Essays learnt from" in charts[0].proto.spec

    at.button(key="use_learnt").click().run()
    assert not at.exception
    assert "Now using learnt marker #1" in texts(at)
    assert "uses the learnt marker #1" in texts(at)
    at.sidebar.radio(key="nav").set_value("Review").run()
    assert not at.exception
    assert "Marks come from the learnt marker" in texts(at)

    at.sidebar.radio(key="nav").set_value("Learn from my marks").run()
    at.button(key="use_rubric").click().run()
    assert not at.exception
    assert "Now using the rubric marker" in texts(at)
    with book.db.session() as s:
        assert s.get(Assignment, aid).active_model_id is None
