"""Alembic environment for the mark book.

Called two ways: by the app (markbook.db.upgrade passes an open connection in
``config.attributes["connection"]``) and by the alembic CLI with alembic.ini
(the URL then comes from ESSAY_MARKER_DB or the default file).
"""
from alembic import context

from markbook.db import make_engine, resolve_url
from markbook.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs copy-and-move ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url") or resolve_url(),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    conn = config.attributes.get("connection")
    if conn is not None:
        _run(conn)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or resolve_url())
    with engine.begin() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
