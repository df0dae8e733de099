"""Functions the main CLI (``essay-marker``) exposes for the mark book."""
from __future__ import annotations

import sys

from .auth import AuthError
from .db import open_db, resolve_url
from .service import MarkBook


def cli_user_add(db_url: str | None, name: str, email: str, password: str) -> int:
    """``essay-marker user add``: create a teacher account. Returns the exit status.

    ``db_url``: a path or SQLAlchemy URL; None means $ESSAY_MARKER_DB or ./essay-marker.db
    (migrated first). On success prints "Created teacher ..." and returns 0; on a
    refusal (email taken, password under 8 characters, bad email) prints the reason
    to stderr and returns 1.
    """
    url = resolve_url(db_url)
    try:
        teacher = MarkBook(open_db(url)).create_teacher(name, email, password)
    except AuthError as exc:
        print(f"essay-marker: {exc}", file=sys.stderr)
        return 1
    print(f"Created teacher {teacher.name} <{email.strip().lower()}> (id {teacher.id}) in {_safe(url)}")
    return 0


def _safe(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


__all__ = ["cli_user_add", "AuthError"]
