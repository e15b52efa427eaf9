"""The short message after a scan or a tap. It lies over the bottom of the
content, just above the scanner bar (it is in no layout), so it never pushes
a control away from under a finger, and leaves the page headers (Back, Save)
and the scanners' add/remove switches free; a tap on its text puts it away."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QPushButton, QWidget

from stocky.core.dates import resolve
from stocky_touch.widgets.common import button, label
from stocky_touch.widgets.date_picker import ask_date

SHOW_MS = 4000
SHOW_ERROR_MS = 7000
SHOW_DATES_MS = 12000  # long enough to take the pack in hand and read its date
# The quick best-before choices after an add, as on the printed date cards.
QUICK_DATES = (("3 days", "+3d"), ("1 week", "+1w"), ("1 month", "+1m"), ("3 months", "+3m"))
ANY_DATE = "A date…"
PLACE_ON = (QEvent.Type.Resize, QEvent.Type.Move, QEvent.Type.LayoutRequest, QEvent.Type.Show, QEvent.Type.Hide)


class Banner(QWidget):
    def __init__(self, parent: QWidget | None = None, keep_clear: QWidget | None = None) -> None:
        """``keep_clear``: the bar at the parent's bottom the banner sits above."""
        super().__init__(parent)
        self.setObjectName("messagebar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.keep_clear = keep_clear
        for watched in (parent, keep_clear):
            if watched is not None:
                watched.installEventFilter(self)
        layout = QGridLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        self.label = label(name="banner", wrap=True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.label, 0, 0)
        layout.setColumnStretch(0, 1)
        self.action: QPushButton = button("", name="primary")
        self.action.hide()
        layout.addWidget(self.action, 0, 1)
        # Under the message after an add: one tap dates the unit just added.
        self.dates = QWidget()
        self.dates.setObjectName("page")
        self.dates.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.dates_grid = QGridLayout(self.dates)
        self.dates_grid.setContentsMargins(0, 4, 0, 0)
        self.dates_label = label("Best before in:")
        self.date_buttons: dict[str, QPushButton] = {}
        for text, payload in QUICK_DATES:
            self.date_buttons[text] = button(text, lambda p=payload: self._date_chosen(resolve(p, date.today())))
        self.date_buttons[ANY_DATE] = button(ANY_DATE, self._ask_date)
        self._arrangement: tuple[bool, int] | None = None
        self._arrange_dates(1280)
        self.dates.hide()
        self._on_date: Callable[[date], None] | None = None
        layout.addWidget(self.dates, 1, 0, 1, 2)
        self._action_callback: Callable[[], None] | None = None
        self.action.clicked.connect(self._run_action)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_message(self, text: str, error: bool = False,
                     action: tuple[str, Callable[[], None]] | None = None,
                     dates: Callable[[date], None] | None = None) -> None:
        """``dates``, when given, is called with the best-before date a
        quick choice under the message stands for."""
        self.label.setText(text)
        state = "true" if error else "false"
        if self.label.property("error") != state:
            # Restyling under the application's style sheet is costly: only
            # when the colour changes, not for every scan in a row.
            self.label.setProperty("error", state)
            self.label.style().unpolish(self.label)
            self.label.style().polish(self.label)
        if action is not None:
            self.action.setText(action[0])
            self._action_callback = action[1]
            self.action.show()
        else:
            self._action_callback = None
            self.action.hide()
        self._on_date = dates
        self.dates.setVisible(dates is not None)
        self.show()
        self.raise_()
        self.place()
        self._timer.start(SHOW_DATES_MS if dates else SHOW_ERROR_MS if error or action else SHOW_MS)

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        width = parent.width()
        self._arrange_dates(width)
        height = max(self.heightForWidth(width) if self.hasHeightForWidth() else 0, self.sizeHint().height())
        bottom = parent.height()
        if self.keep_clear is not None and self.keep_clear.isVisible():
            bottom = self.keep_clear.geometry().top()
        self.setGeometry(0, max(0, bottom - height), width, height)

    def _arrange_dates(self, width: int) -> None:
        """All choices in one row after their caption where they fit (a wide
        screen); else the caption above and as many in a row as fit whole
        (all five at 800 wide, three in portrait)."""
        grid = self.dates_grid
        choices = list(self.date_buttons.values())
        spacing = max(grid.horizontalSpacing(), 0)
        widest = max(choice.sizeHint().width() for choice in choices) + spacing
        inline = self.dates_label.sizeHint().width() + spacing + widest * len(choices) <= width - 32
        per_row = len(choices) if inline else max(1, min(len(choices), (width - 32) // widest))
        if (inline, per_row) == self._arrangement:
            return
        self._arrangement = (inline, per_row)
        for widget in (self.dates_label, *choices):
            grid.removeWidget(widget)
        for column in range(len(choices) + 1):
            grid.setColumnStretch(column, 0)
        first_column, first_row = (1, 0) if inline else (0, 1)
        grid.addWidget(self.dates_label, 0, 0, 1, 1 if inline else per_row)
        for index, choice in enumerate(choices):
            grid.addWidget(choice, first_row + index // per_row, first_column + index % per_row)
        for column in range(first_column, first_column + per_row):
            grid.setColumnStretch(column, 1)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        # The bar kept clear moves after its parent's resize: follow both.
        if event.type() in PLACE_ON and self.isVisible():
            self.place()
        return False

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.hide()
        event.accept()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def is_error(self) -> bool:
        return self.label.property("error") == "true"

    def _date_chosen(self, day: date) -> None:
        callback = self._on_date
        self.hide()
        if callback is not None:
            callback(day)

    def _ask_date(self) -> None:
        """Any date: a sheet of steppers, starting a week ahead."""
        callback = self._on_date
        self.hide()
        if callback is not None:
            ask_date(self, "Best before", date.today() + timedelta(weeks=1), callback)

    def _run_action(self) -> None:
        callback = self._action_callback
        self.hide()
        if callback is not None:
            callback()
