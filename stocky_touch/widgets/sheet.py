"""A sheet laid over the window's content: questions ("Delete it?"), the
number pad, a new API key, a label to scan off the screen.

Not a dialog window: a window manager may place a dialog off a small screen
or behind the kiosk, while a sheet always covers exactly the window. Its
body scrolls, so it fits at any size, and its buttons stay at the bottom."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from stocky_touch.widgets.common import button, hint, scrolling, title

Action = tuple[str, Callable[[], Any] | None, str | None]  # label, on tap (then it closes), style name


class Sheet(QWidget):
    def __init__(self, anchor: QWidget, heading: str, body: QWidget | None = None,
                 actions: Sequence[Action] = (("Close", None, None),)) -> None:
        host = anchor.window().centralWidget() if hasattr(anchor.window(), "centralWidget") else anchor.window()
        super().__init__(host)
        self.setObjectName("sheet")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.heading = title(heading, wrap=True)
        layout.addWidget(self.heading)
        area, page = scrolling(body)
        layout.addWidget(area, 1)
        self.body = page
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.buttons: dict[str, QWidget] = {}
        for label, on_tap, name in actions:
            self.buttons[label] = button(label, lambda t=on_tap: self._chosen(t), name=name)
            buttons.addWidget(self.buttons[label])
        layout.addLayout(buttons)
        host.installEventFilter(self)
        self.setGeometry(host.rect())
        self.show()
        self.raise_()

    def _chosen(self, on_tap: Callable[[], Any] | None) -> None:
        self.close_sheet()
        if on_tap is not None:
            on_tap()

    def close_sheet(self) -> None:
        self.hide()
        self.deleteLater()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize:
            self.setGeometry(watched.rect())
        return False


def confirm(anchor: QWidget, question: str, yes: str, on_yes: Callable[[], Any],
            explain: str = "", danger: bool = True) -> Sheet:
    """Ask before a destructive or bulk action; nothing happens on "Cancel"."""
    body = None
    if explain:
        # On a page of its own, at the top: a bare label would fill the
        # sheet, grey, with the sentence adrift in its middle.
        body = QWidget()
        body.setObjectName("page")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(hint(explain))
        layout.addStretch(1)
    return Sheet(anchor, question, body, (("Cancel", None, None), (yes, on_yes, "danger" if danger else "primary")))
