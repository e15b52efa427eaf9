"""The alert list behind the top bar's alert button."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stocky.schemas.alert import AlertOut
from stocky_touch.views.base import Context
from stocky_touch.widgets.common import Throttle, button, kinetic, label, row, run, title
from stocky_touch.widgets.narrow import is_narrow, on_narrow, stack

ICONS = {"Warning": "⚠", "Error": "⛔", "Info": "ℹ"}


class AlertRow(QWidget):
    def __init__(self, page: AlertsPage, alert: AlertOut, narrow: bool = False) -> None:
        super().__init__()
        text = label(f"{ICONS.get(alert.severity, '')}  {alert.message}\n"
                     f"{alert.timestamp.astimezone():%a %d %b, %H:%M}", wrap=True)
        self.acknowledge = button("Acknowledge", lambda: page.acknowledge(alert))
        self.setLayout(row(text, self.acknowledge))
        self.layout().setStretch(0, 1)
        stack(self.layout())(narrow)  # narrow: the button under the text, the text the whole width


class AlertsPage(QWidget):
    back = Signal()

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.heading = title("Alerts")
        self.acknowledge_all = button("Acknowledge all", self._acknowledge_all, name="primary")
        header = QHBoxLayout()
        header.setSpacing(12)
        header.addLayout(row(button("‹ Back", self.back.emit), self.heading, stretch_at=2))
        header.addWidget(self.acknowledge_all)
        layout.addLayout(header)
        self.list = QListWidget()
        kinetic(self.list)
        layout.addWidget(self.list, 1)
        self._reload = Throttle(self.reload, 200, self)
        ctx.live.changed.connect(lambda entity, *_: entity == "alert" and self._reload())
        # Narrow: "Acknowledge all" under the heading, each alert laid out again.
        on_narrow(self, stack(header), lambda _narrow: self._reload())

    def reload(self) -> None:
        def show(page) -> None:
            self.list.clear()
            self.heading.setText(f"Alerts ({page.total} open)" if page.total else "No open alerts")
            self.acknowledge_all.setEnabled(page.total > 0)
            narrow = is_narrow(self)
            for alert in page.data:
                entry = QListWidgetItem()
                widget = AlertRow(self, alert, narrow)
                size = widget.sizeHint()
                if narrow:  # as wide as the list, as tall as its wrapped text needs there
                    width = self.list.viewport().width()
                    bar = self.list.verticalScrollBar()
                    if not bar.isVisible():  # the list was just emptied: leave room for the bar a long one gets
                        width -= bar.sizeHint().width()
                    size = QSize(width, max(size.height(), widget.heightForWidth(width)))
                entry.setSizeHint(size)
                self.list.addItem(entry)
                self.list.setItemWidget(entry, widget)

        run(self.ctx.notifier, self.ctx.services.alerts.list(self.ctx.session.actor, acknowledged=False, limit=200), show)

    def acknowledge(self, alert: AlertOut) -> None:
        run(self.ctx.notifier, self.ctx.services.alerts.acknowledge(alert.id, self.ctx.session.actor))

    def _acknowledge_all(self) -> None:
        run(self.ctx.notifier, self.ctx.services.alerts.acknowledge_all(self.ctx.session.actor), success="All alerts acknowledged")
