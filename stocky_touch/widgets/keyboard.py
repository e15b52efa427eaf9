"""An on-screen keyboard docked in the main window, and a number pad.

Ours rather than Qt Virtual Keyboard: that one lives in PySide6-Addons, needs
PulseAudio libraries and opens its own top-level window, which a bare-console
kiosk (eglfs) refuses. Keys are delivered as real key events to whatever text
field has focus, so every QLineEdit works with it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from stocky_touch.appevents import app_events
from stocky_touch.widgets.common import button, button_text, label
from stocky_touch.widgets.narrow import on_narrow
from stocky_touch.widgets.sheet import Sheet

LETTERS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"]
SYMBOLS = ["1234567890", "@#&*-+=()/", "%$!?:;'\"", ".,_<>[]"]
TAP_SLOP = 24  # px a finger may slide and still tap
# The shares of the bottom row's width (Shift, ?123, space, ⌫, ⏎, Done); narrow (480 px in
# portrait) Shift is only its arrow, so Done and ?123 keep their whole names.
BOTTOM_STRETCH = (2, 2, 6, 2, 2, 2)
BOTTOM_STRETCH_NARROW = (2, 3, 5, 2, 2, 3)


def _send_key(key: Qt.Key, text: str = "") -> None:
    target = QApplication.focusWidget()
    if target is None:
        return
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QCoreApplication.sendEvent(target, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, text))


def is_text_field(widget: QWidget | None) -> bool:
    return isinstance(widget, (QLineEdit, QPlainTextEdit)) and not widget.isReadOnly()


class OnScreenKeyboard(QWidget):
    """Appears when a text field takes focus, hides with "Done" or when none has it.

    A tap on a key must leave the focus where it is: Qt gives the focus to
    the nearest ancestor of a tapped widget that accepts it, so the keyboard
    and its keys take none, and the window places the keyboard outside any
    widget that does (see MainWindow)."""

    shown = Signal(bool)  # True when it opens, False when it closes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyboard")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._shift = False
        self._symbols = False
        self._grid = QVBoxLayout(self)
        self._grid.setContentsMargins(8, 8, 8, 8)
        self._grid.setSpacing(6)
        self._rows: list[QHBoxLayout] = []
        self._keys: list[QPushButton] = []
        self._build()
        self.hide()
        QApplication.instance().focusChanged.connect(self._focus_changed)
        self._pressed_at: QPoint | None = None
        stop_watching_taps = app_events().add(
            self._touched, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease)
        self.destroyed.connect(stop_watching_taps)

    def _touched(self, watched: QObject, event: QEvent) -> bool:
        # Only a tap on a text field opens the keyboard: not a field that
        # merely receives focus (a tab switch), and not a finger that lands
        # on a field to scroll the page.
        if not isinstance(watched, QWidget):
            return False
        field = watched if is_text_field(watched) else watched.parentWidget()
        if not is_text_field(field) or field.window() is not self.window():
            return False
        if event.type() == QEvent.Type.MouseButtonPress:
            self._pressed_at = event.globalPosition().toPoint()
        elif self._pressed_at is not None:
            moved = (event.globalPosition().toPoint() - self._pressed_at).manhattanLength()
            self._pressed_at = None
            if moved < TAP_SLOP and field.hasFocus():
                self.show()
        return False

    def _build(self) -> None:
        for chars in LETTERS:
            layout = QHBoxLayout()
            layout.setSpacing(6)
            for _ in chars:
                key = button("", parent=self)
                key.clicked.connect(lambda _=False, k=key: self._type(k.property("char") or ""))
                layout.addWidget(key)
                self._keys.append(key)
            self._grid.addLayout(layout)
            self._rows.append(layout)
        self._bottom = bottom = QHBoxLayout()
        bottom.setSpacing(6)
        self.shift_key = button("⇧ Shift", self._toggle_shift, checkable=True, parent=self)
        self.symbols_key = button("?123", self._toggle_symbols, checkable=True, parent=self)
        space = button("space", lambda: self._type(" "), parent=self)
        backspace = button("⌫", lambda: _send_key(Qt.Key.Key_Backspace), parent=self)
        done = button("Done", self.close_keyboard, name="primary", parent=self)
        enter = button("⏎", lambda: _send_key(Qt.Key.Key_Return, "\r"), parent=self)
        for widget, stretch in zip((self.shift_key, self.symbols_key, space, backspace, enter, done),
                                   BOTTOM_STRETCH, strict=True):
            bottom.addWidget(widget, stretch)
        self._grid.addLayout(bottom)
        self._label_keys()
        on_narrow(self, self._narrow)

    def _narrow(self, narrow: bool) -> None:
        self.shift_key.setText("⇧" if narrow else "⇧ Shift")
        for index, stretch in enumerate(BOTTOM_STRETCH_NARROW if narrow else BOTTOM_STRETCH):
            self._bottom.setStretch(index, stretch)

    def fit(self, window_height: int) -> None:
        """Keys as tall as a finger needs, but the keyboard never more than
        about 45% of the window, so the field being typed into stays in view."""
        key_height = max(34, min(64, int(window_height * 0.45 / 5) - 8))
        gap = 4 if key_height < 44 else 6
        self._grid.setSpacing(gap)
        self._grid.setContentsMargins(gap, gap, gap, gap)
        for layout in (*self._rows, self._bottom):
            layout.setSpacing(gap)
        for key in self.findChildren(QPushButton):
            key.setFixedHeight(key_height)
            key.setMinimumWidth(36)

    def setVisible(self, visible: bool) -> None:  # noqa: N802
        # Told before it opens, so the window makes room first and never
        # grows past the screen for a moment.
        changed = visible != self.isVisible()
        if changed and visible:
            self.shown.emit(True)
        super().setVisible(visible)
        if changed and not visible:
            self.shown.emit(False)

    def _label_keys(self) -> None:
        rows = SYMBOLS if self._symbols else LETTERS
        chars = "".join(rows)
        for key, char in zip(self._keys, chars.ljust(len(self._keys)), strict=True):
            text = char.upper() if self._shift and not self._symbols else char
            key.setProperty("char", text.strip() and text)
            key.setText(text.strip() and button_text(text))
            key.setVisible(bool(char.strip()))

    def _type(self, text: str) -> None:
        if not text:
            return
        _send_key(Qt.Key.Key_unknown, text)
        if self._shift:
            self._shift = False
            self.shift_key.setChecked(False)
            self._label_keys()

    def _toggle_shift(self) -> None:
        self._shift = self.shift_key.isChecked()
        self._label_keys()

    def _toggle_symbols(self) -> None:
        self._symbols = self.symbols_key.isChecked()
        self._label_keys()

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is None or (not self.isAncestorOf(new) and not is_text_field(new)):
            self.hide()

    def open_for(self, field: QWidget) -> None:
        """Focus ``field`` and show the keyboard (e.g. "Name it" after a scan)."""
        field.setFocus()
        self.show()

    def close_keyboard(self) -> None:
        focused = QApplication.focusWidget()
        if focused is not None:
            focused.clearFocus()
        self.hide()


class NumberPad(QWidget):
    """A big number pad for quantities, shown on a sheet by ``ask_number``."""

    chosen = Signal(int)

    def __init__(self, value: int = 0, parent: QWidget | None = None, maximum: int = 1_000_000) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.maximum = maximum
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.display = label(str(value))
        self.display.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.display.setStyleSheet("font-size: 40px; font-weight: bold; padding: 0px;")
        layout.addWidget(self.display)
        self._fresh = True
        grid = QGridLayout()
        for index, digit in enumerate("789456123"):
            grid.addWidget(self._digit(digit), index // 3, index % 3)
        grid.addWidget(button("C", self._clear), 3, 0)
        grid.addWidget(self._digit("0"), 3, 1)
        grid.addWidget(button("⌫", self._back), 3, 2)
        layout.addLayout(grid)
        for key in self.findChildren(QPushButton):
            key.setMinimumWidth(88)

    def _digit(self, digit: str) -> QPushButton:
        return button(digit, lambda: self._press(digit))

    def _press(self, digit: str) -> None:
        current = "" if self._fresh else self.display.text()
        self._fresh = False
        candidate = (current + digit).lstrip("0") or "0"
        if int(candidate) <= self.maximum:
            self.display.setText(candidate)

    def _clear(self) -> None:
        self.display.setText("0")
        self._fresh = False

    def _back(self) -> None:
        self._fresh = False
        self.display.setText(self.display.text()[:-1] or "0")

    def value(self) -> int:
        return int(self.display.text())

    def accept(self) -> None:
        self.chosen.emit(self.value())


def ask_number(parent: QWidget, title: str, value: int, on_chosen: Callable[[int], None]) -> NumberPad:
    pad = NumberPad(value)
    pad.chosen.connect(on_chosen)
    Sheet(parent, title, pad, (("Cancel", None, None), ("Set", pad.accept, "primary")))
    return pad
