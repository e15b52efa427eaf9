"""The key-wedge fallback: where evdev cannot read the scanner, it types into
the focused window like a keyboard. Keys that arrive as fast as only a
scanner types, ended by Enter, are a scan and go to the ScanService; anything
slower is a person typing and is handed on to the widget unchanged.

The timing and text rules are the shared ``KeyDecoder``; this module only
turns Qt key events into the decoder's (key, value, time) events, including
the two ways a scanner types the GS1 group separator (Ctrl+] and the Alt
code Alt+0029, see ``stocky.inputs.keydecoder``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent

from stocky.inputs.keydecoder import DOWN, GS, GS_KEY, KEYMAP, UP, KeyDecoder
from stocky_touch.appevents import app_events

SHIFT, CTRL, ALT = "KEY_LEFTSHIFT", "KEY_LEFTCTRL", "KEY_LEFTALT"
# The key name that types each character on a US keyboard, and whether it needs Shift.
CHAR_KEYS: dict[str, tuple[str, bool]] = {}
for _name, (_plain, _shifted) in KEYMAP.items():
    if not _name.startswith("KEY_KP"):
        CHAR_KEYS.setdefault(_plain, (_name, False))
        CHAR_KEYS.setdefault(_shifted, (_name, True))
TERMINATOR_KEYS = {Qt.Key.Key_Return: "KEY_ENTER", Qt.Key.Key_Enter: "KEY_KPENTER", Qt.Key.Key_Tab: "KEY_TAB"}
# Pressed alone they type nothing; the keys pressed with them say what they
# mean. Num Lock too: some scanners switch it on around an Alt code's digits.
MODIFIER_KEYS = frozenset({Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_AltGr,
                           Qt.Key.Key_Meta, Qt.Key.Key_Super_L, Qt.Key.Key_Super_R,
                           Qt.Key.Key_NumLock, Qt.Key.Key_CapsLock})
# The keypad's digits, with Num Lock on and (as Insert, End, ...) off.
KEYPAD_DIGITS = {
    **{Qt.Key(Qt.Key.Key_0 + d): str(d) for d in range(10)},
    Qt.Key.Key_Insert: "0", Qt.Key.Key_End: "1", Qt.Key.Key_Down: "2", Qt.Key.Key_PageDown: "3",
    Qt.Key.Key_Left: "4", Qt.Key.Key_Clear: "5", Qt.Key.Key_Right: "6", Qt.Key.Key_Home: "7",
    Qt.Key.Key_Up: "8", Qt.Key.Key_PageUp: "9",
}
CHORD = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
MIN_SCAN_LENGTH = 3

KeyEvents = list[tuple[str, int, float]]


def _press(name: str, at: float) -> KeyEvents:
    return [(name, DOWN, at), (name, UP, at)]


def _keypad_digit(event: QKeyEvent) -> str | None:
    if not event.modifiers() & Qt.KeyboardModifier.KeypadModifier:
        return None
    return KEYPAD_DIGITS.get(Qt.Key(event.key()))


class KeyTranslator:
    """The decoder's key events for each Qt key press.

    The wedge sees presses only, each with the modifiers held at that moment;
    Alt's release, which ends an Alt code, is the first press without Alt."""

    def __init__(self) -> None:
        self.alt = False  # an Alt code is being typed

    def reset(self) -> None:
        self.alt = False

    def events(self, event: QKeyEvent, at: float) -> KeyEvents:
        """Empty: the press is not part of a scan."""
        modifiers = event.modifiers()
        ended: KeyEvents = []
        if self.alt and not modifiers & Qt.KeyboardModifier.AltModifier:
            self.alt = False
            ended = [(ALT, UP, at)]
        if (modifiers & CHORD) == Qt.KeyboardModifier.AltModifier and (digit := _keypad_digit(event)):
            started = [] if self.alt else [(ALT, DOWN, at)]
            self.alt = True
            return [*ended, *started, *_press(f"KEY_KP{digit}", at)]
        typed = self._typed(event, at)
        return [*ended, *typed] if typed else []

    @staticmethod
    def _typed(event: QKeyEvent, at: float) -> KeyEvents:
        if (name := TERMINATOR_KEYS.get(Qt.Key(event.key()))) is not None:
            return _press(name, at)
        chord, text = event.modifiers() & CHORD, event.text()
        # Ctrl+]: Qt may give its text as GS, or none with the key ] and Ctrl.
        ctrl = chord == Qt.KeyboardModifier.ControlModifier
        if (text == GS and (ctrl or not chord)) or (ctrl and event.key() == Qt.Key.Key_BracketRight):
            return [(CTRL, DOWN, at), *_press(GS_KEY, at), (CTRL, UP, at)]
        if chord or len(text) != 1 or text not in CHAR_KEYS:
            return []  # Ctrl+B, Alt+F, Escape...: not part of a scan
        name, shifted = CHAR_KEYS[text]
        return [(SHIFT, DOWN, at), *_press(name, at), (SHIFT, UP, at)] if shifted else _press(name, at)


class KeyWedge(QObject):
    """An application event filter; ``on_scan`` gets each scanned text."""

    def __init__(self, on_scan: Callable[[str], None], timeout: float = 0.05,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.on_scan = on_scan
        self.decoder = KeyDecoder(timeout)
        self.keys = KeyTranslator()
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
        if not watched.isWidgetType() or event.key() in MODIFIER_KEYS:
            return False
        events = self.keys.events(event, time.monotonic())
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
        self.keys.reset()
        self._replaying = True
        try:
            for target, event in held:
                QCoreApplication.sendEvent(target, event)
        finally:
            self._replaying = False
