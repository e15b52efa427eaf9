"""A list on the left and, on the right, a form for the entry picked in it
(or for a new one): the shape of the Locations and Users tabs. In a narrow
window the form goes under the list, its labels above its fields."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QGridLayout, QListWidget, QVBoxLayout, QWidget

from stocky_touch.widgets.common import button, kinetic, row, scrolling, title
from stocky_touch.widgets.narrow import labels_above, on_narrow, under_when_narrow


class ListAndForm(QWidget):
    def __init__(self, heading: str, new_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setHorizontalSpacing(24)
        left = QVBoxLayout()
        self.new_button = button(new_label, self.new, name="primary")
        left.addLayout(row(title(heading), self.new_button, stretch_at=1))
        self.list = QListWidget()
        self.list.setWordWrap(True)  # a long name takes a second line, never cut
        kinetic(self.list)
        left.addWidget(self.list, 1)
        layout.addLayout(left, 0, 0)
        # The form scrolls on its own: on a small screen, and above the
        # on-screen keyboard, it is taller than the room it has.
        self.side_area, side = scrolling()
        self.side = QVBoxLayout(side)
        self.side.setContentsMargins(0, 0, 8, 0)
        self.heading = title("")
        self.side.addWidget(self.heading)
        self.form = QFormLayout()
        self.form.setVerticalSpacing(12)
        self.side.addLayout(self.form)
        layout.addWidget(self.side_area, 0, 1)
        layout.setColumnStretch(0, 2)
        layout.setColumnStretch(1, 3)
        on_narrow(self, under_when_narrow(layout, self.side_area), labels_above(self.form))

    def new(self) -> None:
        """Empty the form for a new entry."""
        raise NotImplementedError
