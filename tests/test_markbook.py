"""Storage and service tests for the mark book (SQLite always; PostgreSQL when configured)."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

import marker
from conftest_app import (  # noqa: F401 - fixtures
    PASSWORD, RUBRIC_ID, book, class_and_assignment, db_url, make_essays, sqlite_url, teacher,
)
from markbook import AuthError, PermissionDenied
from markbook.db import Database, current_revision, resolve_url
from markbook.models import AuditLog, Base, Result, Submission
from markbook.service import MarkBook


def upload(book, teacher, aid, n=5, seed=7):
    files = [(name, txt.encode()) for name, txt in make_essays(n, seed)]
    return book.ingest_uploads(teacher, aid, files)


# --------------------------------------------------------------------------- database setup
def test_resolve_url(monkeypatch, tmp_path):
    monkeypatch.delenv("ESSAY_MARKER_DB", raising=False)
    assert resolve_url().endswith("/essay-marker.db") and resolve_url().startswith("sqlite:///")
    assert resolve_url(tmp_path / "x.db") == f"sqlite:///{tmp_path / 'x.db'}"
    assert resolve_url("postgresql+psycopg://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    monkeypatch.setenv("ESSAY_MARKER_DB", str(tmp_path / "env.db"))
    assert resolve_url() == f"sqlite:///{tmp_path / 'env.db'}"


def test_migrations_bring_a_fresh_db_to_head_and_match_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from markbook.db import alembic_config

    db = Database(db_url)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(db.engine) == head
    tables = set(inspect(db.engine).get_table_names())
    assert {"teachers", "classes", "students", "assignments", "submissions", "results", "overrides",
            "audit_log", "auth_sessions", "similar_pairs"} <= tables
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == [], f"models and migrations differ: {diffs}"
    db.dispose()
    Database(db_url).dispose()  # opening again is a no-op upgrade


def test_an_old_database_is_upgraded_and_keeps_its_rows(sqlite_url):
    """A DB stamped at the first revision (with data) comes up to head on open, data intact."""
    from markbook.db import make_engine, upgrade

    eng = make_engine(sqlite_url)
    upgrade(eng, "0001")
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO teachers (name, email, password_hash, created_at) "
                          "VALUES ('Old', 'old@x.org', 'h', '2024-01-01 00:00:00')"))
    eng.dispose()
    db = Database(sqlite_url)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT email FROM teachers")).scalar() == "old@x.org"
    db.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url):
    db = Database(sqlite_url)
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar().lower() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


# --------------------------------------------------------------------------- persistence
def test_data_survives_a_restart(db_url):
    db = Database(db_url)
    book = MarkBook(db)
    t = book.create_teacher("Mr Reed", "reed@school.example", PASSWORD, first_run=True)
    cid = book.create_class(t, "13A")
    aid = book.create_assignment(t, cid, "Essay", rubric_id=RUBRIC_ID)
    upload(book, t, aid, n=3)
    book.mark_pending(t, aid)
    db.dispose()

    db2 = Database(db_url)  # a new engine on the same database
    book2 = MarkBook(db2)
    t2, _token = book2.sign_in_teacher("reed@school.example", PASSWORD)
    rows = book2.results_table(t2, aid)
    assert len(rows) == 3 and all(r["mark"] is not None for r in rows)
    assert [c.name for c in book2.list_classes(t2)] == ["13A"]
    db2.dispose()


def test_a_marking_run_that_fails_half_way_keeps_what_was_marked(book, teacher, class_and_assignment, monkeypatch):
    _cid, aid = class_and_assignment
    upload(book, teacher, aid, n=5)
    real_mark = marker.mark
    calls = {"n": 0}

    def broken_batch(*a, **k):
        raise RuntimeError("worker pool died")

    def flaky_mark(text_, rubric, essay="pasted", **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise MemoryError("out of memory on essay 3")
        return real_mark(text_, rubric, essay=essay, **kw)

    monkeypatch.setattr(marker, "mark_many", broken_batch)
    monkeypatch.setattr(marker, "mark", flaky_mark)
    report = book.mark_pending(teacher, aid)
    assert report.marked == 4 and len(report.failures) == 1
    assert "out of memory" in report.failures[0][1]
    monkeypatch.undo()

    rows = book.results_table(teacher, aid)
    assert sum(r["mark"] is not None for r in rows) == 4
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["needs_review"]  # failures surface first in the review table
    # Retrying marks only the failed essay.
    report2 = book.mark_pending(teacher, aid, retry_failed=True)
    assert report2.marked == 1
    assert all(r["mark"] is not None for r in book.results_table(teacher, aid))


def test_an_interrupted_run_keeps_completed_chunks_and_resumes(book, teacher, class_and_assignment):
    """E.g. the server stops mid-run: finished chunks are committed, the rest stay pending."""
    _cid, aid = class_and_assignment
    upload(book, teacher, aid, n=5)

    def stop_in_second_chunk(done, total, name):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        book.mark_pending(teacher, aid, progress=stop_in_second_chunk, chunk_size=2)
    assert len(book.pending_ids(teacher, aid)) == 3
    assert sum(r["mark"] is not None for r in book.results_table(teacher, aid)) == 2
    assert book.mark_pending(teacher, aid).marked == 3
    assert book.pending_ids(teacher, aid) == []


def test_remarking_with_a_new_rubric_version_keeps_old_results(book, teacher, class_and_assignment):
    _cid, aid = class_and_assignment
    upload(book, teacher, aid, n=3)
    book.mark_pending(teacher, aid)
    import yaml

    from markbook.service import shipped_rubric_yaml

    y = shipped_rubric_yaml(RUBRIC_ID)
    rub = marker.parse_rubric(y)
    new_yaml = yaml.safe_dump({**yaml.safe_load(y), "version": "99"}, sort_keys=False)
    assert marker.parse_rubric(new_yaml).version == "99"
    assert book.set_rubric(teacher, aid, rubric_yaml=new_yaml) == "99"
    assert len(book.pending_ids(teacher, aid)) == 3
    assert book.mark_pending(teacher, aid).marked == 3
    with book.db.session() as s:
        versions = sorted(v for (v,) in s.execute(select(Result.rubric_version)))
    assert versions == sorted([str(rub.version)] * 3 + ["99"] * 3)
    rows = book.results_table(teacher, aid)
    assert {r["rubric_version"] for r in rows} == {"99"}  # newest shown
    detail = book.submission_detail(teacher, rows[0]["submission_id"])
    assert [o["rubric_version"] for o in detail.older_results] == [str(rub.version)]


# --------------------------------------------------------------------------- uploads
def test_upload_reads_files_csv_and_reports_failures(book, teacher, class_and_assignment):
    cid, aid = class_and_assignment
    essays = make_essays(3)
    csv_bytes = ("student,essay\n" + "".join(f'"Zed {i}","{t}"\n' for i, (_n, t) in enumerate(essays))).encode()
    files = [(essays[0][0], essays[0][1].encode()), ("class_list.csv", csv_bytes),
             ("notes.exe", b"MZ\x90\x00"), ("empty.txt", b"")]
    report = book.ingest_uploads(teacher, aid, files)
    assert sorted(report.added) == ["Alice Smith", "Zed 0", "Zed 1", "Zed 2"]
    failed = dict(report.failures)
    assert set(failed) == {"notes.exe", "empty.txt"} and all(failed.values())
    # the same file again is skipped, not duplicated
    again = book.ingest_uploads(teacher, aid, files[:1])
    assert again.added == [] and len(again.skipped) == 1
    assert {s.name for s in book.list_students(teacher, cid)} == {"Alice Smith", "Zed 0", "Zed 1", "Zed 2"}


def test_upload_a_zip_of_essays(book, teacher, class_and_assignment):
    import io
    import zipfile

    _cid, aid = class_and_assignment
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, txt in make_essays(3, seed=5):
            zf.writestr(f"class set/{name}", txt)
        zf.writestr("class set/broken.docx", b"not a docx")
    report = book.ingest_uploads(teacher, aid, [("12B.zip", buf.getvalue())])
    assert sorted(report.added) == sorted(n.replace(".txt", "").replace("_", " ").title() for n, _ in make_essays(3, 5))
    assert len(report.failures) == 1 and "broken.docx" in report.failures[0][0]


def test_student_names_from_file_names():
    from markbook.names import student_name_from_filename as f

    assert f("alice_smith.docx") == "Alice Smith"
    assert f("class.zip/BEN-JONES.txt") == "Ben Jones"
    assert f("03_chloe_mcdonald_essay_final.pdf") == "Chloe Mcdonald"
    assert f("Daniel McKay draft2.odt") == "Daniel McKay"
    # the question's people are dropped when the assignment's rubric names them, and only then
    assert f("alice_smith_stalin_essay.docx", {"stalin", "trotsky"}) == "Alice Smith"
    assert f("harry_stalin.docx") == "Harry Stalin"


def test_upload_names_drop_the_question_people(book, teacher, class_and_assignment):
    _cid, aid = class_and_assignment
    name, txt = make_essays(1)[0]
    report = book.ingest_uploads(teacher, aid, [("grace_hall_trotsky_essay.txt", txt.encode())])
    assert report.added == ["Grace Hall"]


def test_a_second_upload_of_a_student_is_a_new_draft(book, teacher, class_and_assignment):
    _cid, aid = class_and_assignment
    name, txt = make_essays(1)[0]
    book.ingest_uploads(teacher, aid, [(name, txt.encode())])
    book.ingest_uploads(teacher, aid, [(name, (txt + "\nA further point about Trotsky.").encode())])
    book.mark_pending(teacher, aid)
    rows = book.results_table(teacher, aid)
    assert len(rows) == 1 and rows[0]["draft"] == 2


# --------------------------------------------------------------------------- review & override
def test_results_table_needs_review_first(book, teacher, class_and_assignment):
    _cid, aid = class_and_assignment
    files = [(n, t.encode()) for n, t in make_essays(4)]
    files.append(("zoe_short.txt", b"Stalin won. Trotsky lost. " * 3))  # too short: flagged for review
    book.ingest_uploads(teacher, aid, files)
    book.mark_pending(teacher, aid)
    rows = book.results_table(teacher, aid)
    flags = [r["needs_review"] for r in rows]
    assert flags == sorted(flags, reverse=True) and flags[0]
    assert all(set(("relevance", "evidence", "range", "luck", "analysis", "judgement", "communication")) <= set(r)
               for r in rows)


def test_override_needs_a_reason_is_stored_and_keeps_the_marker_mark(book, teacher, class_and_assignment):
    _cid, aid = class_and_assignment
    upload(book, teacher, aid, n=2)
    book.mark_pending(teacher, aid)
    row = book.results_table(teacher, aid)[0]
    new_mark = 20 if row["mark"] != 20 else 19
    with pytest.raises(ValueError, match="reason"):
        book.override(teacher, row["result_id"], mark=new_mark, reason="  ")
    with pytest.raises(ValueError, match="level"):
        book.override(teacher, row["result_id"], mark=3, level=5, reason="inconsistent")
    book.override(teacher, row["result_id"], mark=new_mark, bands={"judgement": 4},
                  feedback={"strengths": ["A clear argument."], "targets": ["Weigh the factors."]},
                  reason="Judgement is stronger than the marker saw")
    after = next(r for r in book.results_table(teacher, aid) if r["result_id"] == row["result_id"])
    assert after["mark"] == new_mark and after["level"] == 4 and after["overridden"]
    assert after["marker_mark"] == row["marker_mark"] and after["judgement"] == 4
    detail = book.submission_detail(teacher, row["submission_id"])
    assert detail.result.marker_mark == row["marker_mark"] and detail.result.mark == new_mark
    ov = detail.result.overrides[-1]
    assert ov["reason"] == "Judgement is stronger than the marker saw" and ov["teacher"] == "Ms Okafor"
    assert "mark" in ov["changes"] and "band:judgement" in ov["changes"] and "feedback" in ov["changes"]
    assert detail.result.feedback["targets"] == ["Weigh the factors."]
    with book.db.session() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "override")) is not None
    with pytest.raises(ValueError, match="Nothing"):
        book.override(teacher, row["result_id"], mark=new_mark, reason="same again")


# --------------------------------------------------------------------------- sign-in & access
def test_teacher_sign_in_and_sessions(book, teacher):
    with pytest.raises(AuthError):
        book.sign_in_teacher("okafor@school.example", "wrong password")
    with pytest.raises(AuthError):
        book.create_teacher("Second", "x@y.org", PASSWORD, first_run=True)  # setup form only while empty
    p, token = book.sign_in_teacher("OKAFOR@school.example ", PASSWORD)
    assert book.resume_session(token) == p
    book.expire_session_now(token)
    with pytest.raises(AuthError, match="expired"):
        book.resume_session(token)
    _p, token2 = book.sign_in_teacher("okafor@school.example", PASSWORD)
    book.sign_out(token2)
    with pytest.raises(AuthError):
        book.resume_session(token2)


def test_access_codes_and_student_isolation(book, teacher, class_and_assignment):
    cid, aid = class_and_assignment
    upload(book, teacher, aid, n=2)
    book.mark_pending(teacher, aid)
    codes = book.issue_access_codes(teacher, cid)
    assert len(codes) == 2 and all(len(c) == 9 and c[4] == "-" for c in codes.values())
    with book.db.session() as s:  # only hashes are stored
        from markbook.models import Student

        stored = [st.code_hash for st in s.scalars(select(Student))]
    assert all(c.replace("-", "") not in h for c, h in zip(codes.values(), stored))
    (alice, acode), (ben, bcode) = sorted(codes.items())
    a, _ = book.sign_in_student(acode.lower().replace("-", " "))
    b, _ = book.sign_in_student(bcode)
    with pytest.raises(AuthError):
        book.sign_in_student("ABCD-EFGH")
    rows = {r["student"]: r for r in book.results_table(teacher, aid)}
    assert book.submission_detail(a, rows[alice]["submission_id"]).student_name == alice
    with pytest.raises(PermissionDenied):
        book.submission_detail(a, rows[ben]["submission_id"])
    with pytest.raises(PermissionDenied):
        book.results_table(a, aid)
    with pytest.raises(PermissionDenied):
        book.override(a, rows[alice]["result_id"], mark=25, reason="I deserve it")
    # another teacher sees none of it
    other = book.create_teacher("Mr Other", "other@school.example", PASSWORD)
    assert book.list_classes(other) == [] and book.list_assignments(other) == []
    for call in (lambda: book.results_table(other, aid), lambda: book.list_students(other, cid),
                 lambda: book.submission_detail(other, rows[alice]["submission_id"]),
                 lambda: book.issue_access_codes(other, cid)):
        with pytest.raises(PermissionDenied):
            call()
    # re-issuing a code invalidates the old one
    book.issue_access_codes(teacher, cid, only_missing=False)
    with pytest.raises(AuthError):
        book.sign_in_student(acode)


def test_student_drafts_show_improvement_and_hide_marks_when_feedback_only(book, teacher, class_and_assignment):
    cid, aid = class_and_assignment
    book.add_students(teacher, cid, ["Priya Patel"])
    code = book.issue_access_codes(teacher, cid)["Priya Patel"]
    st, _ = book.sign_in_student(code)
    from conftest_app import BODY, INTRO

    first = book.submit_draft(st, aid, INTRO[2] + "\n\n" + BODY[2])
    assert first.result is not None and first.result.mark is not None and first.improvements == []
    second = book.submit_draft(st, aid, "\n\n".join([INTRO[1]] + BODY + ["Overall, Stalin's control of the "
                                                                          "party machine mattered most."]))
    assert second.draft == 2 and second.improvements, "a much fuller draft should show what improved"
    assert any("band" in s or "now cover" in s for s in second.improvements)
    assert "reasons" not in second.result.data["criteria"][0] and second.result.data["flags"] == []
    book.set_feedback_only(teacher, aid, True)
    hidden = book.submission_detail(st, second.id)
    assert hidden.result.mark is None and hidden.result.level is None
    assert not any("mark" in s.lower() for s in hidden.improvements)
    assert [x["draft"] for x in book.student_submissions(st, aid)] == [2, 1]


def test_class_analytics(book, teacher, class_and_assignment):
    _cid, aid = class_and_assignment
    upload(book, teacher, aid, n=6)
    book.mark_pending(teacher, aid)
    an = book.class_analytics(teacher, aid)
    assert an["n"] == 6 and len(an["marks"]) == 6 and sum(an["levels"].values()) == 6
    assert len(an["heatmap"]) == 6 and all(len(v) == 7 for v in an["heatmap"].values())
    assert an["missed_points"] and all(0 < p["share"] <= 1 for p in an["missed_points"])
    assert an["targets"] and an["targets"][0]["students"] >= an["targets"][-1]["students"]


def test_cli_user_add(sqlite_url, capsys):
    from markbook import cli_user_add

    assert cli_user_add(sqlite_url, "Ms Head", "head@school.example", PASSWORD) == 0
    assert "Created teacher Ms Head" in capsys.readouterr().out
    assert cli_user_add(sqlite_url, "Ms Head", "head@school.example", PASSWORD) == 1
    assert "already exists" in capsys.readouterr().err
    assert cli_user_add(sqlite_url, "Mr Short", "short@school.example", "abc") == 1
    book = MarkBook(sqlite_url)
    assert book.sign_in_teacher("head@school.example", PASSWORD)[0].name == "Ms Head"


def test_serve_command_has_no_telemetry_and_sets_the_db(tmp_path):
    from markbook.serve import APP, serve_env, streamlit_command

    cmd = streamlit_command(port=8600, host="127.0.0.1")
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4] == str(APP) and APP.is_file()
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert cmd[cmd.index("--server.port") + 1] == "8600" and cmd[cmd.index("--server.headless") + 1] == "true"
    env = serve_env(str(tmp_path / "x.db"))
    assert env["ESSAY_MARKER_DB"] == f"sqlite:///{tmp_path / 'x.db'}"
    assert env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
