"""The database: one engine for readers, one for writers.

On SQLite every connection runs in WAL mode with foreign keys on, and writers
open their transaction with ``BEGIN IMMEDIATE`` so two writers never both read
under a shared lock and then fail to upgrade it ("database is locked"). The
writer pool holds a single connection: writers queue on the event loop, cheap
and fair, instead of spinning in SQLite's busy handler. ``busy_timeout``
still covers writers in other processes (a CLI command, a backup).

On PostgreSQL both roles share one engine; quantity changes are single
``UPDATE ... RETURNING`` statements there too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

BUSY_TIMEOUT_MS = 10_000


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _ensure_sqlite_directory(url: URL) -> None:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine, *, begin: str, foreign_keys: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a scan acknowledged to a scanner survives a power cut too.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


def create_engine(url: str, *, role: str = "read", **kwargs: Any) -> AsyncEngine:
    """An engine for ``role`` "read", "write" or "migrate" (no foreign keys:
    batch migrations recreate tables, which the pragma would fight)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, pool_pre_ping=True, **kwargs)
    _ensure_sqlite_directory(parsed)
    if role == "write":
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", 60)
    elif role == "migrate":
        kwargs.setdefault("poolclass", NullPool)
    engine = create_async_engine(parsed, **kwargs)
    _configure_sqlite(
        engine,
        begin="BEGIN IMMEDIATE" if role in ("write", "migrate") else "BEGIN",
        foreign_keys=role != "migrate",
    )
    return engine


class Database:
    """Session factories for one database. Never share a session across tasks:
    open one per unit of work with ``async with db.writer() as session``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = is_sqlite(url)
        self.read_engine = create_engine(url, role="read")
        self.write_engine = (
            create_engine(url, role="write") if self.is_sqlite else self.read_engine
        )
        self.reader = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self.writer = async_sessionmaker(self.write_engine, expire_on_commit=False)

    async def dispose(self) -> None:
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()

    def session(self, *, write: bool) -> AsyncSession:
        return (self.writer if write else self.reader)()
