"""The key-wedge fallback: where evdev cannot read the scanner, it types into
the focused window like a keyboard. Keys that arrive as fast as only a
scanner types, ended by Enter, are a scan and go to the ScanService; anything
slower is a person typing and is handed on to the widget unchanged.

The timing and text rules are the shared ``KeyDecoder``; this module only
turns Qt key events into the decoder's (key, value, time) events.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent

from stocky.inputs.keydecoder import DOWN, KEYMAP, UP, KeyDecoder
from stocky_touch.appevents import app_events

SHIFT = "KEY_LEFTSHIFT"
# The key name that types each character on a US keyboard, and whether it needs Shift.
CHAR_KEYS: dict[str, tuple[str, bool]] = {}
for _name, (_plain, _shifted) in KEYMAP.items():
    if not _name.startswith("KEY_KP"):
        CHAR_KEYS.setdefault(_plain, (_name, False))
        CHAR_KEYS.setdefault(_shifted, (_name, True))
TERMINATOR_KEYS = {Qt.Key.Key_Return: "KEY_ENTER", Qt.Key.Key_Enter: "KEY_KPENTER", Qt.Key.Key_Tab: "KEY_TAB"}
MIN_SCAN_LENGTH = 3


def decoder_events(event: QKeyEvent, at: float) -> list[tuple[str, int, float]]:
    """The decoder's key events for one Qt key press."""
    if (name := TERMINATOR_KEYS.get(Qt.Key(event.key()))) is not None:
        return [(name, DOWN, at), (name, UP, at)]
    text = event.text()
    if len(text) != 1 or text not in CHAR_KEYS:
        return []
    name, shifted = CHAR_KEYS[text]
    keys = [(name, DOWN, at), (name, UP, at)]
    return [(SHIFT, DOWN, at), *keys, (SHIFT, UP, at)] if shifted else keys


class KeyWedge(QObject):
    """An application event filter; ``on_scan`` gets each scanned text."""

    def __init__(self, on_scan: Callable[[str], None], timeout: float = 0.05,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.on_scan = on_scan
        self.decoder = KeyDecoder(timeout)
        self._held: list[tuple[QObject, QKeyEvent]] = []
        self._replaying = False
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(int(timeout * 1000) + 10)
        self._flush.timeout.connect(self.release)
        self._uninstall: Callable[[], None] = lambda: None

    def install(self) -> None:
        self._uninstall = app_events().add(self._filter, QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress)

    def remove(self) -> None:
        self._uninstall()

    def _filter(self, watched: QObject, event: QEvent) -> bool:
        # Only keys from real hardware: the on-screen keyboard's are not spontaneous.
        if event.type() == QEvent.Type.KeyPress and not event.spontaneous():
            return False
        return self.handle(watched, event)

    def handle(self, watched: QObject, event: QEvent) -> bool:
        """True when the event was taken (held back, or part of a scan)."""
        if event.type() == QEvent.Type.MouseButtonPress and self._held:
            self.release()  # typed text must land before the tap that follows it
            return False
        if self._replaying or event.type() != QEvent.Type.KeyPress:
            return False
        if not watched.isWidgetType():
            return False
        events = decoder_events(event, time.monotonic())
        if not events:
            self.release()
            return False
        scanned = None
        for item in events:
            scanned = self.decoder.feed(item) or scanned
        if scanned is not None and len(scanned) >= MIN_SCAN_LENGTH:
            self._held.clear()
            self._flush.stop()
            self.on_scan(scanned)
            return True
        if event.key() in TERMINATOR_KEYS:
            self.release()
            return False
        self._held.append((watched, QKeyEvent(event.type(), event.key(), event.modifiers(), event.text())))
        self._flush.start()
        return True

    def release(self) -> None:
        """Too slow for a scanner: give the held keys to their widgets after all."""
        held, self._held = self._held, []
        self._flush.stop()
        self.decoder.reset()
        self._replaying = True
        try:
            for target, event in held:
                QCoreApplication.sendEvent(target, event)
        finally:
            self._replaying = False
