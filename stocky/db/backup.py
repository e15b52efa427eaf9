"""Backups of the SQLite database: ``stocky backup FILE`` while Stocky runs,
``stocky restore FILE`` while it is stopped.

A backup uses SQLite's online backup API, so it is a consistent snapshot
even with scans arriving; it is checked with ``PRAGMA integrity_check`` and
only then moved into place. PostgreSQL users back up with ``pg_dump``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from stocky.core.errors import Conflict, InvalidInput

LOCK_NAME = "stocky.lock"


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise InvalidInput(
            "Backups here are for the SQLite database; for PostgreSQL use pg_dump and pg_restore."
        )
    return Path(url.database).expanduser().resolve()


def _check(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
            db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise InvalidInput(f"{path} is not a Stocky database: {error}") from None
    if verdict != "ok":
        raise InvalidInput(f"{path} is damaged: {verdict}")


def backup(database_url: str, target: Path) -> Path:
    """Copy the live database to ``target`` (a consistent snapshot)."""
    source = sqlite_path(database_url)
    if not source.exists():
        raise InvalidInput(f"There is no database at {source} yet.")
    target = target.expanduser().resolve()
    if target == source:
        raise InvalidInput("The backup cannot replace the database itself.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as live, sqlite3.connect(partial) as copy:
        live.execute(f"PRAGMA busy_timeout={10_000}")
        live.backup(copy, pages=1024)  # in steps, so writers are never held up long
    try:
        _check(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


@contextmanager
def _held(lock_file: Path, taken: str) -> Iterator[None]:
    """An exclusive ``flock`` on ``lock_file`` for as long as the block runs;
    the operating system frees it if the process dies."""
    with open(lock_file, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(taken) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def running_lock(data_dir: Path) -> Iterator[None]:
    """Held while Stocky runs on ``data_dir``; a second Stocky or a restore
    finds it taken."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with _held(
        data_dir / LOCK_NAME,
        f"Stocky is already running on {data_dir} (another kiosk, server or restore).",
    ):
        yield


def database_lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def database_lock(database: Path) -> Iterator[None]:
    """Held while a Stocky uses the SQLite file ``database``, whatever its data
    directory: two processes writing one file would each believe they are
    its only writer (and each checkpoint and watch it alone)."""
    with _held(
        database_lock_path(database),
        f"Another Stocky is already running on the database {database} (a kiosk, a server or "
        "a restore, perhaps with another data directory). Stop it first: one database file "
        "serves one Stocky; several Stocky processes can share a PostgreSQL database instead.",
    ):
        yield


def restore(database_url: str, data_dir: Path, source: Path) -> Path:
    """Put ``source`` back as the database. Refuses while Stocky runs; keeps
    the replaced database beside it, just in case. Returns that copy's path."""
    source = source.expanduser().resolve()
    if not source.exists():
        raise InvalidInput(f"There is no backup at {source}.")
    _check(source)
    target = sqlite_path(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    with running_lock(data_dir), database_lock(target):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = target.with_name(f"{target.name}.before-restore-{stamp}")
        if target.exists():
            # Checkpoint first so the kept copy holds everything the WAL had;
            # a damaged database (the usual reason to restore) is kept as it is.
            with contextlib.suppress(sqlite3.DatabaseError), sqlite3.connect(target) as old:
                old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copy2(target, kept)
        incoming = target.with_name(target.name + ".restoring")
        shutil.copy2(source, incoming)
        for suffix in ("-wal", "-shm"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        os.replace(incoming, target)
    return kept
