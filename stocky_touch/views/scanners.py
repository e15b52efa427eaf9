"""The Scanners tab (Members and Admins): each scanner's mode and location,
the code that links a scanner to this screen, and Connect a phone (a phone
scans with its camera, and takes the shopping list along)."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QScrollArea, QVBoxLayout, QWidget

from stocky.schemas.commands import ScanCommand
from stocky.schemas.user import ScannerState
from stocky_touch.views.base import Context
from stocky_touch.views.connect import connect_phone
from stocky_touch.widgets.choice import Choice
from stocky_touch.widgets.common import (
    Throttle,
    button,
    hint,
    kinetic,
    label,
    row,
    run,
    scrolling,
    title,
)
from stocky_touch.widgets.narrow import is_narrow, on_narrow, under_when_narrow
from stocky_touch.widgets.qr import QrCode

MODES = (("add", "Add"), ("remove", "Remove"))


class ScannerRow(QWidget):
    def __init__(self, view: ScannersView, state: ScannerState, locations: list) -> None:
        super().__init__()
        self.grid = layout = QGridLayout(self)
        layout.setContentsMargins(0, 8, 0 ,8)
        name = title(state.username)
        self.mode = Choice(MODES, state.current_mode)
        options = [(None, "No location")] + [(loc.id, loc.name) for loc in locations]
        self.location = Choice(options, state.current_location_id)
        layout.addWidget(name, 0, 0, 1, 2)
        self.fields = ((label("Mode"), self.mode), (label("Location"), self.location))
        self._place(is_narrow(view))
        on_narrow(self, self._place)
        self.mode.changed.connect(lambda mode: view.set_state(state, {"current_mode": mode}))
        self.location.changed.connect(
            lambda loc: view.set_state(state, {"current_location_id": str(loc) if loc else None}))

    def _place(self, narrow: bool) -> None:
        """Each label beside its choices, or above them in a narrow window."""
        for position, (caption, choice) in enumerate(self.fields):
            if narrow:
                self.grid.addWidget(caption, 1 + 2 * position, 0, 1, 2)
                self.grid.addWidget(choice, 2 + 2 * position, 0, 1, 2)
            else:
                self.grid.addWidget(caption, 1 + position, 0)
                self.grid.addWidget(choice, 1 + position, 1)


class ScannersView(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QGridLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setHorizontalSpacing(24)
        left = QVBoxLayout()
        # At the top, beside the heading: in reach without scrolling at 800x480.
        self.connect_button = button("Connect a phone", lambda: connect_phone(self, ctx.https, ctx.http_port))
        left.addLayout(row(title("Scanners"), self.connect_button, stretch_at=1))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        kinetic(scroll)
        self.rows = QWidget()
        self.rows.setObjectName("page")
        self.rows_layout = QVBoxLayout(self.rows)
        scroll.setWidget(self.rows)
        left.addWidget(scroll, 1)
        layout.addLayout(left, 0, 0)
        right_area, right_body = scrolling()
        right = QVBoxLayout(right_body)
        right.addWidget(title("Link a scanner"))
        right.addWidget(hint("Scan this code with a scanner: its scans then show on this screen, "
                             "and its view commands switch these tabs."))
        command = ScanCommand(command="associate_ui", payload=ctx.live.ui_id)
        self.link_code = QrCode(command.encode(), size=220)
        right.addWidget(self.link_code)
        right.addStretch(1)
        layout.addWidget(right_area, 0, 1)
        layout.setColumnStretch(0, 3)
        # Narrow: the code to link a scanner under the scanners, scrolled to.
        on_narrow(self, under_when_narrow(layout, right_area, rows=(3, 2)))
        self._reload = Throttle(self.reload, 200, self)
        ctx.live.changed.connect(lambda entity, *_: entity in ("scanner", "location", "user") and self._reload())

    def reload(self) -> None:
        async def load():
            actor = self.ctx.session.actor
            return await self.ctx.services.scans.states(actor), (await self.ctx.services.locations.list(actor)).data

        def show(result) -> None:
            states, locations = result
            while self.rows_layout.count():
                item = self.rows_layout.takeAt(0)
                if item.widget():
                    item.widget().deleteLater()
            if not states:
                self.rows_layout.addWidget(hint("No scanners yet: add a Scanner user on the Users tab."))
            for state in states:
                self.rows_layout.addWidget(ScannerRow(self, state, locations))
            self.rows_layout.addStretch(1)

        run(self.ctx.notifier, load(), show)

    def set_state(self, state: ScannerState, changes: dict) -> None:
        run(self.ctx.notifier, self.ctx.services.scans.set_state(state.id, changes, self.ctx.session.actor))
