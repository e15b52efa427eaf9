"""The short message at the top of the screen after a scan or a tap. It lies
over the bottom of the content and the status bar (it is in no layout), so
it never pushes a control away from under a finger, and leaves the page
headers (Back, Save) free; a tap on its text puts it away."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from stocky.core.dates import resolve
from stocky_touch.widgets.common import button

SHOW_MS = 4000
SHOW_ERROR_MS = 7000
SHOW_DATES_MS = 12000  # long enough to take the pack in hand and read its date
# The quick best-before choices after an add, as on the printed date cards.
QUICK_DATES = (("3 days", "+3d"), ("1 week", "+1w"), ("1 month", "+1m"), ("3 months", "+3m"))


class Banner(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messagebar")
        if parent is not None:
            parent.installEventFilter(self)
        layout = QGridLayout(self)
        layout.setContentsMargins(16, 0, 16, 8)
        self.label = QLabel()
        self.label.setObjectName("banner")
        self.label.setWordWrap(True)
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
        dates_row = QHBoxLayout(self.dates)
        dates_row.setContentsMargins(0, 4, 0, 0)
        dates_row.addWidget(QLabel("Best before in:"))
        self.date_buttons: dict[str, QPushButton] = {}
        for text, payload in QUICK_DATES:
            self.date_buttons[text] = choice = button(text, lambda p=payload: self._date_chosen(p))
            dates_row.addWidget(choice, 1)
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
        height = max(self.heightForWidth(width) if self.hasHeightForWidth() else 0, self.sizeHint().height())
        self.setGeometry(0, parent.height() - height, width, height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest) and self.isVisible():
            self.place()
        return False

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.hide()
        event.accept()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def is_error(self) -> bool:
        return self.label.property("error") == "true"

    def _date_chosen(self, payload: str) -> None:
        callback = self._on_date
        self.hide()
        if callback is not None:
            callback(resolve(payload, date.today()))

    def _run_action(self) -> None:
        callback = self._action_callback
        self.hide()
        if callback is not None:
            callback()
