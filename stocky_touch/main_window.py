"""The kiosk window: top bar, tabs, item page, banner, scanner status bar,
and the on-screen keyboard."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from PySide6.QtCore import QDateTime, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from stocky.core.errors import Conflict
from stocky.schemas.user import ScannerState
from stocky_touch.views.alerts import AlertsPage
from stocky_touch.views.base import Context
from stocky_touch.views.inventory import InventoryView
from stocky_touch.views.item_page import ItemPage
from stocky_touch.views.locations import LocationsView
from stocky_touch.views.log import LogView
from stocky_touch.views.scanners import ScannersView
from stocky_touch.views.signin import SignInPage
from stocky_touch.views.use_soon import UseSoonView
from stocky_touch.views.users import UsersView
from stocky_touch.widgets.banner import Banner
from stocky_touch.widgets.common import Throttle, button, button_text, hint, label, run
from stocky_touch.widgets.keyboard import OnScreenKeyboard, is_text_field
from stocky_touch.widgets.narrow import NARROWEST, is_narrow, on_narrow, stack
from stocky_touch.widgets.sheet import Sheet

TABS = ("inventory", "use_soon", "locations", "scanners", "log", "users")
ADMIN_TABS = frozenset({"users"})
CHANGER_TABS = frozenset({"scanners"})  # a Member sets a scanner's mode and place (DESIGN section 10)


def ago(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


class MainWindow(QMainWindow):
    closing = Signal()

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("Stocky")
        # The window is as wide as the screen: below NARROW the pages go to
        # one column, so the landscape layout's width must not hold it wider.
        self.setMinimumWidth(NARROWEST)
        self._scanners: list[ScannerState] = []

        # The keyboard sits beside ``root``, not inside it: ``root`` takes the
        # focus on a tap (so a tap beside a field ends typing), and a tap on a
        # key must not pass the focus up to it.
        shell = QWidget()
        shell_layout = QVBoxLayout(shell)
        shell_layout.setContentsMargins(0, 0, 0, 0)
        shell_layout.setSpacing(0)
        self.root = root = QWidget()
        root.setObjectName("page")
        outer = QVBoxLayout(root)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.top_bar = self._top_bar()
        outer.addWidget(self.top_bar)
        # Narrow, the tabs go in rows of three instead: one row of six
        # cannot show their names at 480 px.
        self.tab_grid = QWidget()
        self.tab_grid.setObjectName("tabgrid")
        self.tab_grid.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._tab_grid = QGridLayout(self.tab_grid)
        self._tab_grid.setContentsMargins(0, 0, 0, 0)
        self._tab_grid.setSpacing(2)
        self._tab_buttons = QButtonGroup(self)
        self._tab_buttons.idClicked.connect(lambda index: self.tabs.setCurrentIndex(index))
        self.tab_grid.hide()
        outer.addWidget(self.tab_grid)

        self.stack = QStackedWidget()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)  # the tabs share the full width
        self.tabs.tabBar().setExpanding(True)
        self.tabs.tabBar().setUsesScrollButtons(False)
        self.tabs.tabBar().setElideMode(Qt.TextElideMode.ElideNone)
        self.tabs.tabBar().setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.currentChanged.connect(self._tab_shown)
        self.inventory = InventoryView(ctx)
        self.use_soon = UseSoonView(ctx)
        self.locations = LocationsView(ctx)
        self.scanners = ScannersView(ctx)
        self.log_view = LogView(ctx)
        self.users = UsersView(ctx)
        self.views = {
            "inventory": (self.inventory, "Inventory"),
            "use_soon": (self.use_soon, "Use soon"),
            "locations": (self.locations, "Locations"),
            "scanners": (self.scanners, "Scanners"),
            "log": (self.log_view, "Log"),
            "users": (self.users, "Users"),
        }
        self.item_page = ItemPage(ctx)
        self.alerts_page = AlertsPage(ctx)
        self.signin_page = SignInPage(ctx)
        for page in (self.tabs, self.item_page, self.alerts_page, self.signin_page):
            self.stack.addWidget(page)
        self.stack.currentChanged.connect(lambda _index: self._show_tab_grid())
        outer.addWidget(self.stack, 1)
        self.status_bar = self._status_bar()
        outer.addWidget(self.status_bar)
        on_narrow(root, self._narrow)
        # Over the content: a message never moves what a finger is about to tap.
        self.banner = Banner(root, keep_clear=self.status_bar)

        self.keyboard = OnScreenKeyboard()
        self.keyboard.shown.connect(self._keyboard_shown)
        shell_layout.addWidget(root, 1)
        shell_layout.addWidget(self.keyboard)
        self.setCentralWidget(shell)
        QApplication.instance().focusChanged.connect(self._focus_changed)

        self.inventory.openItem.connect(self.open_item)
        self.inventory.nameItem.connect(lambda item_id: self.open_item(item_id, edit_name=True))
        self.item_page.back.connect(self.show_tabs)
        self.item_page.typeInto.connect(self.keyboard.open_for)
        self.alerts_page.back.connect(self.show_tabs)
        self.signin_page.back.connect(self.show_tabs)
        self.signin_page.typeInto.connect(self.keyboard.open_for)
        ctx.notifier.message.connect(lambda text, error: self.banner.show_message(text, error))
        ctx.notifier.undoable.connect(
            lambda text, change_id: self.banner.show_message(text, action=("Undo", lambda: self.undo(change_id))))
        ctx.notifier.added.connect(
            lambda text, change_id, sku_id: self.banner.show_message(
                text, action=("Undo", lambda: self.undo(change_id)), dates=lambda day: self.date_added(sku_id, day)))
        ctx.live.screenMessage.connect(self._screen_message)
        ctx.live.changed.connect(self._changed)
        ctx.session.userChanged.connect(self._user_changed)
        # Every scan changes its scanner's state: the bars (two queries) follow
        # at once, then at most once a second, so they stay off the next scan's path.
        self._refresh_bars = Throttle(self.refresh_bars, 1000, self)

        self._clock_timer = QTimer(self)
        self._clock_timer.timeout.connect(self._tick)
        self._clock_timer.start(15_000)
        self._tick()

    # -- typing ---------------------------------------------------------------

    def _keyboard_shown(self, shown: bool) -> None:
        # While typing the bars give their room to the field and its form.
        self.top_bar.setVisible(not shown)
        self.status_bar.setVisible(not shown)
        self._show_tab_grid(typing=shown)
        if shown:
            # Each layout passes the news of what was hidden one level up per
            # round of posted events: let them all arrive before the keyboard
            # is added, or the window counts both and grows past the screen.
            for _level in range(10):
                QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest.value)
            # Where a layout still counted them, the window grew for a moment:
            # once the layouts have settled it goes back to its own size.
            size = self.size()
            QTimer.singleShot(50, lambda: self.height() > size.height() and self.resize(size))
            self._keep_field_visible()

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is not None and self.keyboard.isVisible() and is_text_field(new):
            self._keep_field_visible()

    def _keep_field_visible(self) -> None:
        """Scroll the focused field into view once the layout has made room
        for the keyboard."""

        def scroll() -> None:
            field = QApplication.focusWidget()
            if field is None or not is_text_field(field) or field.window() is not self:
                return
            parent = field.parentWidget()
            while parent is not None and not isinstance(parent, QScrollArea):
                parent = parent.parentWidget()
            if parent is not None and parent.widget() is not None:
                # The whole field, not only its cursor (ensureWidgetVisible's
                # aim for a line edit), so its frame shows too.
                centre = field.mapTo(parent.widget(), field.rect().center())
                parent.ensureVisible(centre.x(), centre.y(), field.width() // 2 + 16, field.height() // 2 + 24)

        QTimer.singleShot(0, scroll)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        # Never by a height the window was pushed to while typing: by the
        # window's own, and the screen's at most.
        if not self.keyboard.isVisible():
            self.keyboard.fit(min(self.height(), self.screen().availableGeometry().height()))

    # -- narrow (portrait) -------------------------------------------------------

    def _narrow(self, narrow: bool) -> None:
        self.brand.setVisible(not narrow)
        self._status_stack(narrow)
        self._show_scanners()
        self.tabs.tabBar().setVisible(not narrow)
        # Hidden, it still counts towards the page's width, unless it may scroll.
        self.tabs.tabBar().setUsesScrollButtons(narrow)
        self._show_tab_grid()

    def _show_tab_grid(self, typing: bool | None = None) -> None:
        if typing is None:
            typing = self.keyboard.isVisible()
        self.tab_grid.setVisible(is_narrow(self) and self.stack.currentWidget() is self.tabs and not typing)

    def _fill_tab_grid(self) -> None:
        for old in self._tab_buttons.buttons():
            self._tab_buttons.removeButton(old)
            old.deleteLater()
        for index in range(self.tabs.count()):
            tab = button(self.tabs.tabText(index), checkable=True)
            self._tab_buttons.addButton(tab, index)
            self._tab_grid.addWidget(tab, index // 3, index % 3)
        self._tab_shown(self.tabs.currentIndex())

    def _tab_shown(self, index: int) -> None:
        tab = self._tab_buttons.button(index)
        if tab is not None:
            tab.setChecked(True)

    # -- bars ---------------------------------------------------------------

    @staticmethod
    def _bar(name: str, vertical_margin: int) -> tuple[QWidget, QHBoxLayout]:
        bar = QWidget()
        bar.setObjectName(name)
        bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(12, vertical_margin, 12, vertical_margin)
        return bar, layout

    def _top_bar(self) -> QWidget:
        bar, layout = self._bar("topbar", 8)
        self.user_button = button("", self.show_sign_in)
        self.alerts_button = button("No alerts", self.show_alerts)
        self.alerts_button.setObjectName("alerts")
        self.clock = label(name="clock")
        self.brand = brand = label("Stocky", name="clock")
        layout.addWidget(brand)
        layout.addSpacing(16)
        layout.addWidget(self.user_button)
        layout.addWidget(self.alerts_button)
        layout.addStretch(1)
        layout.addWidget(self.clock)
        return bar

    def _status_bar(self) -> QWidget:
        bar, layout = self._bar("statusbar", 4)
        self._mode_buttons: dict[str, QPushButton] = {}  # linked scanner id -> its add/remove switch
        self._modes = QHBoxLayout()
        self._modes.setSpacing(8)
        layout.addLayout(self._modes)
        self.scanner_status = label("No scanners yet", wrap=True)
        layout.addWidget(self.scanner_status, 1)
        # Narrow: each switch on a line of its own, the others under them.
        self._status_stack = stack(layout, self._modes)
        return bar

    def _tick(self) -> None:
        self.clock.setText(QDateTime.currentDateTime().toString("ddd HH:mm"))
        self._show_scanners()

    def refresh_bars(self) -> None:
        if self.ctx.session.user is None:
            return  # the first start: nobody to read as yet

        async def load():
            actor = self.ctx.session.actor
            count = await self.ctx.services.alerts.unacknowledged_count(actor)
            return count, await self.ctx.services.scans.states(actor)

        def show(result) -> None:
            count, scanners = result
            self.alerts_button.setText(f"⚠ {count} alert{'s' if count != 1 else ''}" if count else "No alerts")
            self.alerts_button.setProperty("active", "true" if count else "false")
            self.alerts_button.style().unpolish(self.alerts_button)
            self.alerts_button.style().polish(self.alerts_button)
            self._scanners = scanners
            self._show_scanners()

        run(self.ctx.notifier, load(), show)

    def _show_scanners(self) -> None:
        """The scanners linked to this screen as switches in their mode's
        colour (a tap flips add and remove); the others as text."""
        # Two switches fit beside each other on a 7-inch screen; more are text.
        linked = [s for s in self._scanners if s.associated_ui_id == self.ctx.live.ui_id][:2]
        for scanner_id in set(self._mode_buttons) - {str(s.id) for s in linked}:
            self._mode_buttons.pop(scanner_id).deleteLater()
        # Each switch's share of the bar (less its margins and the gaps
        # between them): all of it when narrow, one under the other.
        beside = 1 if is_narrow(self) else max(1, len(linked))
        room = (self.width() - 24 - 8 * (beside - 1)) // beside
        for state in linked:
            switch = self._mode_buttons.get(str(state.id))
            if switch is None:
                switch = button("", lambda i=state.id: self._flip_mode(i))
                self._mode_buttons[str(state.id)] = switch
                self._modes.addWidget(switch)
            where = state.current_location_name or "no location"
            switch.setText(button_text(f"{state.username}: {state.current_mode.upper()} · {where}"))
            if switch.sizeHint().width() > room:  # a long name: the place on a second line
                switch.setText(button_text(f"{state.username}: {state.current_mode.upper()}\n{where}"))
            if switch.objectName() != f"mode_{state.current_mode}":
                switch.setObjectName(f"mode_{state.current_mode}")
                switch.style().unpolish(switch)
                switch.style().polish(switch)
        others = [s for s in self._scanners if s not in linked]
        parts = [f"{s.username}: {s.current_mode} · {s.current_location_name or 'no location'}"
                 f" · {ago(s.last_scan_timestamp)}" for s in others]
        self.scanner_status.setText("    |    ".join(parts) if parts or linked else "No scanners yet")

    def _flip_mode(self, scanner_id: uuid.UUID) -> None:
        if not self.ctx.session.can_change:
            self.banner.show_message("This account may not switch a scanner: tap your name to switch user.", True)
            return
        state = next((s for s in self._scanners if s.id == scanner_id), None)
        if state is None:
            return
        mode = "remove" if state.current_mode == "add" else "add"

        def done(_state) -> None:
            message = f"{state.username} now {'takes things out' if mode == 'remove' else 'adds'}."
            self.banner.show_message(message, mode == "remove")
            self.refresh_bars()

        run(self.ctx.notifier, self.ctx.services.scans.set_state(
            scanner_id, {"current_mode": mode}, self.ctx.session.actor), done)

    def _changed(self, entity: str, _id: str, _op: str, _data: dict[str, Any]) -> None:
        if entity in ("alert", "scanner", "location", "user"):
            self._refresh_bars()

    # -- people ---------------------------------------------------------------

    def _user_changed(self, user) -> None:
        self.user_button.setText(user.username if user else "Sign in")
        admin, changer = self.ctx.session.is_admin, self.ctx.session.can_change
        current = self.current_view()
        self.tabs.clear()
        for name in TABS:
            if (name in ADMIN_TABS and not admin) or (name in CHANGER_TABS and not changer):
                continue
            widget, label = self.views[name]
            self.tabs.addTab(widget, label)
        self._fill_tab_grid()
        self.show_view(current if current in self.visible_views() else "inventory")
        self.show_tabs()

    def visible_views(self) -> list[str]:
        return [name for name, (widget, _) in self.views.items() if self.tabs.indexOf(widget) >= 0]

    def current_view(self) -> str:
        widget = self.tabs.currentWidget()
        for name, (candidate, _) in self.views.items():
            if candidate is widget:
                return name
        return "inventory"

    # -- navigation -----------------------------------------------------------

    def show_view(self, view: str) -> bool:
        """Switch tab; "shopping" is the inventory's Shopping list filter."""
        name = "inventory" if view == "shopping" else view
        if name not in self.views or self.tabs.indexOf(self.views[name][0]) < 0:
            return False
        self.show_tabs()
        self.tabs.setCurrentWidget(self.views[name][0])
        if view == "shopping":
            self.inventory.set_filter("shopping")
        return True

    def show_tabs(self) -> None:
        self.stack.setCurrentWidget(self.tabs)

    def open_item(self, item_id: uuid.UUID, edit_name: bool = False) -> None:
        self.item_page.load(item_id, edit_name=edit_name)
        self.stack.setCurrentWidget(self.item_page)

    def show_alerts(self) -> None:
        self.alerts_page.reload()
        self.stack.setCurrentWidget(self.alerts_page)

    def show_sign_in(self) -> None:
        self.signin_page.reload()
        self.stack.setCurrentWidget(self.signin_page)

    def _screen_message(self, message: dict) -> None:
        action = message.get("action")
        if action == "show_view":
            if not self.show_view(str(message.get("view"))):
                self.banner.show_message("That view needs another account: tap your name to switch.", True)
        elif action == "scan_result":
            item = message.get("item") or {}
            if message.get("ok") and message.get("created") and item.get("id"):
                item_id = uuid.UUID(item["id"])
                self.banner.show_message(
                    message.get("message", ""), False,
                    action=("Name it", lambda: self.open_item(item_id, edit_name=True)),
                )
            elif message.get("ok") and message.get("change_id") and message.get("result") != "undone":
                change_id = uuid.UUID(message["change_id"])
                # A warning (milk put in the pantry) turns the banner amber and says why.
                warning = message.get("warning")
                text = f"{message.get('message', '')}. ⚠ {warning}" if warning else message.get("message", "")
                place = (message.get("location") or {}).get("id")
                dates = None
                if message.get("result") == "added" and not message.get("best_before") and item.get("id") and place:
                    dates = partial(self._date_scanned, uuid.UUID(item["id"]), uuid.UUID(place))
                self.banner.show_message(text, bool(warning), action=("Undo", lambda: self.undo(change_id)),
                                         dates=dates)
            elif message.get("needs") == "location" and message.get("scanner_id"):
                self.banner.show_message(message.get("message", ""), True)
                self._ask_where(message)
            else:
                self.banner.show_message(message.get("message", ""), not message.get("ok", False))

    def _ask_where(self, message: dict) -> None:
        """A scan with nowhere to go: one tap on a location sets the
        scanner's location and applies the scan; no locations yet: make one."""
        scanner_id, scan = uuid.UUID(message["scanner_id"]), str(message.get("scan", ""))

        def show(page) -> None:
            body = QWidget()
            body.setObjectName("page")
            grid = QGridLayout(body)
            if not page.data:
                grid.addWidget(hint("There are no locations yet. Make one (the pantry, the fridge…), "
                                    "then scan the product again."), 0, 0)
                Sheet(self, "Where does it go?", body, (("Cancel", None, None),
                                                        ("+ New location", self._new_location, "primary")))
                return
            sheet = Sheet(self, f"{message.get('message', 'Where does it go?')} Or tap its place:", body,
                          (("Cancel", None, None),))
            grid.setRowStretch((len(page.data) + 1) // 2, 1)
            for position, location in enumerate(page.data):
                def chosen(_checked: bool = False, location_id=location.id) -> None:
                    sheet.close_sheet()
                    self._scan_into(scanner_id, location_id, scan)

                place = button(location.name)
                place.setMinimumHeight(72)
                place.clicked.connect(chosen)
                grid.addWidget(place, position // 2, position % 2)

        run(self.ctx.notifier, self.ctx.services.locations.list(self.ctx.session.actor), show)

    def _scan_into(self, scanner_id: uuid.UUID, location_id: uuid.UUID, scan: str) -> None:
        if not self.ctx.session.can_change:
            self.banner.show_message("This account may not change a scanner: tap your name to switch.", True)
            return

        run(self.ctx.notifier, self.ctx.services.scans.scan_into(scanner_id, location_id, scan, self.ctx.session.actor))

    def _new_location(self) -> None:
        self.show_view("locations")
        self.locations.new()
        self.keyboard.open_for(self.locations.name)

    def _date_scanned(self, item_id: uuid.UUID, location_id: uuid.UUID, day: date) -> None:
        """Date the unit a scan just added: the scan names the item and the
        place, the item's places name the SKU."""

        async def sku_id() -> uuid.UUID:
            detail = await self.ctx.services.items.get(item_id, self.ctx.session.actor)
            found = next((sku.id for sku in detail.skus if sku.location_id == location_id), None)
            if found is None:
                raise Conflict("It is no longer in that place to date.")
            return found

        run(self.ctx.notifier, sku_id(), lambda found: self.date_added(found, day))

    def date_added(self, sku_id: uuid.UUID, day: date | None, was: date | None = None) -> None:
        """Give one unit of the SKU a best-before date: an undated one (the
        one just added), or with ``was`` the one dated ``was`` (a wrong tap
        mended; ``day`` None makes it undated again)."""
        if not self.ctx.session.can_change:
            self.banner.show_message("This account may not change stock: tap your name to switch user.", True)
            return
        if was is not None and day == was:
            return  # the date it has already

        def done(sku) -> None:
            where = f"{sku.item_name or 'It'} in {sku.location_name}"
            if day is None:
                self.banner.show_message(f"{where}: no date")
                return
            # A wrong tap is mended from here, one tap away (the choices
            # themselves would cover the screen for a date that is right).
            self.banner.show_message(f"{where}: best before {day:%a} {day.day} {day:%b %Y}",
                                     action=("Change", lambda: self._change_date(sku_id, day, where)))

        change = {"best_before": day.isoformat() if day else None,
                  "from_best_before": was.isoformat() if was else None}
        run(self.ctx.notifier, self.ctx.services.skus.date_units(sku_id, change, self.ctx.session.actor), done)

    def _change_date(self, sku_id: uuid.UUID, day: date, where: str) -> None:
        """The date choices again for the unit just dated, and "No date"."""
        self.banner.show_message(f"{where}: instead of {day:%a} {day.day} {day:%b}, best before…",
                                 action=("No date", lambda: self.date_added(sku_id, None, day)),
                                 dates=lambda other: self.date_added(sku_id, other, day))

    def undo(self, change_id: uuid.UUID) -> None:
        """Undo a stock change as whoever uses the screen; the banner says how it went."""

        def done(change) -> None:
            if change.group_id is not None:  # a move, undone whole: every unit back where it came from
                self.banner.show_message(f"Undone: all of it is back in {change.location_name}")
            else:
                self.banner.show_message(f"Undone: {change.location_name} is back to {change.quantity_after}")

        run(self.ctx.notifier, self.ctx.services.undo.undo(change_id, self.ctx.session.actor), done)

    def start(self) -> None:
        self.root.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.root.setFocus()
        if self.ctx.session.user is None:
            return  # the first start: nothing anyone may read yet
        self.refresh_bars()
        self.inventory.reload()
        for view in (self.use_soon, self.locations, self.scanners, self.log_view, self.users):
            view.reload()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        # The runtime decides when to quit: it stops the API and the inputs first.
        event.ignore()
        self.closing.emit()
