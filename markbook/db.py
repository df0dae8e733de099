"""Database engine and session setup.

The database is named by an option or the ``ESSAY_MARKER_DB`` environment variable:
either a file path (SQLite) or any SQLAlchemy URL (``postgresql+psycopg://...``).
The default is ``./essay-marker.db``.

SQLite runs in WAL mode with foreign keys on, so the app and a CLI can share the
file and a crash never leaves a half-written row. Opening a database always runs
the Alembic migrations first (``upgrade head``), so a fresh file and an old one
both come up to date.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DB = "./essay-marker.db"
ENV_VAR = "ESSAY_MARKER_DB"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def resolve_url(db: str | os.PathLike[str] | None = None) -> str:
    """Turn an option / env var / default into a SQLAlchemy URL."""
    raw = str(db) if db is not None else os.environ.get(ENV_VAR) or DEFAULT_DB
    if "://" in raw:
        return raw
    if raw == ":memory:":
        return "sqlite://"
    return f"sqlite:///{Path(raw).expanduser().resolve()}"


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite turn on WAL, foreign keys and a busy timeout."""
    is_sqlite = url.startswith("sqlite")
    kwargs: dict = {"future": True}
    if is_sqlite:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if is_sqlite:
        in_memory = url in ("sqlite://", "sqlite:///:memory:")

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return engine


def alembic_config(url: str | None = None):
    """An Alembic Config pointing at the migrations inside this package."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` on this engine (idempotent)."""
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class Database:
    """An engine plus a session factory. ``with db.session() as s:`` commits on success."""

    def __init__(self, url: str, migrate: bool = True):
        self.url = url
        self.engine = make_engine(url)
        if migrate:
            upgrade(self.engine)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        s = self.Session()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()


_open: dict[str, Database] = {}
_lock = threading.Lock()


def open_db(db: str | os.PathLike[str] | None = None, *, fresh: bool = False) -> Database:
    """Open (and migrate) the database; one shared Database per URL in this process."""
    url = resolve_url(db)
    with _lock:
        if fresh or url not in _open:
            _open[url] = Database(url)
        return _open[url]
