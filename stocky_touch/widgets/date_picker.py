"""Choose a best-before date with a finger: day, month and year each step
up and down on big buttons, and the chosen date reads in words above them.

A calendar grid has cells far smaller than a fingertip at 800x480, and a
typed date needs the keyboard over half the screen; a pack's date is a few
taps away from today with steppers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QVBoxLayout, QWidget

from stocky.core.dates import add_months
from stocky_touch.widgets.common import button, label
from stocky_touch.widgets.sheet import Sheet

STEP_MIN_WIDTH = 96


def in_days(days: int) -> str:
    if days == 0:
        return "today"
    if days < 0:
        return "yesterday" if days == -1 else f"{-days} days ago"
    return "tomorrow" if days == 1 else f"in {days} days"


class DatePicker(QWidget):
    chosen = Signal(date)

    def __init__(self, value: date, today: date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.today = today or date.today()
        self._value = value
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.display = label(name="datedisplay", wrap=True)
        self.display.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.display.setStyleSheet("font-size: 28px; font-weight: bold; padding: 0px;")
        layout.addWidget(self.display)
        grid = QGridLayout()
        steps: tuple[tuple[str, Callable[[date, int], date]], ...] = (
            ("day", lambda day, n: day + timedelta(days=n)),
            ("month", add_months),
            ("year", lambda day, n: add_months(day, 12 * n)),
        )
        self.steppers: dict[str, tuple[QPushButton, QPushButton]] = {}
        for column, (unit, step) in enumerate(steps):
            later = button("▲", lambda s=step: self._step(s, 1), name="step")
            earlier = button("▼", lambda s=step: self._step(s, -1), name="step")
            # Named for the accessibility tree: "Later day", "Earlier month"...
            later.setAccessibleName(f"Later {unit}")
            earlier.setAccessibleName(f"Earlier {unit}")
            for key in (later, earlier):
                key.setMinimumWidth(STEP_MIN_WIDTH)
            caption = label(unit.capitalize())
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(later, 0, column)
            grid.addWidget(caption, 1, column)
            grid.addWidget(earlier, 2, column)
            self.steppers[unit] = (later, earlier)
        layout.addLayout(grid)
        self._show()

    def value(self) -> date:
        return self._value

    def accept(self) -> None:
        self.chosen.emit(self._value)

    def _step(self, step: Callable[[date, int], date], count: int) -> None:
        try:
            self._value = step(self._value, count)
        except (OverflowError, ValueError):
            return  # past year 1 or 9999: stay where it is
        self._show()

    def _show(self) -> None:
        day = self._value
        self.display.setText(f"{day:%a} {day.day} {day:%B %Y}\n{in_days((day - self.today).days)}")


def ask_date(parent: QWidget, title: str, value: date, on_chosen: Callable[[date], None]) -> DatePicker:
    picker = DatePicker(value)
    picker.chosen.connect(on_chosen)
    Sheet(parent, title, picker, (("Cancel", None, None), ("Set", picker.accept, "primary")))
    return picker
