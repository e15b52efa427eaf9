"""The in-memory log behind ``GET /log`` and the Log tab.

A ``logging.Handler`` feeds a deque of at most 10,000 entries shaped like the
seed's Log table. Nothing is written to disk: the journal of stock changes is
the durable history; this is the appliance's recent story.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from stocky.core.security import mask_api_keys

Severity = Literal["INFO", "WARN", "ERROR"]
SEVERITIES: tuple[Severity, ...] = ("INFO", "WARN", "ERROR")
DEFAULT_CAPACITY = 10_000


@dataclass(frozen=True)
class LogEntry:
    id: uuid.UUID
    timestamp: datetime
    severity: Severity
    message: str
    source: str


def severity_of(levelno: int) -> Severity:
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARN"
    return "INFO"


class LogBuffer:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._lock = threading.Lock()  # records may arrive from executor threads
        self._listeners: list[Callable[[LogEntry], None]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def append(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            listeners = tuple(self._listeners)
        for listener in listeners:
            listener(entry)

    def listen(self, listener: Callable[[LogEntry], None]) -> Callable[[], None]:
        """Call ``listener`` with every new entry (the live Log tab uses this)."""
        with self._lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop

    def query(
        self,
        severity: Severity | None = None,
        search: str | None = None,
        limit: int = 100,
    ) -> list[LogEntry]:
        """Newest first; ``severity`` is a minimum, ``search`` a case-insensitive substring."""
        floor = SEVERITIES.index(severity) if severity else 0
        needle = search.casefold() if search else None
        with self._lock:
            snapshot = list(self._entries)
        found: list[LogEntry] = []
        for entry in reversed(snapshot):
            if SEVERITIES.index(entry.severity) < floor:
                continue
            if needle and needle not in entry.message.casefold() and needle not in entry.source.casefold():
                continue
            found.append(entry)
            if len(found) >= limit:
                break
        return found


class BufferHandler(logging.Handler):
    """Feeds log records into a ``LogBuffer``.

    ``source`` comes from ``extra={"source": ...}`` (a scan logs the scanner's
    name) or else from the logger's name. The HTTP access log stays out: the
    kitchen's log tells what happened in the kitchen, not which page loaded.
    """

    def __init__(
        self, buffer: LogBuffer, level: int = logging.INFO, exclude: tuple[str, ...] = ("stocky.http",)
    ) -> None:
        super().__init__(level)
        self.buffer = buffer
        self.exclude = exclude

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(self.exclude):
            return
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message = f"{message}: {record.exc_info[1]!r}"
            source = getattr(record, "source", None) or record.name.removeprefix("stocky.")
            # Read-only people read this log: no API key, nor a piece of one,
            # in the message or in the source (a scanner's or a device's name).
            self.buffer.append(
                LogEntry(
                    id=uuid.uuid4(),
                    timestamp=datetime.fromtimestamp(record.created, UTC),
                    severity=severity_of(record.levelno),
                    message=mask_api_keys(message),
                    source=mask_api_keys(str(source)),
                )
            )
        except Exception:
            self.handleError(record)
