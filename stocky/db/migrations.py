"""Alembic, driven from code: ``stocky db upgrade`` and every start call
``upgrade``, which runs on a thread of its own with a connection of its own.

Importing alembic costs about a third of a second, and at almost every start
the schema is already at the newest revision: ``upgrade`` compares the
database's revision with ``HEAD`` first and loads alembic only when there is
something to do.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from stocky.db.engine import create_engine
from stocky.db.faults import storage_errors

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = Path(__file__).with_name("alembic")
# The newest revision in alembic/versions; a test keeps it in step.
HEAD = "8a4f2c6e1d95"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return config


def _revision_of(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _run(url: str, action: str, revision: str) -> None:
    engine = create_engine(url, role="migrate")
    try:
        with engine.begin() as connection:
            if action == "upgrade" and revision == "head" and _revision_of(connection) == HEAD:
                return
            from alembic import command

            config = alembic_config()
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


def _current(url: str) -> str | None:
    engine = create_engine(url, role="migrate")
    try:
        with engine.connect() as connection:
            return _revision_of(connection)
    finally:
        engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    with storage_errors(writing=False):  # a full disk at start: a sentence, not a traceback
        await asyncio.to_thread(_run, url, "upgrade", revision)


async def downgrade(url: str, revision: str = "base") -> None:
    await asyncio.to_thread(_run, url, "downgrade", revision)


async def current_revision(url: str) -> str | None:
    return await asyncio.to_thread(_current, url)


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_known(revision: str) -> bool:
    """Whether ``revision`` is one of this Stocky's migrations (a newer
    Stocky's database carries one it has never heard of)."""
    if revision == HEAD:
        return True
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False
