"""Telling people when the storage fails and when it works again.

The writer records every failed and every successful write in
``Database.health``; this hears when a burst of failures starts and when it
ends. One log line each, not a traceback per request; and, once writes
succeed again, an Error alert that says what happened and for how long (an
alert cannot be written while the disk is full, and by then it can tell the
whole story).
"""

from __future__ import annotations

import asyncio
import logging

from stocky.core.errors import StorageFault
from stocky.db.faults import cause_of
from stocky.db.health import Burst
from stocky.schemas.actor import SYSTEM
from stocky.services.alerts import AlertService

log = logging.getLogger("stocky.storage")


def duration(seconds: float) -> str:
    """``seconds`` for a person: "4 s", "2 min 5 s", "3 h 12 min"."""
    whole = max(1, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def recovery_message(burst: Burst) -> str:
    cause = cause_of(burst.reason)
    changes = "1 change was" if burst.refused == 1 else f"{burst.refused} changes were"
    return (
        f"Stocky could not save changes for {duration(burst.seconds)} "
        f"(from {burst.started:%Y-%m-%d %H:%M:%S} UTC): {cause}. {changes} refused, each "
        "answered with an error; nothing that was confirmed was lost."
    )


class StorageReport:
    def __init__(self, alerts: AlertService) -> None:
        self.alerts = alerts
        self._writing: set[asyncio.Task[object]] = set()

    def __call__(self, burst: Burst) -> None:
        if burst.ended is None:
            log.error("Changes cannot be saved: %s", burst.reason)
            return
        message = recovery_message(burst)
        log.warning("Changes are saved again. %s", message)
        task = asyncio.ensure_future(self.alerts.create({"severity": "Error", "message": message}, SYSTEM))
        self._writing.add(task)
        task.add_done_callback(self._written)

    def _written(self, task: asyncio.Task[object]) -> None:
        self._writing.discard(task)
        if task.cancelled():
            return
        if isinstance(error := task.exception(), StorageFault):
            # Failing again: that burst is reported in its turn.
            log.debug("The storage alert could not be written: %s", error.message)
        elif error is not None:
            log.error("The storage alert could not be written: %s", error)
