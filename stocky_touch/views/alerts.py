"""The alert list behind the top bar's alert button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from stocky.schemas.alert import AlertOut
from stocky_touch.views.base import Context
from stocky_touch.widgets.common import Throttle, button, kinetic, row, run, title

ICONS = {"Warning": "⚠", "Error": "⛔", "Info": "ℹ"}


class AlertRow(QWidget):
    def __init__(self, page: AlertsPage, alert: AlertOut) -> None:
        super().__init__()
        text = QLabel(f"{ICONS.get(alert.severity, '')}  {alert.message}\n"
                      f"{alert.timestamp.astimezone():%a %d %b, %H:%M}")
        text.setWordWrap(True)
        self.acknowledge = button("Acknowledge", lambda: page.acknowledge(alert))
        self.setLayout(row(text, self.acknowledge))
        self.layout().setStretch(0, 1)


class AlertsPage(QWidget):
    back = Signal()

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.heading = title("Alerts")
        self.acknowledge_all = button("Acknowledge all", self._acknowledge_all, name="primary")
        layout.addLayout(row(button("‹ Back", self.back.emit), self.heading, self.acknowledge_all, stretch_at=2))
        self.list = QListWidget()
        kinetic(self.list)
        layout.addWidget(self.list, 1)
        self._reload = Throttle(self.reload, 200, self)
        ctx.live.changed.connect(lambda entity, *_: entity == "alert" and self._reload())

    def reload(self) -> None:
        def show(page) -> None:
            self.list.clear()
            self.heading.setText(f"Alerts ({page.total} open)" if page.total else "No open alerts")
            self.acknowledge_all.setEnabled(page.total > 0)
            for alert in page.data:
                entry = QListWidgetItem()
                widget = AlertRow(self, alert)
                entry.setSizeHint(widget.sizeHint())
                self.list.addItem(entry)
                self.list.setItemWidget(entry, widget)

        run(self.ctx.notifier, self.ctx.services.alerts.list(self.ctx.session.actor, acknowledged=False, limit=200), show)

    def acknowledge(self, alert: AlertOut) -> None:
        run(self.ctx.notifier, self.ctx.services.alerts.acknowledge(alert.id, self.ctx.session.actor))

    def _acknowledge_all(self) -> None:
        run(self.ctx.notifier, self.ctx.services.alerts.acknowledge_all(self.ctx.session.actor), success="All alerts acknowledged")
