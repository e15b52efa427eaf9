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
other (``GroupWriter``); ``busy_timeout`` still covers writers in other
processes (a CLI command, a backup). Readers run on a few threads of their
own, in parallel with the writer (WAL).

On PostgreSQL both roles share one engine; quantity changes are single
``UPDATE ... RETURNING`` statements there too.

``DATABASE_URL`` may name an async driver (``sqlite+aiosqlite://``,
``postgresql+asyncpg://``, the forms Stocky has always documented): the
synchronous driver of the same database is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from stocky.core.errors import StorageFault
from stocky.db.health import StorageHealth

BUSY_TIMEOUT_MS = 10_000
READER_THREADS = 4
# At most this many queued units of work share one commit.
MAX_GROUP = 64
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


def _existing_only(url: URL) -> URL:
    """``url`` opened read-write but never created: a database file deleted
    under Stocky must not come back as an empty one at the next connection."""
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return url
    path = quote(str(Path(url.database).expanduser().resolve()))
    return url.set(database=f"file:{path}", query={**url.query, "mode": "rw", "uri": "true"})


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
    if role != "migrate":  # migrations make the file; the others only open it
        parsed = _existing_only(parsed)
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


def _settle(future: asyncio.Future[T], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class GroupWriter:
    """Every write of this process, on one thread over one connection.

    Units of work that queue up while one is being committed share the next
    transaction, each inside a savepoint of its own: one that fails is rolled
    back alone, the others commit together with a single fsync (group
    commit). A unit's result is handed back only once the group's COMMIT has
    returned, so nothing is reported written before it is on disk; if the
    COMMIT fails, every unit of the group gets the error.
    """

    def __init__(self, engine: Engine, health: StorageHealth) -> None:
        self.engine = engine
        self.health = health
        self._jobs: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="stocky-db-write", daemon=True)
        self._thread.start()

    def submit(self, unit: Callable[[Session], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, unit))
        return future

    async def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        self._jobs.put(None)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            group = [job]
            while len(group) < MAX_GROUP:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._jobs.put(None)  # stop once this group is written
                    break
                group.append(job)
            self._commit(group)

    def _commit(self, group: list[tuple[Any, ...]]) -> None:
        if (lost := self.health.lost_reason) is not None:
            self._settle_all(group, [(False, StorageFault(lost))] * len(group))
            return
        try:
            with self.engine.connect() as connection, connection.begin():
                outcomes = [self._run_unit(connection, unit) for _, _, unit in group]
        except Exception as error:  # BEGIN or COMMIT failed: none of the group is written
            outcomes = [(False, error)] * len(group)
        if (lost := self.health.check()) is not None:  # committed into a file that is gone
            self._settle_all(group, [(False, StorageFault(lost))] * len(group))
            return  # the runtime says why, once
        self._settle_all(group, outcomes)

    @staticmethod
    def _settle_all(group: list[tuple[Any, ...]], outcomes: list[tuple[bool, Any]]) -> None:
        for (loop, future, _), (ok, value) in zip(group, outcomes, strict=True):
            # A closed loop (RuntimeError) has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, ok, value)

    @staticmethod
    def _run_unit(connection: Any, unit: Callable[[Session], T]) -> tuple[bool, Any]:
        session = Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            with session.begin():  # a SAVEPOINT; rolled back alone if the unit fails
                return True, unit(session)
        except Exception as error:
            return False, error
        finally:
            session.close()


class Database:
    """Sessions for one database, and the threads they run on. A session
    lives inside one unit of work and never leaves its thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = is_sqlite(url)
        self.health = StorageHealth()
        self.read_engine = create_engine(url, role="read")
        self.write_engine = (
            create_engine(url, role="write") if self.is_sqlite else self.read_engine
        )
        self.reader = sessionmaker(self.read_engine, expire_on_commit=False)
        self._writer = GroupWriter(self.write_engine, self.health)
        self._read_threads = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="stocky-db-read")

    def write(self, unit: Callable[[Session], T]) -> asyncio.Future[T]:
        """``unit(session)`` in a write transaction, as a future of the running
        loop, resolved once it is committed."""
        return self._writer.submit(unit)

    async def read(self, query: Callable[[Session], T]) -> T:
        """``query(session)`` in a read transaction (a snapshot on SQLite)."""

        def work() -> T:
            with self.reader() as session, session.begin():
                return query(session)

        return await asyncio.get_running_loop().run_in_executor(self._read_threads, work)

    async def dispose(self) -> None:
        """Let queued work finish, then close every connection."""
        await self._writer.close()
        self._read_threads.shutdown(wait=False)
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
