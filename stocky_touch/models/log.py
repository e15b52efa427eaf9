"""The live log as a table: newest first, filtered by severity and text."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from stocky.core.logbuffer import SEVERITIES, LogEntry, Severity

TIME, SEVERITY, SOURCE, MESSAGE = range(4)
HEADERS = ("Time", "Level", "Source", "Message")
EntryRole = Qt.ItemDataRole.UserRole + 1
MAX_ROWS = 2000
COLOURS = {"WARN": QColor("#c8741a"), "ERROR": QColor("#b3261e")}

Index = QModelIndex | QPersistentModelIndex


class LogModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._entries: list[LogEntry] = []
        self.severity: Severity | None = None
        self.search = ""

    def matches(self, entry: LogEntry) -> bool:
        if self.severity and SEVERITIES.index(entry.severity) < SEVERITIES.index(self.severity):
            return False
        needle = self.search.casefold()
        return not needle or needle in entry.message.casefold() or needle in entry.source.casefold()

    def set_entries(self, entries: list[LogEntry]) -> None:
        self.beginResetModel()
        self._entries = entries[:MAX_ROWS]
        self.endResetModel()

    def add(self, entry: LogEntry) -> None:
        if not self.matches(entry):
            return
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._entries.insert(0, entry)
        self.endInsertRows()
        if len(self._entries) > MAX_ROWS:
            self.beginRemoveRows(QModelIndex(), MAX_ROWS, len(self._entries) - 1)
            del self._entries[MAX_ROWS:]
            self.endRemoveRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            column = index.column()
            if column == TIME:
                return entry.timestamp.astimezone().strftime("%H:%M:%S")
            if column == SEVERITY:
                return entry.severity
            if column == SOURCE:
                return entry.source
            return entry.message
        if role == Qt.ItemDataRole.ForegroundRole and entry.severity in COLOURS:
            return COLOURS[entry.severity]
        if role == EntryRole:
            return entry
        return None
