"""The services' event bus and log buffer, as Qt signals; and this screen's
place in the UI registry, so scanners associated with it reach it."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QObject, Signal

from stocky.core.events import Event
from stocky.core.logbuffer import LogEntry
from stocky.services.container import Services


class Live(QObject):
    # entity, id, op, data: the event's data as the service emitted it (a
    # stock change carries the new quantities), so a view can often show
    # the change as it is instead of asking the database again.
    changed = Signal(str, str, str, object)
    screenMessage = Signal(dict)  # show_view, scan_result
    logEntry = Signal(object)  # LogEntry

    def __init__(self, services: Services, ui_id: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ui_id = ui_id or str(uuid.uuid4())
        self._stops = [
            services.bus.subscribe(self._on_event),
            services.logs.listen(self._on_log),
            # Owned by the kiosk: no web client can claim this screen's id.
            services.screens.register(self.ui_id, self._on_screen, owner="kiosk"),
        ]

    def _on_event(self, event: Event) -> None:
        self.changed.emit(event.entity, event.id, event.op, event.data)

    def _on_log(self, entry: LogEntry) -> None:
        self.logEntry.emit(entry)

    def _on_screen(self, message: dict[str, Any]) -> None:
        self.screenMessage.emit(message)

    def close(self) -> None:
        for stop in self._stops:
            stop()
        self._stops.clear()
