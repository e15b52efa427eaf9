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
processes (a CLI command, a backup), for at most ``faults.LOCK_WAIT`` per
write. Readers run on a few threads of their own, in parallel with the
writer (WAL). Driver errors that mean the storage is sick become
``StorageFull``, ``StorageBusy`` or ``StorageFault`` (``faults.py``).

On PostgreSQL both roles share one engine; quantity changes are single
``UPDATE ... RETURNING`` statements there too.

``DATABASE_URL`` may name an async driver (``sqlite+aiosqlite://``,
``postgresql+asyncpg://``, the forms Stocky has always documented): the
synchronous driver of the same database is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
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

from stocky.core.errors import StorageFault, StorageFull
from stocky.db.faults import LOCK_WAIT, LOST, storage_errors, storage_fault, transaction_probe
from stocky.db.health import Burst, StorageHealth

log = logging.getLogger("stocky.db")

BUSY_TIMEOUT_MS = 10_000
# The WAL is cut back to this after checkpoints: without a limit it stays as
# large as it ever grew (4 MB and more), which is what a full disk needs most.
WAL_LIMIT = 1024 * 1024
# After this many seconds without a write, a WAL grown past WAL_LIMIT is
# checkpointed and truncated.
IDLE_CHECKPOINT = 1.0
READ_FAULT_LOG_EVERY = 60.0
CHECKPOINT_WAIT_MS = 200
READER_THREADS = 4
# At most this many queued units of work share one commit.
MAX_GROUP = 64
# Transactions one group may take when units keep losing them (see GroupWriter).
ATTEMPTS = 3
T = TypeVar("T")

_SYNC_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}


def sync_url(url: str | URL) -> URL:
    """``url`` with the synchronous driver of its database."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    return parsed.set(drivername=_SYNC_DRIVERS[backend]) if backend in _SYNC_DRIVERS else parsed


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def database_path(url: str | URL) -> Path | None:
    """The SQLite file behind ``url``; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if not is_sqlite(parsed) or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).expanduser().resolve()


def wal_file(url: str | URL) -> Path | None:
    """The write-ahead log of a SQLite database file; None for anything else."""
    path = database_path(url)
    return path.with_name(path.name + "-wal") if path is not None else None


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
        # Checkpoint every WAL_LIMIT (not SQLite's 4 MB), and cut the WAL back
        # to that size after each one.
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_LIMIT // 4096}")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
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
        if role != "migrate":  # an upgrade waits for a running Stocky's locks
            # A lock held elsewhere (another Stocky's transaction, a LOCK
            # TABLE) is waited for at most LOCK_WAIT, as busy_timeout does on
            # SQLite, then lock_not_available: 503 with Retry-After.
            options = f"-c lock_timeout={int(LOCK_WAIT * 1000)}"
            kwargs["connect_args"] = {"options": options, **kwargs.get("connect_args", {})}
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
    if future.done():  # cancelled, or (after a writer failure) settled already
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


Outcome = tuple[bool, Any]  # (True, result) or (False, the error)


class _TransactionLost(Exception):
    """A unit left the group's transaction rolled back, or in a state not known."""


class GroupWriter:
    """Every write of this process, on one thread over one connection.

    Units of work that queue up while one is being committed share the next
    transaction, each inside a savepoint of its own: one that fails is rolled
    back alone, the others commit together with a single fsync (group
    commit). A unit's result is handed back only once the group's COMMIT has
    returned, so nothing is reported written before it is on disk; if the
    COMMIT fails, every unit of the group gets the error.

    Some failures take the whole transaction with them, not just the unit's
    savepoint: SQLite rolls everything back on SQLITE_FULL, SQLITE_IOERR,
    SQLITE_CORRUPT, SQLITE_NOMEM and sometimes SQLITE_BUSY, and the units
    after it would run outside any transaction. So after every unit the
    writer checks that the transaction is still open, and a storage fault
    counts as fatal to it whatever that check says. Then the unit that hit it
    gets the fault, and the others (rolled back with it, or not run yet) run
    again in a fresh transaction, up to ``ATTEMPTS`` transactions in all (a
    damaged page fails only the writes that touch it; a full disk fails them
    all, and should not cost a group more than a few tries); after that the
    rest get the fault too. Nothing of a lost transaction is ever reported
    written.

    Storage faults and the writes that succeed again are recorded in
    ``health``; ``on_burst`` hears, on the event loop, when a burst of
    failures starts and when it ends.
    """

    def __init__(
        self, engine: Engine, health: StorageHealth, wal: Path | None = None
    ) -> None:
        self.engine = engine
        self.health = health
        self.on_burst: Callable[[Burst], None] | None = None
        self._wal = wal  # the SQLite WAL file, kept small (see ``_keep_wal_small``)
        self._lock_wait_ms: int | None = None
        self._jobs: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="stocky-db-write", daemon=True)
        self._thread.start()

    def submit(self, unit: Callable[[Session], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, unit, time.monotonic()))
        return future

    async def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        self._jobs.put(None)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)

    def _serve(self) -> None:
        while (job := self._next_job()) is not None:
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
            try:
                self._commit(group)
            except Exception as error:  # noqa: BLE001 - the thread must live on, or every write waits forever
                log.exception("The database writer failed on a group of %d writes", len(group))
                self._settle_all(group, [(False, error)] * len(group))

    def _next_job(self) -> tuple[Any, ...] | None:
        """The next job; when none comes for a while, the WAL is tidied first."""
        if self._wal is None:
            return self._jobs.get()
        try:
            return self._jobs.get(timeout=IDLE_CHECKPOINT)
        except queue.Empty:
            self._keep_wal_small()
            return self._jobs.get()

    def _commit(self, group: list[tuple[Any, ...]]) -> None:
        if (lost := self.health.lost_reason) is not None:
            self._settle_all(group, [(False, StorageFault(lost))] * len(group))
            return
        units = [job[2] for job in group]
        outcomes: list[Outcome] = [(False, None)] * len(units)
        pending = list(range(len(units)))
        for _ in range(ATTEMPTS):
            results, culprit = self._transaction([units[n] for n in pending], group[0][3])
            if culprit is None:
                for n, outcome in zip(pending, results, strict=True):
                    outcomes[n] = outcome
                break
            # Rolled back under the group: nothing of it is written. The
            # culprit gets its fault, the others a fresh transaction.
            outcomes[pending.pop(culprit)] = fault = results[culprit]
            if not pending:
                break
        else:
            for n in pending:
                outcomes[n] = fault
        if (lost := self.health.check()) is not None:  # committed into a file that is gone
            self._settle_all(group, [(False, StorageFault(lost))] * len(group))
            return  # the runtime says why, once
        self._record(outcomes, group[0][0])
        self._settle_all(group, outcomes)

    def _transaction(
        self, units: list[Callable[[Session], Any]], oldest: float
    ) -> tuple[list[Outcome], int | None]:
        """Run ``units`` in one transaction and commit it. Returns their
        outcomes, and the index of the unit that lost the transaction (None
        when it committed or failed as a whole: then the outcomes say so)."""
        outcomes: list[Outcome] = []
        culprit: int | None = None
        try:
            with self.engine.connect() as connection:
                wait_ms = self._lock_wait_ms_left(oldest)
                if self._wal is not None:
                    self._wait_for_locks(connection, wait_ms)
                with connection.begin():
                    if connection.dialect.name == "postgresql":
                        # 0 would mean forever: a group out of time waits a millisecond.
                        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, wait_ms)}")
                    alive = transaction_probe(connection)
                    for unit in units:
                        ok, value = self._run_unit(connection, unit)
                        if not ok and (fault := storage_fault(value)) is not None:
                            value = fault
                        outcomes.append((ok, value))
                        if not alive() or (not ok and isinstance(value, StorageFault)):
                            culprit = len(outcomes) - 1
                            raise _TransactionLost
        except Exception as error:  # noqa: BLE001 - each unit gets the error, none is lost
            if culprit is not None:
                ok, value = outcomes[culprit]
                if ok or not isinstance(value, StorageFault):
                    value = LOST.error()  # lost under a unit that did not notice
                    value.__cause__ = outcomes[culprit][1] if not ok else None
                return [(False, value)] * len(units), culprit
            # BEGIN or COMMIT failed: none of the group is written.
            failure = storage_fault(error) or error
            if failure is not error:
                failure.__cause__ = error
            return [(False, failure)] * len(units), None
        return outcomes, None

    @staticmethod
    def _lock_wait_ms_left(oldest: float) -> int:
        """A lock held elsewhere is waited for only as long as the oldest
        unit of the group has left of ``LOCK_WAIT``: a unit that queued
        behind a group which was waiting too gets 503 in time."""
        left = LOCK_WAIT - (time.monotonic() - oldest)
        return max(0, int(left * 10) * 100)  # in tenths of a second: rarely changes

    def _wait_for_locks(self, connection: Any, wait_ms: int) -> None:
        """SQLite's wait for locks, set before BEGIN IMMEDIATE (which waits)."""
        if wait_ms != self._lock_wait_ms:
            connection.connection.driver_connection.execute(f"PRAGMA busy_timeout={wait_ms}")
            self._lock_wait_ms = wait_ms

    def _record(self, outcomes: list[Outcome], loop: asyncio.AbstractEventLoop) -> None:
        faults = [value for ok, value in outcomes if not ok and isinstance(value, StorageFault)]
        for fault in faults:
            if self.health.write_failed(fault.message):
                self._tell(loop)
                if isinstance(fault, StorageFull):
                    self._keep_wal_small(always=True)  # the disk gets back what the WAL held
        if not faults and self.health.write_succeeded():
            self._tell(loop)
            self._keep_wal_small(always=True)

    def _tell(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.on_burst is not None and (burst := self.health.burst) is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                loop.call_soon_threadsafe(self.on_burst, burst)

    def _keep_wal_small(self, always: bool = False) -> None:
        """Copy the WAL into the database and cut it to nothing: when it has
        grown past ``WAL_LIMIT`` (``journal_size_limit`` trims it too, but
        only once a later write starts it over), or ``always``."""
        try:
            if self._wal is None or not always and self._wal.stat().st_size <= WAL_LIMIT:
                return
            with self.engine.connect() as connection:
                raw = connection.connection.driver_connection
                # Waiting for readers a moment is fine, for a lock held elsewhere not.
                raw.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
                self._lock_wait_ms = None
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except Exception as error:  # noqa: BLE001 - tidying only; the next write reports real trouble
            log.debug("The WAL could not be checkpointed: %s", error)

    @staticmethod
    def _settle_all(group: list[tuple[Any, ...]], outcomes: list[Outcome]) -> None:
        for (loop, future, *_), (ok, value) in zip(group, outcomes, strict=True):
            # A closed loop (RuntimeError) has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, ok, value)

    @staticmethod
    def _run_unit(connection: Any, unit: Callable[[Session], T]) -> Outcome:
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
        self._writer = GroupWriter(self.write_engine, self.health, wal_file(url))
        self._read_threads = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="stocky-db-read")
        self._read_faults_logged: dict[str, float] = {}

    def on_burst(self, listener: Callable[[Burst], None]) -> None:
        """Call ``listener`` on the event loop when a burst of failing
        writes starts (``ended`` None) and when a write succeeds again."""
        self._writer.on_burst = listener

    def write(self, unit: Callable[[Session], T]) -> asyncio.Future[T]:
        """``unit(session)`` in a write transaction, as a future of the running
        loop, resolved once it is committed."""
        return self._writer.submit(unit)

    async def read(self, query: Callable[[Session], T]) -> T:
        """``query(session)`` in a read transaction (a snapshot on SQLite)."""

        def work() -> T:
            try:
                with storage_errors(writing=False), self.reader() as session, session.begin():
                    return query(session)
            except StorageFault as fault:
                self._log_read_fault(fault)
                raise

        return await asyncio.get_running_loop().run_in_executor(self._read_threads, work)

    def _log_read_fault(self, fault: StorageFault) -> None:
        """One line a minute for each kind of failing read, not one per request."""
        now = time.monotonic()
        if now - self._read_faults_logged.get(fault.message, -READ_FAULT_LOG_EVERY) >= READ_FAULT_LOG_EVERY:
            self._read_faults_logged[fault.message] = now
            log.error("Reading the database failed: %s (%s)", fault.message, fault.__cause__)

    async def dispose(self) -> None:
        """Let queued work finish, then close every connection."""
        await self._writer.close()
        self._read_threads.shutdown(wait=False)
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
