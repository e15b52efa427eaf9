"""Alembic, driven from code: ``stocky db upgrade`` and every start call
``upgrade`` on a connection of its own (``run_sync``, never ``asyncio.run``
inside a running loop)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from stocky.db.engine import create_engine

SCRIPT_LOCATION = Path(__file__).with_name("alembic")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return config


async def _run(url: str, action: Any, *args: Any) -> None:
    engine = create_engine(url, role="migrate")
    try:
        async with engine.begin() as connection:

            def run(sync_connection: Any) -> None:
                config = alembic_config()
                config.attributes["connection"] = sync_connection
                action(config, *args)

            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    await _run(url, command.upgrade, revision)


async def downgrade(url: str, revision: str = "base") -> None:
    await _run(url, command.downgrade, revision)


async def current_revision(url: str) -> str | None:
    engine = create_engine(url, role="migrate")
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
