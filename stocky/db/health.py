"""Whether the database takes writes: what ``/health`` reports, and what
turns a burst of failures into one log line instead of one per request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

# A burst of failures ends with a write that succeeds this long after the
# last failure: writes that fail and succeed in turn (a damaged page that
# only some writes touch) are one burst, not one per failure.
SETTLE = 2.0


@dataclass(frozen=True)
class Burst:
    """Writes failing from ``started`` until ``ended`` (None: still failing)."""

    reason: str
    started: datetime
    refused: int = 1
    ended: datetime | None = None

    @property
    def seconds(self) -> float:
        return ((self.ended or datetime.now(UTC)) - self.started).total_seconds()


class StorageHealth:
    """Shared by the writer thread (which records outcomes) and the loop
    (which reads them); a lock keeps the two consistent."""

    _probe: Callable[[], str | None] | None = None  # see ``watch``

    def __init__(self, settle: float = SETTLE) -> None:
        self._lock = threading.Lock()
        self._failing: str | None = None
        self._lost: str | None = None
        self._settle = settle
        self._last_failure = 0.0
        self._burst: Burst | None = None

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

    @property
    def burst(self) -> Burst | None:
        """The burst of failures under way, or else the last one that ended."""
        with self._lock:
            return self._burst

    def write_failed(self, reason: str) -> bool:
        """Record a failed write; True when this starts a new burst of failures."""
        with self._lock:
            starts = self._failing is None
            self._failing = reason
            self._last_failure = time.monotonic()
            if starts or self._burst is None:
                self._burst = Burst(reason=reason, started=datetime.now(UTC))
            else:
                self._burst = replace(self._burst, refused=self._burst.refused + 1)
            return starts

    def write_succeeded(self) -> bool:
        """Record a committed write; True when this ends a burst of failures."""
        with self._lock:
            if self._failing is None:
                return False
            if time.monotonic() - self._last_failure < self._settle:
                return False
            self._failing = None
            if self._burst is not None:
                self._burst = replace(self._burst, ended=datetime.now(UTC))
            return True

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
