"""The kiosk as one process: scans over HTTP reach the screen; the command
starts, serves /health and stops cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import aiohttp
import pytest
from support.polling import eventually

from stocky.schemas.actor import SYSTEM
from stocky_touch.app import NoDisplay, check_display
from stocky_touch.models.inventory import NAME, InventoryModel, ItemRole
from stocky_touch.models.log import LogModel


async def scan(kiosk, key: str, msg: str) -> dict:
    url = f"http://127.0.0.1:{kiosk.runtime.bound_port}/api/v1/scanner/scan"
    async with aiohttp.ClientSession() as http, \
            http.post(url, json={"msg": msg}, headers={"X-API-Key": key}) as response:
        return {"status": response.status, **(await response.json())}


def test_http_scan_updates_the_row_and_shows_the_banner(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window = kiosk.window
    key = kiosk.runtime.demo_logins.scanner_api_key
    view = window.inventory

    async def scenario():
        link = json.dumps({"command": "associate_ui", "payload": kiosk.live.ui_id})
        assert (await scan(kiosk, key, link))["status"] == 200
        await eventually(lambda: "talks to this screen" in window.banner.text(), what="link banner")
        await eventually(lambda: view.model.rowCount() > 20, what="inventory")
        answer = await scan(kiosk, key, "5000128104470")  # whole milk, 2 in the fridge
        assert answer["status"] == 200, answer
        await eventually(lambda: window.banner.text() == "Added Whole milk 2 l to Fridge (now 3)",
                    what="scan banner")
        assert not window.banner.is_error()

        def milk_row_shows_3() -> bool:
            for row in range(view.model.rowCount()):
                index = view.model.index(row, NAME)
                if index.data(ItemRole).name == "Whole milk 2 l":
                    return view.model.index(row, 1).data() == "3"
            return False

        await eventually(milk_row_shows_3, what="the row shows 3 without a refresh")
        refused = await scan(kiosk, key, json.dumps({"command": "set_mode", "payload": "sideways"}))
        assert refused["status"] == 422
        await eventually(lambda: window.banner.is_error(), what="refusal shown in the warning colour")

    loop.run_until_complete(scenario())


def test_unknown_product_offers_to_name_it(kiosk_factory, loop):
    kiosk = kiosk_factory(uda_api_url="http://127.0.0.1:9/{upc}")
    window = kiosk.window
    key = kiosk.runtime.demo_logins.scanner_api_key

    async def scenario():
        await scan(kiosk, key, json.dumps({"command": "associate_ui", "payload": kiosk.live.ui_id}))
        pantry = next(loc for loc in (await kiosk.runtime.services.locations.list(SYSTEM)).data if loc.name == "Pantry")
        await scan(kiosk, key, json.dumps({"command": "set_location", "payload": str(pantry.id)}))
        answer = await scan(kiosk, key, "4006381333931")
        assert answer["status"] == 200 and answer["created"] is True
        await eventually(lambda: window.banner.action.isVisible() and window.banner.action.text() == "Name it",
                    what="Name it offered")
        window.banner.action.click()
        await eventually(lambda: window.stack.currentWidget() is window.item_page
                    and window.item_page.item is not None, what="item page open")
        await eventually(lambda: window.keyboard.isVisible(), what="keyboard up for the name")
        assert window.item_page.name.hasFocus()

        # Not named now: it stays on the inventory's "needs a name" list.
        window.keyboard.close_keyboard()
        window.banner.hide()
        window.show_tabs()
        bar = window.inventory.unnamed_bar

        def offered():
            return [b for b in bar.findChildren(type(window.banner.action)) if b.text() == "4006381333931"]

        await eventually(lambda: bar.isVisible() and offered(), what="the product on the needs-a-name list")
        offered()[0].click()
        await eventually(lambda: window.item_page.name.hasFocus() and window.keyboard.isVisible(), what="name it")
        await kiosk.runtime.services.items.update(answer["item"]["id"], {"name": "Sparkling water"}, SYSTEM)
        window.show_tabs()
        await eventually(lambda: not bar.isVisible(), what="named: off the list")

    loop.run_until_complete(scenario())


def test_show_view_scan_switches_the_tab(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window = kiosk.window
    key = kiosk.runtime.demo_logins.scanner_api_key

    async def scenario():
        await scan(kiosk, key, json.dumps({"command": "associate_ui", "payload": kiosk.live.ui_id}))
        assert window.current_view() == "inventory"
        answer = await scan(kiosk, key, json.dumps({"command": "show_view", "payload": "log"}))
        assert answer["status"] == 200
        await eventually(lambda: window.current_view() == "log", what="log tab shown")
        await scan(kiosk, key, json.dumps({"command": "show_view", "payload": "shopping"}))
        await eventually(lambda: window.current_view() == "inventory" and window.inventory.stock == "shopping",
                    what="shopping list shown")
        await scan(kiosk, key, json.dumps({"command": "show_view", "payload": "use_soon"}))
        await eventually(lambda: window.current_view() == "use_soon", what="use soon tab shown")

    loop.run_until_complete(scenario())


def test_item_models_pass_the_model_tester(kiosk_factory, loop, qtmodeltester):
    kiosk = kiosk_factory()
    view = kiosk.window.inventory

    async def scenario():
        await eventually(lambda: view.model.rowCount() > 20, what="inventory")
        view.expand(view.model.item_at(0).id)
        await eventually(lambda: view.model.rowCount(view.model.index(0, NAME)) > 0, what="expanded")

    loop.run_until_complete(scenario())
    qtmodeltester.check(view.model, force_py=True)
    empty = InventoryModel()
    qtmodeltester.check(empty, force_py=True)
    log_model = LogModel()
    log_model.set_entries(kiosk.runtime.services.logs.query(limit=50))
    assert log_model.rowCount() > 0
    qtmodeltester.check(log_model, force_py=True)


def test_key_wedge_scan_goes_to_the_scan_service_not_the_text_field(kiosk_factory, loop):
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent

    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    wedge = kiosk.wedge
    search = window.inventory.search

    def press(key, text: str = "") -> bool:
        event = QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier, text)
        return wedge.handle(search, event)

    async def scenario():
        search.setFocus()
        for char in "5000128104470":
            assert press(Qt.Key.Key_0 + int(char), char) is True  # held back, not typed
        assert press(Qt.Key.Key_Return, "\r") is True
        await eventually(lambda: "Whole milk 2 l" in window.banner.text(), what="scan banner")
        assert search.text() == ""
        scanner = await services.users.by_username("Kiosk scanner", SYSTEM)
        assert scanner is not None and scanner.details["associated_ui_id"] == kiosk.live.ui_id
        milk = (await services.items.list(SYSTEM, search="Whole milk")).data[0]
        assert milk.total_quantity == 3

    loop.run_until_complete(scenario())


def test_a_deactivated_wedge_scanner_is_refused(kiosk_factory, loop):
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent

    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    search = window.inventory.search

    def scan_by_wedge(code: str) -> None:
        for char in code:
            kiosk.wedge.handle(search, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_0 + int(char),
                                                 Qt.KeyboardModifier.NoModifier, char))
        kiosk.wedge.handle(search, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Return,
                                             Qt.KeyboardModifier.NoModifier, "\r"))

    async def milk() -> int:
        return (await services.items.list(SYSTEM, search="Whole milk")).data[0].total_quantity

    async def scenario():
        search.setFocus()
        scan_by_wedge("5000128104470")
        await eventually(lambda: "Whole milk 2 l" in window.banner.text(), what="first scan")
        assert await milk() == 3
        scanner = await services.users.by_username("Kiosk scanner", SYSTEM)
        await services.users.deactivate(scanner.id, SYSTEM)

        scan_by_wedge("5000128104470")
        await eventually(lambda: window.banner.is_error() and "deactivated" in window.banner.text(),
                    what="refusal banner")
        assert await milk() == 3
        assert search.text() == ""

    loop.run_until_complete(scenario())


def test_a_gs1_code_by_wedge_keeps_its_group_separator(kiosk_factory, loop):
    """GS as Qt reports it on other platforms than X11 (which the real-input
    test covers): Ctrl+] with no text, and an Alt code on the keypad with Num
    Lock off (Insert, Insert, Down, PgUp: 0 0 2 9)."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent

    kiosk = kiosk_factory()
    services = kiosk.runtime.services
    search = kiosk.window.inventory.search
    mod = Qt.KeyboardModifier

    def press(key, modifiers=mod.NoModifier, text: str = "") -> None:
        kiosk.wedge.handle(search, QKeyEvent(QEvent.Type.KeyPress, key, modifiers, text))

    def type_text(text: str) -> None:
        for char in text:
            if char.isupper():
                press(Qt.Key.Key_Shift, mod.ShiftModifier)
            press(Qt.Key(ord(char.upper())), mod.ShiftModifier if char.isupper() else mod.NoModifier, char)

    ctrl_bracket = [(Qt.Key.Key_Control, mod.ControlModifier), (Qt.Key.Key_BracketRight, mod.ControlModifier)]
    alt_0029 = [(Qt.Key.Key_Alt, mod.AltModifier)] + [
        (key, mod.AltModifier | mod.KeypadModifier)
        for key in (Qt.Key.Key_Insert, Qt.Key.Key_Insert, Qt.Key.Key_Down, Qt.Key.Key_PageUp)]

    async def dates() -> list[str]:
        milk = (await services.items.list(SYSTEM, search="Whole milk")).data[0]
        detail = await services.items.get(milk.id, SYSTEM)
        return sorted(lot.best_before.isoformat() for sku in detail.skus for lot in sku.lots)

    async def scenario():
        search.setFocus()
        for separator, year in ((ctrl_bracket, "27"), (alt_0029, "28")):
            type_text("]d2010500012810447010ABC123")
            for key, modifiers in separator:
                press(key, modifiers)
            type_text(f"17{year}1231")
            press(Qt.Key.Key_Return, text="\r")
            await eventually(lambda year=year: _has(dates(), f"20{year}-12-31"), what=f"the 20{year} lot")
        assert await dates() == ["2027-12-31", "2028-12-31"]
        assert search.text() == ""

    loop.run_until_complete(scenario())


async def _has(awaitable, wanted) -> bool:
    return wanted in await awaitable


def test_one_application_filter_serves_the_keyboard_the_idle_timer_and_the_wedge(kiosk_factory, loop):
    """Real taps and keys through the application's one event filter."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtTest import QTest

    from stocky_touch.appevents import app_events

    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    session = window.ctx.session
    search = window.inventory.search
    handlers = app_events()._handlers
    assert len(handlers[QEvent.Type.MouseButtonPress.value]) == 3  # the wedge, the keyboard, activity
    assert len(handlers[QEvent.Type.KeyPress.value]) == 2  # the wedge, activity
    assert len(handlers[QEvent.Type.TouchBegin.value]) == 1
    assert QEvent.Type.Timer.value not in handlers

    async def scenario():
        assert not window.keyboard.isVisible()
        QTest.mouseClick(search, Qt.MouseButton.LeftButton)
        assert window.keyboard.isVisible()
        # Taps keep the idle timer from running out; without them it does.
        session._idle.setInterval(800)
        session._idle.start()
        for _ in range(20):
            await asyncio.sleep(0.1)
            QTest.mouseClick(search, Qt.MouseButton.LeftButton)
        assert session._idle.isActive()
        await eventually(lambda: not session._idle.isActive(), timeout=3, what="idle without taps")
        QTest.keyClicks(search, "5000128104470")  # as fast as a scanner types
        QTest.keyClick(search, Qt.Key.Key_Return)
        await eventually(lambda: "Whole milk 2 l" in window.banner.text(), what="scan banner")
        assert search.text() == ""
        milk = (await services.items.list(SYSTEM, search="Whole milk")).data[0]
        assert milk.total_quantity == 3

    loop.run_until_complete(scenario())


def test_no_display_gives_advice_not_a_crash():
    with pytest.raises(NoDisplay) as error:
        check_display({"PATH": "/usr/bin"})
    assert "stocky serve" in error.value.message and "QT_QPA_PLATFORM" in error.value.message
    check_display({"QT_QPA_PLATFORM": "offscreen"})
    environ = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "stocky", "kiosk"], env=environ, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert "stocky serve" in done.stderr and "Traceback" not in done.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_kiosk_command_serves_health_and_exits_0_on_sigterm(tmp_path):
    port = free_port()
    environ = dict(os.environ, QT_QPA_PLATFORM="offscreen", STOCKY_DATA_DIR=str(tmp_path / "data"),
                   UDA_API_URL="http://127.0.0.1:9/{upc}")
    process = subprocess.Popen(
        [sys.executable, "-m", "stocky", "kiosk", "--demo", "--windowed", "--host", "127.0.0.1",
         "--port", str(port)],
        cwd=tmp_path, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    health = json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert health == {"status": "ok"}
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "stocky-demo" in stdout
    for crash in ("Traceback", "Fatal Python error", "Segmentation", "QThread: Destroyed"):
        assert crash not in stderr


def test_a_scan_with_nowhere_to_go_offers_the_locations(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    key = kiosk.runtime.demo_logins.scanner_api_key

    async def scenario():
        link = json.dumps({"command": "associate_ui", "payload": kiosk.live.ui_id})
        assert (await scan(kiosk, key, link))["status"] == 200
        answer = await scan(kiosk, key, "4000000000017")  # a new product, and no location set
        assert answer["status"] == 409, answer
        await eventually(lambda: any(b.text() == "Freezer" for b in sheet_buttons(window)), what="the locations offered")
        freezer = next(b for b in sheet_buttons(window) if b.text() == "Freezer")
        freezer.click()
        await eventually(lambda: "to Freezer (now 1)" in window.banner.text(), what="the scan applied in the freezer")
        states = await services.scans.states(SYSTEM)
        assert states[0].current_location_id is None, "the answer was for that scan, not the scanner's place"

        freezer_id = next(loc.id for loc in (await services.locations.list(SYSTEM)).data if loc.name == "Freezer")
        label = json.dumps({"command": "set_location", "payload": str(freezer_id)})
        assert (await scan(kiosk, key, label))["status"] == 200  # the freezer's label sets it
        milk = await scan(kiosk, key, "5000128104470")  # fridge milk, put in the freezer: it stands, with a warning
        assert milk["status"] == 200 and milk["warning"].startswith("Storage mismatch")
        await eventually(lambda: "⚠ Storage mismatch" in window.banner.text(), what="the warning on the banner")
        assert window.banner.is_error(), "a warning is amber, not the green of an ordinary scan"

        switch = await until_switch(window)
        await eventually(lambda: switch.text() == "Kitchen scanner: ADD · Freezer", what="its mode and place on the bar")
        switch.click()
        await eventually(lambda: "REMOVE" in switch.text(), what="the switch shows remove mode")
        taken = await scan(kiosk, key, "5000128104470")  # the milk just put in the freezer
        assert taken["status"] == 200 and taken["result"] == "removed"
        nothing = await scan(kiosk, key, "4000000000024")
        assert nothing["error"]["message"].startswith("Remove mode:")
        await eventually(lambda: window.banner.text().startswith("Remove mode:"), what="the banner says the mode")

    loop.run_until_complete(scenario())


def sheet_buttons(window):
    from stocky_touch.widgets.sheet import Sheet

    return [b for sheet in window.findChildren(Sheet) if sheet.isVisible()
            for b in sheet.findChildren(type(window.banner.action))]


async def until_switch(window):
    await eventually(lambda: window._mode_buttons, what="the linked scanner's switch")
    return next(iter(window._mode_buttons.values()))
