"""Noticing storage that changes under a running Stocky.

The SQLite file deleted or replaced (``mv`` over it), or the data directory
gone: Stocky's connections still write into the old file, which nobody will
ever open again, so every scan would be answered 200 and then lost. A thread
compares the paths with the files opened at start (``os.stat``, a few
microseconds, twice a second; the writer also looks after every commit).
Once they differ the storage is lost for good: every write is refused
(``StorageHealth.lost``), the runtime says why and stops, and the restart
meets the start-up checks of ``stocky/db/guard.py``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from stocky.core.settings import Settings
from stocky.db import guard
from stocky.db.health import StorageHealth

log = logging.getLogger("stocky.storage")

POLL_SECONDS = 0.5
Identity = tuple[int, int]


def _identity(path: Path) -> Identity | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


class StorageWatch:
    def __init__(
        self, settings: Settings, health: StorageHealth, on_lost: Callable[[str], None]
    ) -> None:
        self.settings = settings
        self.health = health
        self.on_lost = on_lost
        self.data_dir = settings.data_dir.resolve()
        self.database = guard.database_path(settings.resolved_database_url)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._opened: dict[Path, Identity | None] = {}

    def _companions(self) -> list[Path]:
        """The WAL and shared-memory files SQLite keeps beside the database."""
        assert self.database is not None
        return [self.database.with_name(self.database.name + s) for s in ("-wal", "-shm")]

    def remember(self) -> None:
        """Remember the files open now and have the writer probe them."""
        watched = [self.data_dir]
        if self.database is not None:
            watched += [self.database, *self._companions()]
        self._opened = {path: _identity(path) for path in watched}
        self.health.watch(self.probe)

    def start(self) -> None:
        """Watch from now on (call once the database has been read)."""
        self.remember()
        self._thread = threading.Thread(target=self._run, name="stocky-storage-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def probe(self) -> str | None:
        """Why the storage opened at start is gone, or None while it is there."""
        if _identity(self.data_dir) != self._opened[self.data_dir]:
            return f"The data directory {self.data_dir} was deleted or replaced while Stocky was running"
        if self.database is None:
            return None
        now = _identity(self.database)
        if now != self._opened[self.database]:
            how = "deleted" if now is None else "replaced by another file"
            return f"The database file {self.database} was {how} while Stocky was running"
        return None

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            if (reason := self.health.check()) is not None:
                self._keep_out_of_the_way()
                self.on_lost(reason)
                return

    def _keep_out_of_the_way(self) -> None:
        """Leave what comes next a clean slate and the truth: this process's
        WAL and shared-memory files belong to the old database (paired with a
        new one they would damage it), and the marker must stay, so that the
        restart refuses a missing database instead of making an empty one."""
        try:
            if self.database is not None:
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                for path in self._companions():
                    opened = self._opened[path]
                    if opened is not None and _identity(path) == opened:
                        os.replace(path, path.with_name(f"{path.name}.orphaned-{stamp}"))
            if not guard.marker_path(self.settings).exists():
                guard.write_marker(self.settings)
        except OSError as error:
            log.warning("Could not set the old database's files aside: %s", error)
