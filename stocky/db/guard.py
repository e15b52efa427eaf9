"""Whether Stocky may run on its storage, checked before every start
(``stocky serve``, ``stocky kiosk``, ``stocky db upgrade``).

Stocky refuses, with one paragraph of advice and no traceback, to run on a
database that is damaged (``PRAGMA quick_check``), not a database at all, made
by a newer Stocky, read-only, on a read-only file system, or missing where the
data directory says one existed. That last one is the marker file
(``database.json`` in the data directory), written once a database is in
place: without it, a deleted database would silently come back as an empty
kitchen, with every item and sign-in gone.

The SQLite file is also locked beside itself (``stocky.db.lock``), so a second
Stocky with another data directory cannot open it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import getpass
import json
import logging
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from stocky.core.errors import StorageRefused
from stocky.core.settings import Settings
from stocky.db import migrations
from stocky.db.backup import database_lock, running_lock
from stocky.db.engine import BUSY_TIMEOUT_MS, create_engine, database_path

log = logging.getLogger("stocky.storage")

MARKER_NAME = "database.json"
SQLITE_HEADER = b"SQLite format 3\x00"
# quick_check reads every page once; past this it stops and Stocky starts
# anyway, with a warning (tests/bench/RESULTS.md: 0.8-1.4 s at 100,000 items).
QUICK_CHECK_SECONDS = 5.0
# Problems quick_check lists before it stops: the first one is what we show.
QUICK_CHECK_PROBLEMS = 5

RESTORE = (
    "Restore the newest backup with 'stocky restore FILE' (with Stocky stopped; it keeps the "
    "file it replaces beside it) and start Stocky again."
)


def described(url: str) -> str:
    """``url`` in words (never with a password)."""
    path = database_path(url)
    return str(path) if path else make_url(url).render_as_string(hide_password=True)


def _recorded_name(settings: Settings) -> str:
    """How the marker names the database: a file in the data directory by its
    name alone, so that the directory may move (a new disk, a restored copy)."""
    path = database_path(settings.resolved_database_url)
    data_dir = settings.data_dir.resolve()
    if path is not None and path.is_relative_to(data_dir):
        return str(path.relative_to(data_dir))
    return described(settings.resolved_database_url)


# -- the marker ---------------------------------------------------------------


def marker_path(settings: Settings) -> Path:
    return settings.data_dir / MARKER_NAME


def marker_names_this_database(settings: Settings) -> bool:
    """Whether the data directory says this database existed (a marker we
    cannot read still counts: better to ask than to start an empty kitchen)."""
    try:
        recorded = json.loads(marker_path(settings).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return True
    name = recorded.get("database") if isinstance(recorded, dict) else None
    return name is None or name == _recorded_name(settings)


def write_marker(settings: Settings) -> None:
    """Record that this database exists (once; kept as it is afterwards)."""
    path = marker_path(settings)
    if marker_names_this_database(settings) and path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "database": _recorded_name(settings),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": "Written by Stocky once its database existed. While this file names a "
        "database that is missing or empty, Stocky refuses to start instead of starting an "
        "empty kitchen. Delete this file only to start over with an empty kitchen on purpose.",
    }
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def _missing(settings: Settings, what: str) -> StorageRefused:
    return StorageRefused(
        f"{what}, but {marker_path(settings)} says Stocky's database was there: it was deleted, "
        f"emptied or is on a disk that is not mounted. Stocky will not start an empty kitchen in "
        f"its place. If a disk is missing, mount it; otherwise: {RESTORE} "
        f"To start over with an empty kitchen on purpose, delete {marker_path(settings)}."
    )


# -- writable? ------------------------------------------------------------------


def _cannot_write(path: Path, error: OSError) -> StorageRefused:
    if error.errno == errno.EROFS:
        return StorageRefused(
            f"{path} is on a read-only file system, and Stocky must write there. If the disk was "
            "switched to read-only after an error, check it (fsck) and mount it read-write again "
            "(restarting the box often does); then start Stocky again."
        )
    if error.errno in (errno.EACCES, errno.EPERM):
        user = getpass.getuser()
        return StorageRefused(
            f"{path} is read-only for the user Stocky runs as ({user}). Give it write access "
            f"again (for example 'chown -R {user} {path.parent if path.is_file() else path}' and "
            f"'chmod u+w {path}') and start Stocky again."
        )
    if error.errno == errno.ENOSPC:
        return StorageRefused(
            f"The disk that holds Stocky's database is full ({path} cannot be written). Free "
            "some space (old backups, logs) and start Stocky again."
        )
    return StorageRefused(f"Stocky cannot write to {path}: {error.strerror}. {RESTORE}")


def require_writable_directory(path: Path) -> None:
    """``path`` exists (made if need be) and takes new files."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=path, prefix=".stocky-write-test-")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise _cannot_write(path, error) from None


def _require_writable_file(path: Path) -> None:
    # A real attempt, not os.access: root, immutable files and read-only
    # mounts all answer truthfully here.
    try:
        os.close(os.open(path, os.O_RDWR))
    except FileNotFoundError:
        return
    except OSError as error:
        raise _cannot_write(path, error) from None


# -- the database itself -------------------------------------------------------------


def _refuse_revision(revision: str | None, path: object) -> None:
    if revision is not None and not migrations.is_known(revision):
        raise StorageRefused(
            f"The database {path} was made by a newer Stocky (schema {revision}, which this "
            "Stocky does not know). Upgrade Stocky, or restore a backup this Stocky made with "
            "'stocky restore FILE'."
        )


def _quick_check(db: sqlite3.Connection, path: Path) -> None:
    deadline = time.monotonic() + QUICK_CHECK_SECONDS
    db.set_progress_handler(lambda: time.monotonic() > deadline, 100_000)
    try:
        verdict = [row[0] for row in db.execute(f"PRAGMA quick_check({QUICK_CHECK_PROBLEMS})")]
    except sqlite3.OperationalError as error:
        if "interrupt" not in str(error):
            raise
        log.warning(
            "The start-up check of %s stopped after %.0f s (a very large database); "
            "Stocky starts without it", path, QUICK_CHECK_SECONDS,
        )
        return
    finally:
        db.set_progress_handler(None, 0)
    if verdict != ["ok"]:
        raise StorageRefused(
            f"The database {path} is damaged ({verdict[0]}). Stocky will not run on it, so that "
            f"nothing more is lost. {RESTORE}"
        )


def _check_sqlite(settings: Settings, path: Path) -> None:
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:  # a directory in its place, an unreadable disk
        raise StorageRefused(f"Stocky cannot read its database {path}: {error.strerror}. {RESTORE}") from None
    if header != SQLITE_HEADER:
        raise StorageRefused(
            f"{path} is not a database (its first bytes are damaged, or another file took its "
            f"place). {RESTORE}"
        )
    try:
        db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as error:
        raise StorageRefused(f"Stocky cannot open the database {path}: {error}. {RESTORE}") from None
    try:
        _quick_check(db, path)
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables:
            if tables:
                raise StorageRefused(
                    f"{path} is a database, but not a Stocky database. Point DATABASE_URL at "
                    f"Stocky's database, or: {RESTORE}"
                )
            if marker_names_this_database(settings):
                raise _missing(settings, f"The database {path} is empty")
            return
        revision = db.execute("SELECT version_num FROM alembic_version").fetchone()
        _refuse_revision(revision[0] if revision else None, path)
    except sqlite3.DatabaseError as error:
        raise StorageRefused(
            f"The database {path} is damaged ({error}). Stocky will not run on it, so that "
            f"nothing more is lost. {RESTORE}"
        ) from None
    finally:
        db.close()


def _check_server_database(settings: Settings) -> None:
    url = settings.resolved_database_url
    shown = described(url)
    engine = create_engine(url, role="migrate")
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                if marker_names_this_database(settings):
                    raise _missing(settings, f"The database {shown} is empty")
                return
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as error:
        raise StorageRefused(
            f"Stocky cannot reach its database {shown}: {getattr(error, 'orig', error)}. Check "
            "that the database server runs and DATABASE_URL is right, then start Stocky again."
        ) from None
    finally:
        engine.dispose()
    _refuse_revision(revision, shown)


def refuse_missing(settings: Settings) -> None:
    """Refuse a SQLite file that is missing or empty where the marker says
    one existed: the one check every command that opens the database makes,
    so that not even ``stocky create-admin`` starts an empty kitchen there."""
    path = database_path(settings.resolved_database_url)
    if path is None or (path.exists() and path.stat().st_size > 0):
        return
    if marker_names_this_database(settings):
        raise _missing(settings, f"There is no database at {path}" if not path.exists()
                       else f"The database {path} is an empty file")


def check(settings: Settings) -> None:
    """Refuse (``StorageRefused``) storage Stocky must not run on."""
    path = database_path(settings.resolved_database_url)
    if path is None:
        _check_server_database(settings)
        return
    require_writable_directory(path.parent)
    refuse_missing(settings)
    if not path.exists() or path.stat().st_size == 0:
        return  # a first start: the migrations make it
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        _require_writable_file(file)
    _check_sqlite(settings, path)


@contextlib.contextmanager
def locks(settings: Settings) -> Iterator[None]:
    """The data directory's lock and, on SQLite, the database file's own."""
    require_writable_directory(settings.data_dir)
    path = database_path(settings.resolved_database_url)
    with contextlib.ExitStack() as stack:
        stack.enter_context(running_lock(settings.data_dir))
        if path is not None:
            require_writable_directory(path.parent)
            stack.enter_context(database_lock(path))
        yield


async def upgrade(settings: Settings) -> None:
    """Check the storage, bring the schema up to date and leave the marker."""
    await asyncio.to_thread(check, settings)
    url = settings.resolved_database_url
    try:
        await migrations.upgrade(url)
        write_marker(settings)  # the migrations may have taken a nearly full disk's last bytes
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        raise StorageRefused(
            f"Stocky could not bring its database {described(url)} up to date: {cause}. "
            f"Free some space if the disk is full; otherwise: {RESTORE}"
        ) from None
    except OSError as error:
        raise _cannot_write(Path(error.filename or settings.data_dir), error) from None
