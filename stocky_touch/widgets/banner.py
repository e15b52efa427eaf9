"""The short message at the top of the screen after a scan or a tap."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from stocky_touch.widgets.common import button

SHOW_MS = 4000
SHOW_ERROR_MS = 7000


class Banner(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setObjectName("banner")
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.label, 1)
        self.action: QPushButton = button("", name="primary")
        self.action.hide()
        layout.addWidget(self.action)
        self._action_callback: Callable[[], None] | None = None
        self.action.clicked.connect(self._run_action)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_message(self, text: str, error: bool = False,
                     action: tuple[str, Callable[[], None]] | None = None) -> None:
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
        self.show()
        self.raise_()
        self._timer.start(SHOW_ERROR_MS if error or action else SHOW_MS)

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def is_error(self) -> bool:
        return self.label.property("error") == "true"

    def _run_action(self) -> None:
        callback = self._action_callback
        self.hide()
        if callback is not None:
            callback()
