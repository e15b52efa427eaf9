"""Where the controls are on the screen, for tests that tap them from outside.

Tests drive the kiosk in a real X server with real pointer events
(xdotool), as a finger would; they need to know where to tap. When
``STOCKY_TOUCH_PROBE`` names a socket path, the kiosk answers on that Unix
socket, one JSON line per request line, with the visible controls: their
kind, text, the names of the widgets they lie in and their place on the
screen. It only reads; it is off unless that variable is set.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QTabBar,
    QTreeView,
    QWidget,
)

ENV = "STOCKY_TOUCH_PROBE"


def drawn(text: str) -> str:
    """A button's text as it is drawn: "&&" shows one "&", a lone "&" marks
    a shortcut and shows nothing."""
    return "&".join(part.replace("&", "") for part in text.split("&&"))


def _entry(widget: QWidget, kind: str, text: str, top_left: QPoint, width: int, height: int,
           shown: QRect | None = None) -> dict[str, Any]:
    """``shown``: the part not clipped away by a scroll area or covered, in
    global coordinates (a control can lie partly under the edge of its page)."""
    if shown is None:
        visible = widget.visibleRegion().boundingRect()
        shown = QRect(widget.mapToGlobal(visible.topLeft()), visible.size())
    names = []
    parent: QWidget | None = widget
    while parent is not None:
        if parent.objectName() and not parent.objectName().startswith("qt_"):
            names.append(parent.objectName())
        parent = parent.parentWidget()
    return {"kind": kind, "text": text, "name": widget.accessibleName(), "in": names, "x": top_left.x(), "y": top_left.y(), "w": width, "h": height,
            "shown": [shown.x(), shown.y(), shown.width(), shown.height()], "enabled": widget.isEnabled()}


def _cells(index: QModelIndex) -> list[str]:
    """The whole row as it reads, column by column (an item's count beside its name)."""
    cells: list[str] = []
    while (cell := index.siblingAtColumn(len(cells))).isValid():
        cells.append(str(cell.data() or ""))
    return cells


def _rows(view: QAbstractItemView) -> list[dict[str, Any]]:
    model, found = view.model(), []
    viewport = view.viewport()

    def walk(parent: QModelIndex) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            rect = view.visualRect(index)
            if rect.isValid() and viewport.rect().intersects(rect):
                part = rect.intersected(viewport.rect())
                entry = _entry(view, "row", str(index.data() or ""), viewport.mapToGlobal(rect.topLeft()),
                               rect.width(), rect.height(), QRect(viewport.mapToGlobal(part.topLeft()), part.size()))
                entry.update(columns=_cells(index))
                found.append(entry)
            if isinstance(view, QTreeView) and view.isExpanded(index):
                walk(index)

    if model is not None:
        walk(QModelIndex())
    return found


def controls() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for window in QApplication.topLevelWidgets():
        if not window.isVisible():
            continue
        found.append(_entry(window, "window", window.windowTitle(), window.mapToGlobal(QPoint(0, 0)),
                            window.width(), window.height()))
        for widget in window.findChildren(QWidget):
            if not widget.isVisible():
                continue
            top_left = widget.mapToGlobal(QPoint(0, 0))
            if isinstance(widget, QAbstractButton):
                # A narrow window shows its tabs as a grid of buttons: still tabs to a finger.
                kind = "tab" if widget.parentWidget().objectName() == "tabgrid" else "button"
                found.append(_entry(widget, kind, drawn(widget.text()), top_left, widget.width(), widget.height()))
            elif isinstance(widget, QLineEdit):
                entry = _entry(widget, "field", widget.text(), top_left, widget.width(), widget.height())
                entry.update(placeholder=widget.placeholderText(), focused=widget.hasFocus())
                found.append(entry)
            elif isinstance(widget, QLabel):
                entry = _entry(widget, "label", widget.text(), top_left, widget.width(), widget.height())
                entry.update(plain=widget.textFormat() == Qt.TextFormat.PlainText)  # drawn as the text reads
                found.append(entry)
            elif isinstance(widget, QAbstractItemView):
                found.extend(_rows(widget))
            elif isinstance(widget, QTabBar):
                bar = widget.visibleRegion().boundingRect()
                for index in range(widget.count()):
                    rect = widget.tabRect(index)
                    part = rect.intersected(bar)
                    found.append(_entry(widget, "tab", widget.tabText(index), widget.mapToGlobal(rect.topLeft()),
                                        rect.width(), rect.height(),
                                        QRect(widget.mapToGlobal(part.topLeft()), part.size())))
    return found


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while await reader.readline():
            writer.write(json.dumps(controls()).encode() + b"\n")
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def start_probe() -> asyncio.AbstractServer | None:
    path = os.environ.get(ENV)
    if not path:
        return None
    return await asyncio.start_unix_server(_answer, path=path)
