"""Shared fixtures and helpers for the mark book, app and browser tests.

Not a conftest.py (that file belongs to the engine's tests): test modules import
what they need with ``from conftest_app import ...``.

* ``db_url``: a fresh database per test: SQLite in a temp file, and PostgreSQL
  when ``ESSAY_MARKER_TEST_PG_URL`` is set (skipped with a message otherwise).
* ``make_essays``: short essays on Stalin and Trotsky written from template
  paragraphs with variations (not copied from any corpus).
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUBRIC_ID = os.environ.get("ESSAY_MARKER_TEST_RUBRIC", "stalin_trotsky_1929")
PG_ENV = "ESSAY_MARKER_TEST_PG_URL"
PASSWORD = "correct horse battery"


def _reset_pg(url: str) -> None:
    """Empty the test PostgreSQL database (every table, and alembic's version row)."""
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'markbook.db'}"
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (run scripts/start_test_postgres.sh and export the URL it prints)")
    _reset_pg(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'markbook.db'}"


@pytest.fixture
def book(db_url):
    from markbook.db import Database
    from markbook.service import MarkBook

    db = Database(db_url)
    yield MarkBook(db)
    db.dispose()


@pytest.fixture
def teacher(book):
    return book.create_teacher("Ms Okafor", "okafor@school.example", PASSWORD, first_run=True)


@pytest.fixture
def class_and_assignment(book, teacher):
    cid = book.create_class(teacher, "12B History")
    aid = book.create_assignment(teacher, cid, "Stalin v Trotsky essay", rubric_id=RUBRIC_ID)
    return cid, aid


# --------------------------------------------------------------------------- essays
FIRST = ["Alice", "Ben", "Chloe", "Daniel", "Ella", "Finn", "Grace", "Harry", "Isla", "Jack", "Kara", "Liam",
         "Maya", "Noah", "Olivia", "Priya", "Quinn", "Ruby", "Sam", "Tara", "Umar", "Violet", "Will", "Xena",
         "Yusuf", "Zara", "Aaron", "Bella", "Caleb", "Daisy", "Ethan", "Freya"]
LAST = ["Smith", "Jones", "Patel", "Brown", "Khan", "Taylor", "Wilson", "Evans", "Thomas", "Roberts", "Walker",
        "Wright", "Hughes", "Green", "Hall", "Wood"]

INTRO = [
    "Stalin, rather than Trotsky, emerged as leader of the USSR by 1929 because he controlled the party machine "
    "and because Trotsky made serious mistakes.",
    "In 1924 Trotsky looked like Lenin's natural successor, yet by 1929 he had been deported and Stalin dominated "
    "the party. This essay argues that Stalin's position as General Secretary mattered most.",
    "There are several reasons why Stalin beat Trotsky in the struggle for power after Lenin died in January 1924.",
]
BODY = [
    "As General Secretary from 1922 Stalin controlled appointments across the party. He placed loyal supporters in "
    "local posts, and these officials chose the delegates who voted at party congresses, so Stalin could rely on "
    "majorities against Trotsky.",
    "Stalin was also lucky. Lenin's Testament criticised him and called for his removal, but Zinoviev and Kamenev "
    "agreed that it should not be published in 1924, which saved Stalin's career.",
    "Trotsky was seen as arrogant and aloof by many Bolsheviks. He had only joined the party in 1917 after years "
    "close to the Mensheviks, and as head of the Red Army he was feared as a possible Bonaparte.",
    "Stalin manoeuvred skilfully. First he allied with Zinoviev and Kamenev against Trotsky, then with Bukharin "
    "against Zinoviev and Kamenev, and finally he turned on Bukharin and the Right in 1928 and 1929.",
    "Socialism in One Country was more attractive to ordinary party members than Trotsky's Permanent Revolution, "
    "because it promised that the USSR could build socialism without waiting for revolutions abroad.",
    "Trotsky missed Lenin's funeral in January 1924 because he was in the Caucasus, and this made him look as if "
    "he did not care, while Stalin presented himself as Lenin's loyal disciple.",
    "The Lenin Enrolment of 1924 brought many new, poorly educated members into the party who owed their places to "
    "the apparatus Stalin ran, and they tended to support him.",
]
CONCLUSION = [
    "Overall, Stalin's control of the party machine was the most important reason, because it turned his rivals' "
    "mistakes into votes against them.",
    "In conclusion, Trotsky's weaknesses mattered, but without the power of the General Secretary Stalin could not "
    "have exploited them.",
    "To conclude, luck and skill both played a part, but Stalin's manoeuvring between the Left and the Right was "
    "decisive.",
]


# Word swaps applied at random per essay, so generated essays share ideas but not
# long runs of identical words (as real class sets do).
SWAPS = {
    "controlled": ["ran", "dominated", "controlled"], "because": ["because", "since", "as"],
    "many": ["many", "lots of", "a great number of"], "also": ["also", "as well", "in addition"],
    "party": ["party", "Communist Party", "Bolshevik party"], "seen": ["seen", "viewed", "regarded"],
    "feared": ["feared", "distrusted", "suspected"], "loyal": ["loyal", "faithful", "devoted"],
    "important": ["important", "significant", "crucial"], "skilfully": ["skilfully", "cleverly", "cunningly"],
    "attractive": ["attractive", "appealing", "popular"], "support": ["support", "back", "vote for"],
    "lucky": ["lucky", "fortunate", "helped by chance"], "serious": ["serious", "big", "costly"],
    "agreed": ["agreed", "decided", "chose"], "promised": ["promised", "claimed", "suggested"],
    "brought": ["brought", "drew", "recruited"], "placed": ["placed", "put", "appointed"],
    "First": ["First", "To begin with", "Initially"], "finally": ["finally", "in the end", "lastly"],
}
ASIDES = [
    "This was a key turning point.", "Historians still debate this.", "This clearly helped Stalin.",
    "Trotsky never recovered from this.", "This shows how weak Trotsky's position was.",
    "It is easy to forget how unlikely this looked at the time.", "This matters for the question.",
]


def vary(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    out = []
    for w in words:
        core = w.rstrip(".,;")
        if core in SWAPS and rng.random() < 0.7:
            w = rng.choice(SWAPS[core]) + w[len(core):]
        out.append(w)
    para = " ".join(out)
    if rng.random() < 0.5:
        para += " " + rng.choice(ASIDES)
    return para


def student_names(n: int) -> list[str]:
    return [f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}" for i in range(n)]


def essay_text(i: int, rng: random.Random | None = None) -> str:
    """Essay number ``i``: an intro, 1-6 body paragraphs, maybe a conclusion.

    The number of paragraphs varies with ``i`` so marks spread across levels."""
    rng = rng or random.Random(i)
    k = 1 + i % 6
    body = rng.sample(BODY, k)
    parts = [rng.choice(INTRO)] + body
    if i % 3:
        parts.append(rng.choice(CONCLUSION))
    return "\n\n".join(vary(p, rng) for p in parts) + "\n"


def make_essays(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """(file name like "alice_smith.txt", text) for ``n`` students."""
    rng = random.Random(seed)
    return [(name.lower().replace(" ", "_") + ".txt", essay_text(i, rng)) for i, name in enumerate(student_names(n))]
