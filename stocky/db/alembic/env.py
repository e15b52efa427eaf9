"""Alembic environment. Stocky passes its own connection in
``config.attributes["connection"]``; the ``alembic`` command line (for writing
new migrations) connects to the database of the current settings."""

from __future__ import annotations

from typing import Any

from alembic import context

from stocky.db.fts import include_name
from stocky.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by recreating them
        compare_type=True,
        include_name=include_name,  # not the SQLite full-text tables (stocky/db/fts.py)
        **kwargs,
    )


def run_on(connection: Any) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def _database_url() -> str:
    from stocky.core.settings import Settings

    return config.get_main_option("sqlalchemy.url") or Settings().resolved_database_url


def _run_with_own_engine() -> None:
    from stocky.db.engine import create_engine

    engine = create_engine(_database_url(), role="migrate")
    try:
        with engine.begin() as connection:
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    _configure(url=_database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    run_on(given)
else:
    _run_with_own_engine()
