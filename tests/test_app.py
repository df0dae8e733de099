"""Streamlit AppTest tests of the app's flows (no browser).

Each test runs ``ui/app.py`` against its own SQLite file. Where AppTest is
awkward (downloads), the view's own helper is called and its bytes read back.
"""
from __future__ import annotations

import io
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from conftest_app import BODY, INTRO, PASSWORD, RUBRIC_ID, ROOT, make_essays
from markbook.db import Database
from markbook.service import MarkBook

APP = str(ROOT / "ui" / "app.py")
EMAIL = "okafor@school.example"


@pytest.fixture
def db_path(tmp_path, monkeypatch):
    path = tmp_path / "app.db"
    monkeypatch.setenv("ESSAY_MARKER_DB", str(path))
    return path


@pytest.fixture
def book(db_path):
    db = Database(f"sqlite:///{db_path}")
    yield MarkBook(db)
    db.dispose()


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    return at.run()


def texts(at) -> str:
    """All text the page shows (markdown, captions, alerts, metrics...)."""
    parts = []
    for kind in ("markdown", "caption", "success", "info", "warning", "error", "header", "subheader", "title"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def sign_in(at, email=EMAIL, password=PASSWORD) -> AppTest:
    at.text_input(key="signin_email").input(email)
    at.text_input(key="signin_password").input(password)
    return _submit(at, "teacher_signin")


def _submit(at, form_key: str) -> AppTest:
    for b in at.button:
        if getattr(b, "form_id", "") == form_key:
            return b.click().run()
    raise AssertionError(f"no submit button in form {form_key}")


def goto(at, page: str) -> AppTest:
    return at.sidebar.radio(key="nav").set_value(page).run()


def seeded(book, n=4):
    """A teacher with a class, an assignment and a marked class set, made through markbook."""
    t = book.create_teacher("Ms Okafor", EMAIL, PASSWORD, first_run=True)
    cid = book.create_class(t, "12B History")
    aid = book.create_assignment(t, cid, "Stalin v Trotsky", rubric_id=RUBRIC_ID)
    files = [(n_, t_.encode()) for n_, t_ in make_essays(n)]
    files.append(("zoe_short.txt", b"Stalin won and Trotsky lost. " * 3))
    book.ingest_uploads(t, aid, files)
    book.mark_pending(t, aid)
    return t, cid, aid


# --------------------------------------------------------------------------- sign-in
def test_first_teacher_setup_then_sign_in(db_path, book):
    at = app()
    assert not at.exception
    assert "Create the first teacher account" in texts(at)
    at.text_input(key="setup_name").input("Ms Okafor")
    at.text_input(key="setup_email").input(EMAIL)
    at.text_input(key="setup_password").input(PASSWORD)
    at.text_input(key="setup_password2").input(PASSWORD)
    at = _submit(at, "first_teacher")
    assert not at.exception
    assert "Signed in as **Ms Okafor**" in texts(at)
    assert book.teacher_count() == 1

    at.sidebar.button(key="sign_out").click().run()
    assert "Create the first teacher account" not in texts(at)
    at = sign_in(at, password="not the password")
    assert "Wrong email or password." in [e.value for e in at.error]
    at = sign_in(at)
    assert "Signed in as **Ms Okafor**" in texts(at)


def test_expired_session_asks_to_sign_in_again(db_path, book):
    book.create_teacher("Ms Okafor", EMAIL, PASSWORD, first_run=True)
    at = sign_in(app())
    assert "Signed in as" in texts(at)
    book.expire_session_now(at.session_state["token"])
    at.run()
    assert "expired" in texts(at) and "Signed in as" not in texts(at)


# --------------------------------------------------------------------------- class + assignment
def test_create_class_and_assignment_and_issue_codes(db_path, book):
    book.create_teacher("Ms Okafor", EMAIL, PASSWORD, first_run=True)
    at = sign_in(app())
    at.text_input(key="new_class_name").input("12B History")
    at = _submit(at, "new_class")
    assert not at.exception
    assert at.sidebar.selectbox(key="pick_class").format_func(at.sidebar.selectbox(key="pick_class").value) == "12B History"
    at.text_area(key="add_students_names").input("Alice Smith\nBen Jones\n")
    at = _submit(at, "add_students")
    at.button(key="issue_codes").click().run()
    assert "Copy or download these codes now" in texts(at)
    codes = at.session_state["last_codes"]
    assert set(codes) == {"Alice Smith", "Ben Jones"}

    # an invalid uploaded rubric shows the RubricError message
    at.text_input(key="new_assignment_title").input("Bad rubric")
    at.radio(key="new_assignment_source").set_value("Upload a rubric (YAML)")
    at.file_uploader(key="new_assignment_yaml").set_value(("bad.yaml", b"id: x\nversion: 1\n", "application/yaml"))
    at = _submit(at, "new_assignment")
    assert "This rubric cannot be used:" in [e.value for e in at.error]
    assert any("levels" in c.value or "field" in c.value.lower() for c in at.code)

    at.text_input(key="new_assignment_title").input("Stalin v Trotsky")
    at.radio(key="new_assignment_source").set_value("A shipped rubric")
    at.selectbox(key="new_assignment_rubric").set_value(RUBRIC_ID)
    at = _submit(at, "new_assignment")
    assert not at.exception
    assert at.sidebar.radio(key="nav").value == "Mark a class set"
    assert "Mark a class set: Stalin v Trotsky" in texts(at)


# --------------------------------------------------------------------------- upload
def test_upload_files_through_the_app_and_the_upload_function(db_path, book):
    from ui.views.upload import save_uploads

    t = book.create_teacher("Ms Okafor", EMAIL, PASSWORD, first_run=True)
    cid = book.create_class(t, "12B History")
    aid = book.create_assignment(t, cid, "Stalin v Trotsky", rubric_id=RUBRIC_ID)
    # the separated core function: (name, bytes) pairs
    report = save_uploads(book, t, aid, [(n, x.encode()) for n, x in make_essays(3)] + [("broken.exe", b"MZ")])
    assert len(report.added) == 3 and report.failures[0][0] == "broken.exe"

    at = goto(sign_in(app()), "Mark a class set")
    assert "3 essay(s) are waiting to be marked" in texts(at)
    files = [(n, x.encode(), "text/plain") for n, x in make_essays(6)[3:]]
    files.append(("broken.docx", b"not really a docx", "application/octet-stream"))
    at.file_uploader(key="upload_files").set_value(files)
    at = _submit(at, "upload_form")
    assert not at.exception
    page = texts(at)
    assert "Saved 3 essay(s)" in page and "1 file(s) could not be read" in page
    assert "Marked 6 essay(s)" in page  # the three waiting and the three new ones
    assert book.pending_ids(t, aid) == []
    assert "waiting to be marked" not in texts(at.run())


def test_paste_an_essay_is_marked(db_path, book):
    t = book.create_teacher("Ms Okafor", EMAIL, PASSWORD, first_run=True)
    cid = book.create_class(t, "12B History")
    book.create_assignment(t, cid, "Stalin v Trotsky", rubric_id=RUBRIC_ID)
    at = goto(sign_in(app()), "Mark a class set")
    at.text_input(key="paste_student").input("Chloe Brown")
    at.text_area(key="paste_text").input("\n\n".join([INTRO[0]] + BODY[:3]))
    at = _submit(at, "paste_form")
    assert "Marked 1 essay(s)" in texts(at)
    at = goto(at, "Review")
    assert "Chloe Brown" in at.dataframe[0].value["Student"].tolist()


# --------------------------------------------------------------------------- review + override
def test_review_table_needs_review_first_and_override(db_path, book):
    t, cid, aid = seeded(book)
    at = goto(sign_in(app()), "Review")
    assert not at.exception
    df = at.dataframe[0].value
    assert len(df) == 5
    nr = df["Needs review"].tolist()
    assert nr == sorted(nr, reverse=True) and nr[0]
    assert {"Relevance", "Evidence", "Range", "Luck", "Analysis", "Judgement", "Communication"} <= set(df.columns)

    row = max(book.results_table(t, aid), key=lambda r: r["mark"] or 0)  # the best essay has evidence to show
    sid = row["submission_id"]
    at.selectbox(key="open_submission").set_value(sid).run()
    assert not at.exception
    assert len(at.get("html")) >= 2  # legend + essay
    essay_html = at.get("html")[1].proto.body
    assert "<mark" in essay_html and "title=" in essay_html

    new_mark = 5 if row["mark"] != 5 else 6
    at.number_input(key=f"ov_mark_{sid}").set_value(new_mark)
    at = _submit(at, f"override_{sid}")
    assert "Give a reason for the change." in [e.value for e in at.error]
    assert book.results_table(t, aid)[0]["overridden"] is False

    at.number_input(key=f"ov_mark_{sid}").set_value(new_mark)
    at.text_input(key=f"ov_reason_{sid}").input("Sustained judgement the marker missed")
    at = _submit(at, f"override_{sid}")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Teacher's mark"].startswith(f"{new_mark}/")
    assert metrics["Marker's mark"].startswith(f"{row['marker_mark']}/")
    after = next(r for r in book.results_table(t, aid) if r["submission_id"] == sid)
    assert after["mark"] == new_mark and after["marker_mark"] == row["marker_mark"] and after["overridden"]
    df = at.dataframe[0].value
    shown = df[df["Student"] == row["student"]].iloc[0]
    assert shown["Mark"] == new_mark and shown["Marker"] == row["marker_mark"]


def test_review_lists_the_facts_to_check(db_path, book):
    t = book.create_teacher("Ms Okafor", EMAIL, PASSWORD, first_run=True)
    aid = book.create_assignment(t, book.create_class(t, "12B History"), "Stalin v Trotsky", rubric_id=RUBRIC_ID)
    essay = (INTRO[0] + "\n\nLenin died in 1922, and Stalin told Trotsky the wrong date for the funeral, so Trotsky "
             "looked as if he did not care.\n\n" + "\n\n".join(BODY))
    book.ingest_uploads(t, aid, [("ada.txt", essay.encode())])
    book.mark_pending(t, aid)
    at = goto(sign_in(app()), "Review")
    at.selectbox(key="open_submission").set_value(book.results_table(t, aid)[0]["submission_id"]).run()
    assert not at.exception
    facts = next(e for e in at.expander if e.label.startswith("Facts to check"))
    shown = "\n".join(str(m.value) for m in facts.markdown)
    assert facts.label == "Facts to check (2)"
    assert "(factual error): Lenin died on 21 January 1924" in shown
    assert "(contested claim stated as fact)" in shown and "Trotsky claimed" in shown


def test_class_view_and_rubric_view_render(db_path, book):
    seeded(book, n=6)
    at = goto(sign_in(app()), "Class view")
    assert not at.exception
    assert "Mark distribution" in texts(at) and "Criteria heat map" in texts(at)
    assert "Content points most often missed" in texts(at) and "Themes to reteach" in texts(at)
    at = goto(at, "Rubrics")
    assert not at.exception and "Levels" in texts(at) and "Content points" in texts(at)
    at = goto(at, "Activity")
    assert not at.exception


def test_a_rubric_for_a_new_question_is_checked_and_tried_in_the_app(db_path, book):
    seeded(book, n=2)
    at = goto(sign_in(app()), "Rubrics")
    assert not at.exception and "A rubric for a new question" in texts(at)
    # a broken file: the error names the file and the field
    bad = (ROOT / "rubrics" / "examples" / "weimar_1933.yaml").read_text(encoding="utf-8").replace(
        "balance_sides: [weakness, nazis]", "balance_sides: [weakness, nazi]")
    at.file_uploader(key="rubric_check_file").set_value(("weimar.yaml", bad.encode(), "application/yaml")).run()
    assert any("weimar.yaml" in e.value and "balance_sides" in e.value for e in at.error), [e.value for e in at.error]
    # a good one is accepted and marks an essay on its own question
    good = (ROOT / "rubrics" / "examples" / "weimar_1933.yaml").read_bytes()
    at.file_uploader(key="rubric_check_file").set_value(("weimar.yaml", good, "application/yaml")).run()
    assert "weimar.yaml: valid. 5 levels, 7 criteria, 2 themes, 4 content points." in texts(at)
    essay = (ROOT / "tests" / "data" / "weimar_essay.txt").read_text(encoding="utf-8")
    at.text_area(key="rubric_try_text").input(essay)
    at = at.button(key="rubric_try").click().run()
    shown = texts(at)
    assert not at.exception and "/20, level" in shown
    assert "Content points found: W1, W2, N1, N2" in shown


# --------------------------------------------------------------------------- export
def test_export_page_and_files(db_path, book):
    from openpyxl import load_workbook

    from ui.views.export import export_files, feedback_zip

    t, cid, aid = seeded(book)
    sid_row = next(r for r in book.results_table(t, aid) if r["student"] == "Alice Smith")
    book.override(t, sid_row["result_id"], mark=24, reason="moderated")
    at = goto(sign_in(app()), "Export")
    assert not at.exception
    assert {b.proto.label for b in at.get("download_button")} >= {"Mark book (CSV)", "Mark book (Excel)"}

    files = export_files(book, t, aid)
    import csv

    rows = list(csv.DictReader(io.StringIO(files["csv"].decode("utf-8-sig"))))
    assert len(rows) == 5
    alice = next(r for r in rows if r["Student"] == "Alice Smith")
    assert alice["Mark"] == "24" and alice["Marker mark"] == str(sid_row["marker_mark"])
    assert alice["Teacher override"] == "yes" and alice["Judgement"] != ""
    zoe = next(r for r in rows if r["Student"] == "Zoe Short")
    assert zoe["Flags"]  # the short essay is flagged
    ws = load_workbook(io.BytesIO(files["xlsx"]))["Mark book"]
    header = [c.value for c in ws[1]]
    xl = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert len(xl) == 5 and xl["Alice Smith"]["Mark"] == 24

    z = zipfile.ZipFile(io.BytesIO(feedback_zip(book, t, aid)))
    assert len(z.namelist()) == 5 and "Alice Smith.docx" in z.namelist()
    from docx import Document

    doc = Document(io.BytesIO(z.read("Alice Smith.docx")))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "Feedback for Alice Smith" in body and "Mark: 24/" in body and "To improve" in body


# --------------------------------------------------------------------------- student
def student_app(book, code) -> AppTest:
    at = app()
    at.text_input(key="signin_code").input(code)
    return _submit(at, "student_signin")


def test_student_gets_feedback_and_sees_improvement(db_path, book):
    t = book.create_teacher("Ms Okafor", EMAIL, PASSWORD, first_run=True)
    cid = book.create_class(t, "12B History")
    book.create_assignment(t, cid, "Stalin v Trotsky", rubric_id=RUBRIC_ID)
    book.add_students(t, cid, ["Priya Patel"])
    code = book.issue_access_codes(t, cid)["Priya Patel"]

    at = student_app(book, "WRONG-CODE")
    assert any("access code" in e.value for e in at.error)
    at = student_app(book, code)
    assert "Hello, Priya Patel" in texts(at)
    at.text_area(key="draft_text").input(INTRO[2] + "\n\n" + BODY[2])
    at = _submit(at, "draft_form")
    assert not at.exception
    page = texts(at)
    assert "Draft 1" in page and "What went well" in page and "To improve" in page
    assert "Level" in {m.label for m in at.metric}
    assert "<mark" in at.get("html")[-1].proto.body

    at.text_area(key="draft_text").input("\n\n".join([INTRO[1]] + BODY + [
        "Overall, Stalin's control of the party machine was the most important reason, because it turned his "
        "rivals' mistakes into votes against them."]))
    at = _submit(at, "draft_form")
    page = texts(at)
    assert "Draft 2" in page and "Since your last draft" in page
    assert "went from band" in page or "You now cover" in page


def test_feedback_only_assignment_hides_mark(db_path, book):
    t = book.create_teacher("Ms Okafor", EMAIL, PASSWORD, first_run=True)
    cid = book.create_class(t, "12B History")
    book.create_assignment(t, cid, "Practice", rubric_id=RUBRIC_ID, feedback_only=True)
    book.add_students(t, cid, ["Priya Patel"])
    code = book.issue_access_codes(t, cid)["Priya Patel"]
    at = student_app(book, code)
    at.text_area(key="draft_text").input("\n\n".join([INTRO[0]] + BODY[:4]))
    at = _submit(at, "draft_form")
    assert "What went well" in texts(at)
    assert not [m for m in at.metric if m.label in ("Mark", "Level")]


# --------------------------------------------------------------------------- access control
def test_student_cannot_open_another_students_essay(db_path, book):
    t, cid, aid = seeded(book, n=2)
    codes = book.issue_access_codes(t, cid)
    rows = {r["student"]: r for r in book.results_table(t, aid)}
    other = next(r for name, r in rows.items() if name != "Alice Smith")
    at = student_app(book, codes["Alice Smith"])
    assert "Hello, Alice Smith" in texts(at)
    assert "Draft 1" in texts(at)  # her own class-set essay
    at.session_state["student_submission_id"] = other["submission_id"]  # forced
    at.run()
    assert "You can only see your own essays." in [e.value for e in at.error]
    assert other["student"] not in texts(at)
    assert not at.get("html")  # no essay text shown


def test_teacher_cannot_see_another_teachers_class(db_path, book):
    t, cid, aid = seeded(book, n=2)
    other = book.create_teacher("Mr Other", "other@school.example", PASSWORD)
    ocid = book.create_class(other, "13C")
    oaid = book.create_assignment(other, ocid, "Other essay", rubric_id=RUBRIC_ID)
    book.ingest_uploads(other, oaid, [(n, x.encode()) for n, x in make_essays(1, seed=3)])
    forced_sid = book.results_table(t, aid)[0]["submission_id"]
    at = sign_in(app(), email="other@school.example")
    assert "Signed in as **Mr Other**" in texts(at)
    assert at.sidebar.selectbox(key="pick_class").options == ["13C"] or \
        len(at.sidebar.selectbox(key="pick_class").options) == 1
    # forcing the other teacher's assignment and essay ids opens nothing
    at.session_state["_select_assignment"] = aid
    at = goto(at, "Review")
    assert "Other essay" in texts(at) and "Stalin v Trotsky" not in texts(at)
    at.session_state["submission_id"] = forced_sid
    at.run()
    assert not at.exception
    assert "That essay is not in your classes." in [e.value for e in at.error]
    assert not at.get("html")
