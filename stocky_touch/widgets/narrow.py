"""A narrow window: the 7-inch display turned to portrait (480x800) or a
600x1024 screen. Below ``NARROW`` px of window width what stands side by
side goes one under the other, so nothing is cut and no page scrolls
sideways; at 800 px and wider every screen keeps its landscape layout."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QBoxLayout, QFormLayout, QGridLayout, QWidget

# Above the widest landscape layout's minimum (the six tabs side by side,
# about 665 px), below the 800 px of the smallest landscape screen.
NARROW = 700
# The narrowest window the kiosk lays out for: the portrait 7-inch display.
NARROWEST = 480


def is_narrow(widget: QWidget) -> bool:
    return widget.window().width() < NARROW


class _WidthWatch(QObject):
    """Tells each ``apply`` when its widget's window crosses ``NARROW``."""

    def __init__(self, widget: QWidget, apply: tuple[Callable[[bool], None], ...]) -> None:
        super().__init__(widget)
        self._apply = apply
        self._narrow: bool | None = None
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        # A page hidden in a stack is resized when it is shown again: it
        # catches up then, before it is painted.
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show) and isinstance(watched, QWidget):
            narrow = is_narrow(watched)
            if narrow != self._narrow:
                self._narrow = narrow
                for apply in self._apply:
                    apply(narrow)
        return False


def on_narrow(widget: QWidget, *apply: Callable[[bool], None]) -> None:
    """Call each ``apply(narrow)`` when ``widget`` is first laid out and
    again whenever its window crosses ``NARROW``."""
    _WidthWatch(widget, apply)


def stack(*layouts: QBoxLayout) -> Callable[[bool], None]:
    """Side by side when wide, one under the other when narrow."""

    def apply(narrow: bool) -> None:
        for layout in layouts:
            layout.setDirection(QBoxLayout.Direction.TopToBottom if narrow else QBoxLayout.Direction.LeftToRight)

    return apply


def under_when_narrow(grid: QGridLayout, second: QWidget, rows: tuple[int, int] = (1, 1)) -> Callable[[bool], None]:
    """``second`` in the grid's second column when wide; when narrow in its
    second row, under the first column, the two rows sharing the height as
    ``rows`` says. Call it once the grid has its column stretches."""
    columns = (grid.columnStretch(0), grid.columnStretch(1))

    def apply(narrow: bool) -> None:
        grid.addWidget(second, 1 if narrow else 0, 0 if narrow else 1)
        for index in (0, 1):
            grid.setColumnStretch(index, (1, 0)[index] if narrow else columns[index])
            grid.setRowStretch(index, rows[index] if narrow else 0)

    return apply


def labels_above(*forms: QFormLayout) -> Callable[[bool], None]:
    """A form's labels beside its fields when wide, above them when narrow."""
    wide = [form.rowWrapPolicy() for form in forms]  # the style's own

    def apply(narrow: bool) -> None:
        for form, policy in zip(forms, wide, strict=True):
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows if narrow else policy)

    return apply
