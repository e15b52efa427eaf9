"""The screen's one application-wide event filter.

Qt passes every event in the process through each application event filter,
the qasync loop's timer events included, and a filter written in Python
costs a call into Python each time. So the screen installs a single one: it
reads the event's type once and calls only the handlers that asked for that
type (a tap, a key); every other event goes straight on.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

# handler(watched, event) -> True when it takes the event
Handler = Callable[[QObject, QEvent], bool]


class AppEvents(QObject):
    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._handlers: dict[int, tuple[Handler, ...]] = {}  # by event type
        app.installEventFilter(self)

    def add(self, handler: Handler, *types: QEvent.Type) -> Callable[[], None]:
        """Call ``handler`` for events of these types; returns the function
        that stops it. The handler added last is asked first, as Qt asks
        application event filters, and one that returns True takes the
        event: the handlers after it and the event's target never see it."""
        for kind in types:
            self._handlers[kind.value] = (handler, *self._handlers.get(kind.value, ()))

        def remove() -> None:
            for kind in types:
                rest = tuple(other for other in self._handlers.get(kind.value, ()) if other is not handler)
                if rest:
                    self._handlers[kind.value] = rest
                else:
                    self._handlers.pop(kind.value, None)

        return remove

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        handlers = self._handlers.get(event.type().value)
        if handlers:
            for handler in handlers:
                try:
                    if handler(watched, event):
                        return True
                except Exception:  # reported as from a filter of its own; the others still run
                    sys.excepthook(*sys.exc_info())
        return False


def app_events() -> AppEvents:
    """The application's filter, installed on first use."""
    app = QApplication.instance()
    events = app.findChild(AppEvents)
    return events if events is not None else AppEvents(app)
