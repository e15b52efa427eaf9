"""The Log tab: live, filter by severity, search."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from stocky.core.logbuffer import LogEntry
from stocky_touch.models.log import MESSAGE, SEVERITY, SOURCE, EntryRole, LogModel
from stocky_touch.views.base import Context
from stocky_touch.widgets.common import Debounce, button, kinetic, label
from stocky_touch.widgets.narrow import on_narrow, stack
from stocky_touch.widgets.sheet import Sheet

LEVELS = ((None, "All"), ("WARN", "Warnings"), ("ERROR", "Errors"))


class LogView(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = LogModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 0)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search the log…")
        self.search.setClearButtonEnabled(True)
        top.addWidget(self.search, 1)
        self.levels = QButtonGroup(self)
        levels = QHBoxLayout()
        for position, (_level, text) in enumerate(LEVELS):
            choice = button(text, checkable=True)
            choice.setChecked(position == 0)
            self.levels.addButton(choice, position)
            levels.addWidget(choice)
        top.addLayout(levels)
        layout.addLayout(top)
        on_narrow(self, stack(top), self._narrow)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.setSelectionMode(QTableView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(MESSAGE, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(48)
        kinetic(self.table)
        self.table.clicked.connect(self.open_entry)
        layout.addWidget(self.table, 1)
        self._search = Debounce(self.reload, 250, self)
        self.search.textChanged.connect(self._search)
        self.levels.idClicked.connect(self._level_chosen)
        ctx.live.logEntry.connect(self._new_entry)

    def _narrow(self, narrow: bool) -> None:
        """Narrow: the levels under the search, and the message beside the
        time only (its colour tells the level; a tap shows the rest)."""
        for column in (SEVERITY, SOURCE):
            self.table.setColumnHidden(column, narrow)

    def _level_chosen(self, position: int) -> None:
        self.model.severity = LEVELS[position][0]
        self.reload()

    def reload(self) -> None:
        self.model.search = self.search.text().strip()
        entries = self.ctx.services.logs.query(self.model.severity, self.model.search or None, limit=2000)
        self.model.set_entries(entries)

    def open_entry(self, index) -> None:
        """A line cut short in the table, whole, on a sheet."""
        entry: LogEntry = index.data(EntryRole)
        if entry is None:
            return
        text = label(entry.message, wrap=True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        heading = f"{entry.severity} · {entry.source} · {entry.timestamp.astimezone():%a %d %b %H:%M:%S}"
        Sheet(self, heading, text)

    def _new_entry(self, entry: LogEntry) -> None:
        self.model.add(entry)
