"""What a database driver's error means for a person: the one place that
turns SQLite's result codes, PostgreSQL's SQLSTATEs and the operating
system's errno into ``StorageFull``, ``StorageBusy`` or ``StorageFault``.

Anything classified here is a fault of the storage, not of the request: the
writer treats it as fatal to the transaction it happened in (SQLite rolls the
whole transaction back on most of them), and the API answers 507 or 503.
"""

from __future__ import annotations

import contextlib
import errno
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError

from stocky.core.errors import StorageBusy, StorageFault, StorageFull

# Seconds a write waits for a lock another process holds before the answer
# is 503 with Retry-After: long enough for a CLI command or a backup's
# snapshot (milliseconds), short enough that a scanner's request (aiohttp's
# and most HTTP clients' timeouts are 10 s or more) gets the clear answer.
LOCK_WAIT = 5.0
RETRY_AFTER = 5


@dataclass(frozen=True)
class Trouble:
    """One kind of storage trouble, in words for a person."""

    fault: type[StorageFault]
    problem: str  # what is wrong
    advice: str  # what to do
    cause: str  # what it was, for the alert once writes succeed again

    def error(self, writing: bool = True) -> StorageFault:
        saved = ", so this was not saved" if writing else ""
        message = f"{self.problem}{saved}. {self.advice}"
        if self.fault is StorageBusy:
            return StorageBusy(message, retry_after=RETRY_AFTER)
        return self.fault(message)


FULL = Trouble(
    StorageFull, "The disk that holds Stocky's database is full",
    "Free some space; Stocky saves again by itself once there is room.",
    "the disk holding the database was full",
)
BUSY = Trouble(
    StorageBusy, "Another program is holding Stocky's database", "Try again in a few seconds.",
    "another program held the database",
)
DAMAGED = Trouble(
    StorageFault, "Stocky's database file is damaged",
    "Restore a backup with 'stocky restore'.",
    "the database file is damaged (restore a backup with 'stocky restore')",
)
READ_ONLY = Trouble(
    StorageFault, "Stocky's database cannot be written (it or its folder is read-only)",
    "Make the data directory writable again.",
    "the database or its folder was read-only",
)
IO_ERROR = Trouble(
    StorageFault, "The disk under Stocky's database failed to read or write",
    "Check the disk; if it keeps happening, restore a backup with 'stocky restore'.",
    "the disk failed to read or write",
)
UNREACHABLE = Trouble(
    StorageFault, "Stocky cannot reach its database",
    "Check that the database server is running.",
    "the database could not be reached",
)
NO_MEMORY = Trouble(StorageFault, "Stocky ran out of memory", "Try again.", "Stocky ran out of memory")
LOST = Trouble(
    StorageFault, "Stocky's database dropped the change part-way",
    "Try again; if it keeps happening, check the disk.",
    "the database dropped changes part-way",
)
_TROUBLES = (FULL, BUSY, DAMAGED, READ_ONLY, IO_ERROR, UNREACHABLE, NO_MEMORY, LOST)


def cause_of(reason: str) -> str:
    """What ``reason`` (the message of a failed write) was, for the alert."""
    for trouble in _TROUBLES:
        if reason.startswith(trouble.problem):
            return trouble.cause
    return reason.rstrip(".")


# SQLite's primary result codes (https://sqlite.org/rescode.html).
_SQLITE = {
    5: BUSY,  # SQLITE_BUSY
    6: BUSY,  # SQLITE_LOCKED
    7: NO_MEMORY,  # SQLITE_NOMEM
    8: READ_ONLY,  # SQLITE_READONLY
    10: IO_ERROR,  # SQLITE_IOERR
    11: DAMAGED,  # SQLITE_CORRUPT
    13: FULL,  # SQLITE_FULL
    14: IO_ERROR,  # SQLITE_CANTOPEN
    15: BUSY,  # SQLITE_PROTOCOL: a lock race in WAL
    26: DAMAGED,  # SQLITE_NOTADB
}

# PostgreSQL's SQLSTATEs; a class (two characters) where all of it applies.
_POSTGRES = {
    "53100": FULL,  # disk_full
    "53200": NO_MEMORY,  # out_of_memory
    "53300": BUSY,  # too_many_connections
    "55P03": BUSY,  # lock_not_available
    "58030": IO_ERROR,  # io_error
    "XX001": DAMAGED,  # data_corrupted
    "XX002": DAMAGED,  # index_corrupted
    "25006": READ_ONLY,  # read_only_sql_transaction
    "08": UNREACHABLE,  # connection exceptions
    "57P": UNREACHABLE,  # the server shuts down or restarts
}

_ERRNO = {
    errno.ENOSPC: FULL,
    errno.EDQUOT: FULL,
    errno.EROFS: READ_ONLY,
    errno.EACCES: READ_ONLY,
    errno.EIO: IO_ERROR,
}


def _classify_one(error: BaseException, writing: bool) -> StorageFault | None:
    if isinstance(error, StorageFault):
        return error
    if isinstance(error, DBAPIError):
        found = _classify_one(error.orig, writing) if error.orig is not None else None
        if found is None and error.connection_invalidated:
            found = UNREACHABLE.error(writing)
        return found
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and (known := _SQLITE.get(code & 0xFF)):
        return known.error(writing)
    state = getattr(error, "sqlstate", None)
    if isinstance(state, str):
        for prefix in (state, state[:3], state[:2]):
            if known := _POSTGRES.get(prefix):
                return known.error(writing)
    if isinstance(error, OSError) and (known := _ERRNO.get(error.errno or 0)):
        return known.error(writing)
    if _unreachable_postgres(error):
        return UNREACHABLE.error(writing)
    return None


def _unreachable_postgres(error: BaseException) -> bool:
    """A PostgreSQL server that cannot be reached (refused, reset, timed out,
    gone mid-query): psycopg raises OperationalError with no SQLSTATE, as no
    server answered with one."""
    psycopg = sys.modules.get("psycopg")  # not loaded: not its error (SQLite only)
    return psycopg is not None and isinstance(error, psycopg.OperationalError) and error.sqlstate is None


def storage_fault(error: BaseException, writing: bool = True) -> StorageFault | None:
    """The storage fault behind ``error``, or None when it is not one.

    The causes are followed too: when SQLite rolled a transaction back,
    SQLAlchemy's ``ROLLBACK TO SAVEPOINT`` fails next ("no such savepoint")
    and the real error is that one's context."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if (found := _classify_one(current, writing)) is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


@contextlib.contextmanager
def storage_errors(writing: bool = True) -> Iterator[None]:
    """Raise a driver's storage error as the ``StorageFault`` it means."""
    try:
        yield
    except (DBAPIError, OSError) as error:
        if (fault := storage_fault(error, writing)) is None:
            raise
        raise fault from error


def transaction_probe(connection: Any) -> Any:
    """A cheap callable telling whether ``connection``'s transaction is still
    open (SQLite: the driver's ``in_transaction``; psycopg: the libpq
    transaction status). Unknown means not open."""
    if connection.invalidated:
        return lambda: False
    raw = connection.connection.driver_connection
    if hasattr(raw, "in_transaction") and hasattr(raw, "total_changes"):  # sqlite3
        return lambda: raw.in_transaction
    info = getattr(raw, "info", None)
    if info is not None and hasattr(info, "transaction_status"):  # psycopg 3
        from psycopg.pq import TransactionStatus

        # psycopg begins on the first statement: idle is fine until then,
        # and means the transaction ended under us once it had begun.
        began = False

        def alive() -> bool:
            nonlocal began
            status = info.transaction_status
            if status == TransactionStatus.INTRANS:
                began = True
                return not connection.invalidated
            return status == TransactionStatus.IDLE and not began

        return alive
    return lambda: not connection.invalidated
