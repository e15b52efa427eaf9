"""A row of big toggle buttons instead of a drop-down: one tap, no popup."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QWidget

from stocky_touch.widgets.common import button


class Choice(QWidget):
    changed = Signal(object)

    def __init__(self, options: Sequence[tuple[object, str]], value: object = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._values = [value_ for value_, _ in options]
        self.group = QButtonGroup(self)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # More than three in two columns: whole words fit on a 7-inch screen.
        columns = len(options) if len(options) <= 3 else 2
        for position, (_value, text) in enumerate(options):
            choice = button(text, checkable=True)
            self.group.addButton(choice, position)
            layout.addWidget(choice, position // columns, position % columns)
        self.set_value(value)
        self.group.idClicked.connect(lambda position: self.changed.emit(self._values[position]))

    def value(self) -> object:
        position = self.group.checkedId()
        return self._values[position] if position >= 0 else None

    def set_value(self, value: object) -> None:
        if value in self._values:
            self.group.button(self._values.index(value)).setChecked(True)

    def set_options_enabled(self, enabled: bool) -> None:
        for choice in self.group.buttons():
            choice.setEnabled(enabled)
