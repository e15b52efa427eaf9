"""The Use soon tab: dated units up to a few days ahead, expired first, each
with its place, its date, how many days are left and a − to take one out."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from stocky.schemas.item import LotOut
from stocky_touch.views.base import Context
from stocky_touch.widgets.common import Throttle, button, hint, label, run, scrolling
from stocky_touch.widgets.narrow import on_narrow, stack

WINDOWS = (3, 7, 14, 30)  # days ahead, as big buttons
SHOWN = 200  # more dated lots than a kitchen holds within a month


def days_left(days: int) -> str:
    """"Expired yesterday", "Best before today", "2 days left"."""
    if days < -1:
        return f"Expired {-days} days ago"
    if days == -1:
        return "Expired yesterday"
    if days == 0:
        return "Best before today"
    return "1 day left" if days == 1 else f"{days} days left"


def day_text(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


class LotRow(QWidget):
    """One lot: what, where, when, and a − for one unit of it."""

    def __init__(self, view: UseSoonView, lot: LotOut) -> None:
        super().__init__()
        self.lot = lot
        self.setObjectName("lotrow")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        text = QVBoxLayout()
        text.setSpacing(0)
        name = label(f"{lot.item_name or 'Unnamed item'} × {lot.quantity}", wrap=True)
        self.when = hint(f"{days_left(lot.days_left)} · {day_text(lot.best_before)} · {lot.location_name}")
        text.addWidget(name)
        text.addWidget(self.when)
        layout.addLayout(text, 1)
        self.minus = button("−", lambda: view.take_one(self.lot), name="minus")
        layout.addWidget(self.minus, 0, Qt.AlignmentFlag.AlignVCenter)


class UseSoonView(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.days = 7
        self.rows: list[LotRow] = []
        self._reloads = 0  # an answer to an earlier reload (another window) is dropped

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 0)
        top = QHBoxLayout()
        self.summary = hint("")
        top.addWidget(self.summary, 1)
        self.windows = QButtonGroup(self)
        self._windows = QGridLayout()
        for position, days in enumerate(WINDOWS):
            choice = button(f"{days} days", checkable=True)
            choice.setChecked(days == self.days)
            self.windows.addButton(choice, days)
            self._windows.addWidget(choice, 0, position)
        top.addLayout(self._windows)
        layout.addLayout(top)
        on_narrow(self, stack(top), self._narrow)
        area, body = scrolling()
        self.list = QVBoxLayout(body)
        self.list.setContentsMargins(0, 0, 0, 0)
        self.list.addStretch(1)
        layout.addWidget(area, 1)

        self._refresh = Throttle(self.reload, 300, self)
        self.windows.idClicked.connect(self.set_days)
        ctx.live.changed.connect(self._changed)

    def _narrow(self, narrow: bool) -> None:
        """Narrow: the windows under the count, two by two."""
        for position, days in enumerate(WINDOWS):
            row, column = divmod(position, 2) if narrow else (0, position)
            self._windows.addWidget(self.windows.button(days), row, column)

    def set_days(self, days: int) -> None:
        self.days = days
        self.windows.button(days).setChecked(True)
        self.reload()

    def reload(self) -> None:
        self._reloads += 1
        ticket = self._reloads

        def show(page) -> None:
            if ticket == self._reloads:
                self._show(page.data, page.total)

        run(self.ctx.notifier, self.ctx.services.lots.expiring(self.ctx.session.actor, self.days, SHOWN), show)

    def _show(self, lots: list[LotOut], total: int) -> None:
        for old in self.rows:
            old.deleteLater()
        self.rows = [LotRow(self, lot) for lot in lots]
        for position, lot_row in enumerate(self.rows):
            self.list.insertWidget(position, lot_row)
        expired = sum(lot.quantity for lot in lots if lot.days_left < 0)
        units = sum(lot.quantity for lot in lots)
        if not total:
            self.summary.setText(f"Nothing dated within {self.days} days.")
        else:
            self.summary.setText(f"{units} to use within {self.days} days"
                                 + (f", {expired} expired" if expired else ""))

    def take_one(self, lot: LotOut) -> None:
        if not self.ctx.session.can_change:
            self.ctx.notifier.error("This account can only look. Tap your name to switch user.")
            return

        def done(result) -> None:
            if result.change_id is not None:
                self.ctx.notifier.done(f"Took {result.item.name or 'it'} out of {result.sku.location_name} "
                                       f"(now {result.sku.quantity})", result.change_id)

        change = {"delta": -1, "best_before": lot.best_before.isoformat()}
        run(self.ctx.notifier, self.ctx.services.skus.adjust(lot.sku_id, change, self.ctx.session.actor), done)

    def _changed(self, entity: str, _id: str, _op: str, _data: dict[str, Any]) -> None:
        # Any stock change may add, date, or take units: reload (throttled,
        # and only while the tab is on screen).
        if entity in ("sku", "item", "location"):
            self._refresh()
