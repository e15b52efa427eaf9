"""Whether the database takes writes: what ``/health`` reports, and what
turns a burst of failures into one log line instead of one per request."""

from __future__ import annotations

import threading
from collections.abc import Callable


class StorageHealth:
    """Shared by the writer thread (which records outcomes) and the loop
    (which reads them); a lock keeps the two consistent."""

    _probe: Callable[[], str | None] | None = None  # see ``watch``

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failing: str | None = None
        self._lost: str | None = None

    @property
    def ok(self) -> bool:
        with self._lock:
            return self._failing is None and self._lost is None

    @property
    def reason(self) -> str | None:
        """Why writes fail, in words for a person; None while they succeed."""
        with self._lock:
            return self._lost or self._failing

    @property
    def lost_reason(self) -> str | None:
        """Set once the storage is gone or replaced; writes are refused from then on."""
        with self._lock:
            return self._lost

    def write_failed(self, reason: str) -> bool:
        """Record a failed write; True when this starts a new burst of failures."""
        with self._lock:
            starts = self._failing is None
            self._failing = reason
            return starts

    def write_succeeded(self) -> bool:
        """Record a committed write; True when this ends a burst of failures."""
        with self._lock:
            ended = self._failing is not None
            self._failing = None
            return ended

    def lost(self, reason: str) -> None:
        """The storage itself is gone or replaced: never healthy again in this process."""
        with self._lock:
            self._lost = reason

    def watch(self, probe: Callable[[], str | None]) -> None:
        """``probe`` says why the storage is gone (or None while it is there);
        ``check`` runs it."""
        self._probe = probe

    def check(self) -> str | None:
        """Look now: the writer calls this after every commit, so a write into
        a deleted or replaced database file is never reported written."""
        if (lost := self.lost_reason) is not None:
            return lost
        if self._probe is not None and (reason := self._probe()) is not None:
            self.lost(reason)
            return reason
        return None
