"""Each tab and the item page, driven through their widgets like a person would."""

from __future__ import annotations

import asyncio
import logging
import socket

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPushButton
from support.polling import eventually

from stocky.schemas.actor import SYSTEM
from stocky_touch.models.inventory import NAME, NONE_AT_HOME, ItemRole
from stocky_touch.models.log import MESSAGE
from stocky_touch.views.inventory import SkuControls
from stocky_touch.views.scanners import ScannerRow
from stocky_touch.widgets.qr import QrCode
from stocky_touch.widgets.sheet import Sheet
from tests.touch.conftest import as_admin


def tap(widget, pos: QPoint | None = None) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     pos if pos is not None else widget.rect().center())


def row_named(model, name: str) -> int | None:
    for row in range(model.rowCount()):
        if model.index(row, NAME).data(ItemRole).name == name:
            return row
    return None


def tap_row(tree, index) -> None:
    tree.scrollTo(index)
    tap(tree.viewport(), tree.visualRect(index).center())


def sheet_button(window, label: str):
    """The button ``label`` on the sheet now open over the window."""
    sheets = [sheet for sheet in window.findChildren(Sheet) if sheet.isVisible()]
    assert sheets, "no question was asked"
    return sheets[-1].buttons[label]


def test_inventory_plus_and_minus_change_the_count(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    view = window.inventory

    async def scenario():
        await eventually(lambda: row_named(view.model, "Chickpeas 400 g") is not None, what="inventory loaded")
        row = row_named(view.model, "Chickpeas 400 g")
        tap_row(view.tree, view.model.index(row, NAME))
        parent = view.model.index(row, NAME)
        await eventually(lambda: view.model.rowCount(parent) == 2, what="locations shown")
        controls = view.tree.indexWidget(view.model.index(0, 1, parent))
        assert isinstance(controls, SkuControls)
        assert controls.quantity.text() == "4"
        tap(controls.plus)
        item = view.model.index(row, NAME).data(ItemRole)
        await eventually(lambda: view.model.index(row_named(view.model, "Chickpeas 400 g"), 1).data() == "5",
                    what="row shows 5")
        assert (await services.items.get(item.id, SYSTEM)).total_quantity == 5
        row = row_named(view.model, "Chickpeas 400 g")
        parent = view.model.index(row, NAME)
        await eventually(lambda: view.model.rowCount(parent) == 2, what="still expanded")
        controls = view.tree.indexWidget(view.model.index(0, 1, parent))
        tap(controls.minus)
        tap(controls.minus)
        await eventually(lambda: view.model.index(row_named(view.model, "Chickpeas 400 g"), 1).data() == "3",
                    what="row shows 3")
        history = await services.items.history(item.id, SYSTEM)
        assert [change.delta for change in history[:3]] == [-1, -1, 1]
        assert all(change.source == "ui" for change in history[:3])

    loop.run_until_complete(scenario())


def needed(item) -> bool:
    return item.total_quantity == 0 or item.total_quantity < item.min_quantity


def test_search_and_the_shopping_list(kiosk_factory, loop):
    kiosk = kiosk_factory()
    view = kiosk.window.inventory

    async def scenario():
        await eventually(lambda: view.model.rowCount() > 20, what="inventory loaded")
        QTest.keyClicks(view.search, "MILK")
        await eventually(lambda: view.model.rowCount() == 1, what="one match")
        assert view.model.index(0, NAME).data(ItemRole).name == "Whole milk 2 l"
        assert view.summary.text() == "1 item found"
        # Another filter is a fresh look: the whole shopping list, not its milk.
        tap(view.filters.button(1))  # "Shopping list"
        await eventually(lambda: view.stock == "shopping" and view.model.rowCount() == view.model.total
                    and view.model.total > 1 and all(
                        needed(view.model.index(r, NAME).data(ItemRole)) for r in range(view.model.rowCount())),
                    what="only what is at zero or below its minimum")
        assert view.search.text() == "" and "to buy" in view.summary.text()

    loop.run_until_complete(scenario())


def test_tapping_minus_to_zero_keeps_the_row_until_the_view_changes(kiosk_factory, loop):
    kiosk = kiosk_factory()
    view = kiosk.window.inventory

    async def scenario():
        await eventually(lambda: row_named(view.model, "Hummus 200 g") is not None, what="inventory loaded")
        row = row_named(view.model, "Hummus 200 g")
        tap_row(view.tree, view.model.index(row, NAME))
        parent = view.model.index(row, NAME)
        await eventually(lambda: isinstance(view.tree.indexWidget(view.model.index(0, 1, parent)), SkuControls),
                    what="its place shown")
        tap(view.tree.indexWidget(view.model.index(0, 1, parent)).minus)
        await eventually(lambda: view.model.index(row_named(view.model, "Hummus 200 g"), 1).data() == NONE_AT_HOME,
                    what="the row shows none at home")
        await asyncio.sleep(0.5)  # a reload would have taken it away by now
        assert row_named(view.model, "Hummus 200 g") is not None, "the row vanished under the finger"
        banner = kiosk.window.banner
        assert banner.text() == "Took Hummus 200 g out of Fridge (now 0)" and banner.action.text() == "Undo"
        tap(banner.action)
        await eventually(lambda: view.model.index(row_named(view.model, "Hummus 200 g"), 1).data() == "1",
                    what="the tap undone")
        await eventually(lambda: banner.text() == "Undone: Fridge is back to 1", what="the banner says so")
        tap(view.tree.indexWidget(view.model.index(0, 1, view.model.index(row_named(view.model, "Hummus 200 g"),
                                                                          NAME))).minus)
        await eventually(lambda: view.model.index(row_named(view.model, "Hummus 200 g"), 1).data() == NONE_AT_HOME,
                    what="the row shows none at home again")
        view.set_filter("in")
        await eventually(lambda: row_named(view.model, "Hummus 200 g") is None, what="gone once the view changes")

    loop.run_until_complete(scenario())


def test_item_runs_out_and_lands_on_the_shopping_list_first(kiosk_factory, loop):
    kiosk = kiosk_factory()
    view, services = kiosk.window.inventory, kiosk.runtime.services

    async def scenario():
        page = await services.items.list(SYSTEM, search="Hummus")
        hummus = await services.items.get(page.data[0].id, SYSTEM)
        await services.skus.adjust(hummus.skus[0].id, {"delta": -1}, SYSTEM)
        view.set_filter("zero")
        await eventually(lambda: view.model.rowCount() > 0
                    and view.model.index(0, NAME).data(ItemRole).name == "Hummus 200 g",
                    what="hummus first on the shopping list")

    loop.run_until_complete(scenario())


def test_create_a_location(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    view = window.locations
    window.show_view("locations")

    async def scenario():
        await eventually(lambda: view.list.count() == 4, what="demo locations")
        tap(view.save_button)  # nothing typed yet
        await eventually(lambda: window.banner.is_error(), what="an error for an empty name")
        view.new()
        QTest.keyClicks(view.name, "Cellar")
        tap(view.storage.group.button(1))  # Ambient
        tap(view.save_button)
        await eventually(lambda: any("Cellar" in view.list.item(i).text() for i in range(view.list.count())),
                    what="Cellar listed")
        names = {loc.name: loc.storage_type for loc in (await services.locations.list(SYSTEM)).data}
        assert names["Cellar"] == "Ambient"

    loop.run_until_complete(scenario())


def test_deleting_a_full_location_says_why_and_move_everything_empties_it(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    view = window.locations
    window.show_view("locations")

    async def scenario():
        await eventually(lambda: view.list.count() == 4, what="demo locations")
        spice = next(i for i in range(view.list.count()) if view.list.item(i).text().startswith("Spice rack"))
        view.list.setCurrentRow(spice)
        tap(view.delete_button)
        tap(sheet_button(window, "Delete"))
        await eventually(lambda: "not empty" in window.banner.text(), what="refusal with the reason")
        pantry_button = next(b for b in view.findChildren(type(view.save_button)) if b.text() == "Pantry")
        tap(pantry_button)
        await eventually(lambda: any(sheet.isVisible() for sheet in window.findChildren(Sheet)), what="the question")
        question = "Move 5 things (5 items) from Spice rack to Pantry?"  # the demo's five spices, one each
        assert question in [label.text() for label in window.findChildren(QLabel) if label.isVisible()]
        assert "Moved" not in window.banner.text(), "a bulk move must ask first"
        tap(sheet_button(window, "Move to Pantry"))
        await eventually(lambda: window.banner.text() == "Moved 5 things (5 items) from Spice rack to Pantry",
                         what="moved")
        assert window.banner.action.text() == "Undo"
        tap(view.delete_button)
        tap(sheet_button(window, "Delete"))
        await eventually(lambda: not any(loc.name == "Spice rack" for loc in view.locations), what="deleted")
        assert "Spice rack" not in {loc.name for loc in (await services.locations.list(SYSTEM)).data}

    loop.run_until_complete(scenario())


def test_acknowledge_an_alert(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services

    def shown(count: int) -> str:
        return f"⚠ {count} alert{'s' if count != 1 else ''}" if count else "No alerts"

    async def scenario():
        # The demo's dated food raises its alerts at start (once: announcing again adds none).
        await services.lots.announce_expiry(kiosk.runtime.settings.expiry_warn_days)
        before = await services.alerts.unacknowledged_count(SYSTEM)
        await services.alerts.create({"severity": "Warning", "message": "The freezer door is open"}, SYSTEM)
        await eventually(lambda: window.alerts_button.text() == shown(before + 1), what="alert count in the top bar")
        tap(window.alerts_button)
        page = window.alerts_page
        await eventually(lambda: page.list.count() == before + 1, what="alert listed")
        rows = [page.list.itemWidget(page.list.item(n)) for n in range(page.list.count())]
        (row,) = [r for r in rows if "The freezer door is open" in r.findChild(QLabel).text()]
        tap(row.acknowledge)
        await eventually(lambda: window.alerts_button.text() == shown(before), what="count down by one")
        assert await services.alerts.unacknowledged_count(SYSTEM) == before

    loop.run_until_complete(scenario())


def test_change_a_scanners_mode(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    as_admin(kiosk, loop)
    window.show_view("scanners")

    async def scenario():
        await eventually(lambda: window.scanners.findChildren(ScannerRow), what="scanner rows")
        row = window.scanners.findChildren(ScannerRow)[0]
        tap(row.mode.group.button(1))  # Remove
        modes: list[str] = []

        async def mode_is_remove() -> bool:
            modes[:] = [state.current_mode for state in await services.scans.states(SYSTEM)]
            return modes == ["remove"]

        for _ in range(100):
            if await mode_is_remove():
                break
            await asyncio.sleep(0.05)
        assert modes == ["remove"]

    loop.run_until_complete(scenario())


def test_add_a_user(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    as_admin(kiosk, loop)
    window.show_view("users")
    view = window.users

    async def scenario():
        await eventually(lambda: view.list.count() == 3, what="demo users and the kitchen account")
        tap(view.new_button)
        QTest.keyClicks(view.username, "Sam")
        tap(view.role.group.button(1))  # Member
        QTest.keyClicks(view.password, "sam-kitchen-1")
        tap(view.save_button)
        await eventually(lambda: view.list.count() == 4, timeout=8, what="Sam listed")
        sam = await services.users.by_username("Sam", SYSTEM)
        assert sam is not None and sam.role == "Member"
        assert (await services.users.sign_in("Sam", "sam-kitchen-1", "tests")).user.id == sam.id

    loop.run_until_complete(scenario())


def test_item_page_edits_the_item(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services

    async def scenario():
        item = (await services.items.list(SYSTEM, search="Rolled oats")).data[0]
        window.open_item(item.id)
        page = window.item_page
        await eventually(lambda: page.item is not None and page.name.text() == "Rolled oats 1 kg", what="loaded")
        assert page.history.count() >= 1
        assert page.qr.text == str(item.id)
        page.name.clear()
        QTest.keyClicks(page.name, "Porridge oats 1 kg")
        tap(page.save_button)
        await eventually(lambda: window.banner.text() == "Saved", what="saved")
        assert (await services.items.get(item.id, SYSTEM)).name == "Porridge oats 1 kg"
        assert not page.delete_button.isEnabled()  # still in stock

    loop.run_until_complete(scenario())


def test_the_screen_rests_as_the_kitchen_member_and_admins_sign_in(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window = kiosk.window
    session = window.ctx.session

    async def scenario():
        assert session.user.username == "kitchen" and session.user.role == "Member"
        # A Member sets scanners' modes and places; users are the Admin's.
        assert set(window.visible_views()) == {"inventory", "use_soon", "locations", "scanners", "log"}
        tap(window.user_button)
        page = window.signin_page
        await eventually(lambda: any(b.text() == "admin" for b in page.findChildren(type(page.go))), what="people")
        assert not any(b.text() == "kitchen" for b in page.findChildren(type(page.go))), "nobody signs in as it"
        tap(next(b for b in page.findChildren(type(page.go)) if b.text() == "admin"))
        QTest.keyClicks(page.password, "stocky-demo")
        tap(page.go)
        await eventually(lambda: session.user.username == "admin", what="signed in as the Admin")
        assert set(window.visible_views()) == {"inventory", "use_soon", "locations", "scanners", "log", "users"}
        assert window.user_button.text() == "admin"
        session._idle.setInterval(50)
        session._idle.start()
        await eventually(lambda: session.user.username == "kitchen", what="back to the kitchen account")
        assert "users" not in window.visible_views()

    loop.run_until_complete(scenario())


def test_first_start_asks_for_an_administrator(kiosk_factory, loop):
    kiosk = kiosk_factory(demo=False)
    window, services = kiosk.window, kiosk.runtime.services
    page = window.signin_page
    assert window.stack.currentWidget() is page
    assert page.go.text() == "Create administrator"

    async def scenario():
        QTest.keyClicks(page.username, "anna")
        QTest.keyClicks(page.password, "kitchen-boss-1")
        QTest.keyClicks(page.repeat, "kitchen-boss-2")
        tap(page.go)
        await eventually(lambda: "differ" in window.banner.text(), what="mismatch refused")
        assert await services.users.count() == 1  # only the kitchen account
        page.repeat.clear()
        QTest.keyClicks(page.repeat, "kitchen-boss-1")
        tap(page.go)
        await eventually(lambda: window.ctx.session.user.username == "anna", timeout=8, what="signed in as the new admin")
        assert window.ctx.session.user.username == "anna" and window.ctx.session.is_admin
        assert window.stack.currentWidget() is window.tabs
        assert window.ctx.session.kiosk_user.username == "kitchen", "the screen still rests as the kitchen"
        assert (await services.users.sign_in("anna", "kitchen-boss-1", "tests")).user.username == "anna"

    loop.run_until_complete(scenario())


def test_a_log_line_opens_in_full(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window = kiosk.window
    window.resize(800, 480)
    window.show_view("log")
    view = window.log_view
    long_line = "Scanner in the garage: " + "the barcode was smudged and read three ways, " * 4 + "end."
    logging.getLogger("stocky.scan").warning(long_line)

    async def scenario():
        await eventually(lambda: view.model.rowCount() > 0 and view.model.index(0, MESSAGE).data() == long_line,
                    what="the line listed")
        view.table.scrollToTop()
        tap(view.table.viewport(), view.table.visualRect(view.model.index(0, MESSAGE)).center())
        await eventually(lambda: any(s.isVisible() for s in window.findChildren(Sheet)), what="the entry opened")
        sheet = next(s for s in window.findChildren(Sheet) if s.isVisible())
        shown = [label for label in sheet.findChildren(QLabel) if label.text() == long_line]
        assert shown and shown[0].wordWrap(), "the whole line, wrapped to the screen"
        assert sheet.heading.text().startswith("WARN")

    loop.run_until_complete(scenario())


def test_a_new_password_that_is_refused_says_why(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    as_admin(kiosk, loop)
    window.show_sign_in()
    account = window.signin_page.account

    async def answer(current: str, new: str, again: str) -> str:
        window.banner.hide()
        for field, text in ((account.current, current), (account.new, new), (account.again, again)):
            field.clear()
            QTest.keyClicks(field, text)
        tap(account.save)
        return await eventually(window.banner.text, timeout=8, what="the answer")

    async def scenario():
        await eventually(account.isVisible, what="the Admin's own account")
        tap(next(b for b in account.findChildren(QPushButton) if b.text() == "Change my password"))
        assert account.current.hasFocus() and window.keyboard.isVisible()
        assert await answer("stocky-demo", "basil-and-thyme-7", "basil-and-thyme-8") == "The two new passwords differ."
        assert await answer("stocky-dem0", "basil-and-thyme-7", "basil-and-thyme-7") == \
            "The current password is not right."
        assert "most common" in await answer("stocky-demo", "password123", "password123")
        assert window.banner.is_error()
        await services.users.sign_in("admin", "stocky-demo", "tests")  # still the old one
        window.ctx.session.return_to_kiosk_user()
        await eventually(account.isHidden, what="the form gone with the Admin")
        assert account.current.text() == "", "a half-typed password left for the next person"

    loop.run_until_complete(scenario())


def test_connect_a_phone_without_https_says_so_and_shows_the_plain_address(kiosk_factory, loop):
    kiosk = kiosk_factory()  # the tests' Stocky serves no HTTPS unless asked
    window = kiosk.window
    window.show_view("scanners")
    tap(window.scanners.connect_button)
    sheet = next(sheet for sheet in window.findChildren(Sheet) if sheet.isVisible())
    address = f"http://{socket.gethostname()}.local:{kiosk.runtime.bound_port}/"
    assert sheet.findChild(QrCode).text == address
    said = [label.text() for label in sheet.findChildren(QLabel)]
    assert address in said
    assert any("(HTTPS) is turned off" in text for text in said), said
