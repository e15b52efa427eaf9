"""The database: one engine for readers, one for writers, each behind threads
of its own.

A unit of work is a plain synchronous SQLAlchemy function that runs whole on
a database thread: the event loop hands it over once and gets the result
back once. (Async SQLAlchemy over aiosqlite hopped to the driver's thread and
back for every cursor, execute, fetch and close: about 70 round trips through
the loop for one scan, two thirds of each statement's cost; see
tests/bench/RESULTS.md.)

On SQLite every connection runs in WAL mode with foreign keys on, and writers
open their transaction with ``BEGIN IMMEDIATE`` so two writers never both read
under a shared lock and then fail to upgrade it ("database is locked"). All
writes of this process run on one thread over one connection, one after the
other; ``busy_timeout`` still covers writers in other processes (a CLI
command, a backup). Readers run on a few threads of their own, in parallel
with the writer (WAL).

On PostgreSQL both roles share one engine; quantity changes are single
``UPDATE ... RETURNING`` statements there too.

``DATABASE_URL`` may name an async driver (``sqlite+aiosqlite://``,
``postgresql+asyncpg://``, the forms Stocky has always documented): the
synchronous driver of the same database is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

BUSY_TIMEOUT_MS = 10_000
READER_THREADS = 4
T = TypeVar("T")

_SYNC_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}


def sync_url(url: str | URL) -> URL:
    """``url`` with the synchronous driver of its database."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    return parsed.set(drivername=_SYNC_DRIVERS[backend]) if backend in _SYNC_DRIVERS else parsed


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _ensure_sqlite_directory(url: URL) -> None:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine, *, begin: str, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
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

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


def create_engine(url: str | URL, *, role: str = "read", **kwargs: Any) -> Engine:
    """An engine for ``role`` "read", "write" or "migrate" (no foreign keys:
    batch migrations recreate tables, which the pragma would fight)."""
    parsed = sync_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_size", READER_THREADS + 1)
        return sa_create_engine(parsed, pool_pre_ping=True, **kwargs)
    _ensure_sqlite_directory(parsed)
    if role == "write":
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
    elif role == "read":
        kwargs.setdefault("pool_size", READER_THREADS)
    elif role == "migrate":
        kwargs.setdefault("poolclass", NullPool)
    engine = sa_create_engine(parsed, **kwargs)
    _configure_sqlite(
        engine,
        begin="BEGIN IMMEDIATE" if role in ("write", "migrate") else "BEGIN",
        foreign_keys=role != "migrate",
    )
    return engine


class Database:
    """Sessions for one database, and the threads they run on. A session
    lives inside one call of ``run`` and never leaves its thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = is_sqlite(url)
        self.read_engine = create_engine(url, role="read")
        self.write_engine = (
            create_engine(url, role="write") if self.is_sqlite else self.read_engine
        )
        self.reader = sessionmaker(self.read_engine, expire_on_commit=False)
        self.writer = sessionmaker(self.write_engine, expire_on_commit=False)
        # One writer thread: this process's writes queue here, in order.
        self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="stocky-db-write")
        self._read_threads = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="stocky-db-read")

    def run(self, work: Callable[[], T], *, write: bool) -> asyncio.Future[T]:
        """``work`` on a database thread, as a future of the running loop."""
        executor = self._write_thread if write else self._read_threads
        return asyncio.get_running_loop().run_in_executor(executor, work)

    async def read(self, query: Callable[[Session], T]) -> T:
        """``query(session)`` in a read transaction (a snapshot on SQLite)."""

        def work() -> T:
            with self.reader() as session, session.begin():
                return query(session)

        return await self.run(work, write=False)

    async def dispose(self) -> None:
        """Let queued work finish, then close every connection."""
        await self.run(self.write_engine.dispose, write=True)
        await self.run(self.read_engine.dispose, write=False)
        self._write_thread.shutdown(wait=False)
        self._read_threads.shutdown(wait=False)
