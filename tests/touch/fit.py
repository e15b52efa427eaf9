"""What a person on a small screen would see cut off: a control's text wider
than the room it has, or a control outside the window (or outside the
scroll area it lies in, where scrolling cannot bring it back)."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QLabel, QTabBar, QWidget


def _rect_in(widget: QWidget, ancestor: QWidget) -> QRect:
    return QRect(widget.mapTo(ancestor, widget.rect().topLeft()), widget.size())


def _scroll_viewport(widget: QWidget) -> QWidget | None:
    """The viewport of the nearest scroll area around ``widget``, if any."""
    parent = widget.parentWidget()
    while parent is not None:
        grand = parent.parentWidget()
        if isinstance(grand, QAbstractScrollArea) and grand.viewport() is parent:
            return parent
        parent = grand
    return None


def _cut_text(widget: QWidget) -> str | None:
    if isinstance(widget, QAbstractButton) and widget.text():
        if widget.width() < widget.sizeHint().width():
            return f"button {widget.text()!r} is {widget.width()} px wide, needs {widget.sizeHint().width()}"
    elif isinstance(widget, QLabel) and widget.text() and not widget.wordWrap() and widget.pixmap().isNull():
        metrics = widget.fontMetrics()
        needed = max(metrics.horizontalAdvance(line) for line in widget.text().splitlines() or [""])
        if widget.contentsRect().width() < needed:
            return f"label {widget.text()!r} has {widget.contentsRect().width()} px, needs {needed}"
    elif isinstance(widget, QTabBar):
        for index in range(widget.count()):
            room = widget.tabRect(index)
            needed = widget.fontMetrics().horizontalAdvance(widget.tabText(index))
            if room.width() < needed or room.right() >= widget.width() + 1:
                return f"tab {widget.tabText(index)!r} has {room.width()} px, needs {needed}"
    return None


def problems(window: QWidget, inside: QWidget | None = None) -> list[str]:
    """Every cut text and every control out of reach in ``window`` as shown
    now; with ``inside``, only those in that part of it."""
    found: list[str] = []
    bounds = window.rect()
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or widget.width() <= 0:
            continue
        if inside is not None and not inside.isAncestorOf(widget):
            continue
        if (reason := _cut_text(widget)) is not None:
            found.append(reason)
        if not isinstance(widget, (QAbstractButton, QLabel, QAbstractScrollArea)) and widget.layout() is None:
            continue
        rect = _rect_in(widget, window)
        viewport = _scroll_viewport(widget)
        if viewport is None:
            if not bounds.contains(rect):
                found.append(f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')()!r} "
                             f"at {rect.getRect()} is outside the {bounds.width()}x{bounds.height()} window")
        else:
            # Scrolling brings it up or down, never sideways.
            room = _rect_in(viewport, window)
            if rect.left() < room.left() - 1 or rect.right() > room.right() + 1:
                found.append(f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')()!r} "
                             f"at {rect.getRect()} is beside its scroll area {room.getRect()}")
    return found
