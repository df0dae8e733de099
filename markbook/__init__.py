"""The mark book: storage, sign-in and the operations behind the essay-marker app.

It uses the engine (``marker``) only through its public API; the engine never
imports this package.
"""
from .auth import AuthError, PermissionDenied, Principal
from .cli import cli_user_add
from .db import Database, open_db, resolve_url
from .service import MarkBook

__all__ = ["AuthError", "PermissionDenied", "Principal", "MarkBook", "Database", "open_db", "resolve_url",
           "cli_user_add"]
