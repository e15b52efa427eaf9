"""Small helpers every view uses: touch-sized buttons, kinetic scrolling,
and a way to run a service call from a tap and show what went wrong."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QScroller,
    QScrollerProperties,
    QWidget,
)

from stocky.core.errors import StockyError

log = logging.getLogger("stocky.touch")

TOUCH_MIN = 48


def button_text(text: str) -> str:
    """``text`` as a button draws it, "&" and all."""
    return text.replace("&", "&&")


def button(text: str, on_click: Callable[[], Any] | None = None, *, name: str | None = None,
           checkable: bool = False, parent: QWidget | None = None) -> QPushButton:
    # A button's "&" marks a keyboard shortcut (a finger has none): doubled,
    # a name such as "Salt & pepper" shows whole.
    widget = QPushButton(button_text(text), parent)
    # Only a minimum height: a minimum width would let a layout squeeze the
    # button below its text ("Admir"); the style sheet keeps it finger-wide.
    widget.setMinimumHeight(TOUCH_MIN)
    widget.setCheckable(checkable)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a tap must not steal the text field's focus
    if name:
        widget.setObjectName(name)
    if on_click is not None:
        widget.clicked.connect(lambda _checked=False: on_click())
    return widget


def row(*widgets: QWidget, stretch_at: int | None = None, spacing: int = 12) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.setSpacing(spacing)
    for index, widget in enumerate(widgets):
        if stretch_at == index:
            layout.addStretch(1)
        layout.addWidget(widget)
    if stretch_at is not None and stretch_at >= len(widgets):
        layout.addStretch(1)
    return layout


def kinetic(view: QAbstractScrollArea) -> None:
    """Drag to scroll with a flick, as on a phone (touch arrives as mouse events)."""
    if isinstance(view, QAbstractItemView):
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    viewport = view.viewport()
    QScroller.grabGesture(viewport, QScroller.ScrollerGestureType.LeftMouseButtonGesture)
    # Hand a tap to the +/- button under the finger at once instead of
    # holding it back while the scroller decides whether a drag begins.
    scroller = QScroller.scroller(viewport)
    properties = scroller.scrollerProperties()
    properties.setScrollMetric(QScrollerProperties.ScrollMetric.MousePressEventDelay, 0)
    scroller.setScrollerProperties(properties)


class VerticalScroll(QScrollArea):
    """Scrolls up and down only: as narrow as its content allows, and as
    short as anything, so a tall page never makes the window taller."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        body = self.widget()
        width = body.minimumSizeHint().width() if body is not None else 0
        return QSize(width + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth(), 60)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the content's width changed: so may ours
        return super().eventFilter(watched, event)


def scrolling(body: QWidget | None = None) -> tuple[QScrollArea, QWidget]:
    """A finger-scrolled area around ``body`` (a new page when None): its
    content can be taller than the screen without growing the window."""
    area = VerticalScroll()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    if body is None:
        body = QWidget()
        body.setObjectName("page")
    area.setWidget(body)
    kinetic(area)
    return area, body


def label(text: str = "", *, name: str | None = None, wrap: bool = False) -> QLabel:
    """Every label of the kiosk. Plain text always: names, alert messages and
    log lines come from people and scanners, and a QLabel left to guess
    (Qt's AutoText) would draw ``<span style="font-size:96pt">`` as markup
    (DESIGN section 15)."""
    widget = QLabel(text)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    widget.setWordWrap(wrap)
    if name:
        widget.setObjectName(name)
    return widget


def title(text: str, wrap: bool = False) -> QLabel:
    return label(text, name="title", wrap=wrap)


def hint(text: str) -> QLabel:
    return label(text, name="hint", wrap=True)


def password_field(placeholder: str) -> QLineEdit:
    """A field whose text shows as dots: a password is typed at a screen
    others in the kitchen can see."""
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


class Notifier(QObject):
    """Where views report outcomes; the main window shows them as a banner."""

    message = Signal(str, bool)  # text, is_error
    undoable = Signal(str, object)  # text, the journalled change (uuid) the banner's Undo reverses
    # An add by a tap: its text, its change (uuid) for Undo, and its SKU
    # (uuid), whose new unit the banner's quick dates then date.
    added = Signal(str, object, object)

    def ok(self, text: str) -> None:
        self.message.emit(text, False)

    def done(self, text: str, change_id: object) -> None:
        """A stock change made by a tap: said, with an Undo."""
        self.undoable.emit(text, change_id)

    def did_add(self, text: str, change_id: object, sku_id: object) -> None:
        """An undated unit added by a tap: said, with an Undo and the quick dates."""
        self.added.emit(text, change_id, sku_id)

    def error(self, text: str) -> None:
        self.message.emit(text, True)


_running: set[asyncio.Task[Any]] = set()


def run(notifier: Notifier, work: Awaitable[Any], done: Callable[[Any], None] | None = None,
        success: str | None = None) -> asyncio.Task[Any]:
    """Run a service call from a tap. A domain error becomes a banner; anything
    else is logged and shown too, never swallowed."""

    async def runner() -> Any:
        try:
            result = await work
        except StockyError as error:
            notifier.error(error.message)
            return None
        except Exception as error:  # shown, logged, and the screen keeps working
            log.exception("The touch screen hit an error")
            notifier.error(f"Something went wrong: {error}")
            return None
        if success:
            notifier.ok(success)
        if done is not None:
            done(result)
        return result

    task = asyncio.ensure_future(runner())
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def cancel_running() -> None:
    """At shutdown: stop every call still under way before the widgets it
    would update are deleted."""
    loop = asyncio.get_running_loop()
    while tasks := [task for task in _running if task.get_loop() is loop]:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Debounce(QObject):
    """Collapse bursts of change events into one refresh."""

    def __init__(self, action: Callable[[], Any], msec: int = 120, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(msec)
        self._timer.timeout.connect(action)

    def __call__(self, *_args: Any) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.stop()

    def flush(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self._timer.timeout.emit()


class Throttle(QObject):
    """Run ``action`` at once on a change, then at most once per ``msec``:
    calls within that time collapse into one run at its end. Unlike
    Debounce, a steady stream of calls (scans faster than ``msec`` apart)
    still runs it regularly, and the first change shows without delay.

    While its parent widget is hidden (a tab not on screen), a change only
    marks it stale, and it runs once when the widget is shown again: twenty
    scanners at work do not make every hidden tab query the database."""

    def __init__(self, action: Callable[[], Any], msec: int = 200, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._action = action
        self._pending = False
        self._stale = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(msec)
        self._timer.timeout.connect(self._interval_over)
        self._widget = parent if isinstance(parent, QWidget) else None
        if self._widget is not None:
            self._widget.installEventFilter(self)

    def __call__(self, *_args: Any) -> None:
        if self._widget is not None and not self._widget.isVisible():
            self._stale = True
            return
        if self._timer.isActive():
            self._pending = True
            return
        self._timer.start()
        self._action()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if self._stale and event.type() == QEvent.Type.Show:
            self._stale = False
            self()
        return False

    def _interval_over(self) -> None:
        if self._pending:
            self._pending = False
            self._timer.start()
            self._action()
