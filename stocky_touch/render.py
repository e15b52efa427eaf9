"""Render every tab and page to PNG, for the README and for looking at the
screens without a touchscreen:

    uv run python -m stocky_touch.render docs/screens

It runs a real kiosk (demo kitchen, temporary database) off screen, and
draws each screen at 1280x800 (into the folder), at 800x480, the 7-inch
display (into its ``800x480`` subfolder), and at 480x800, that display
turned to portrait (into ``480x800``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

SIZES = (((1280, 800), ""), ((800, 480), "800x480"), ((480, 800), "480x800"))


async def render(out: Path) -> list[Path]:
    from stocky.core.settings import Settings
    from stocky.runtime import Runtime
    from stocky.schemas.actor import SYSTEM
    from stocky_touch.app import Kiosk

    data = Path(tempfile.mkdtemp(prefix="stocky-render-"))
    kiosk = Kiosk(Runtime(Settings(data_dir=data), demo=True, host="127.0.0.1", port=0, https_port=free_port()),
                  windowed=True)
    await kiosk.start()
    window = kiosk.window
    # Its own ports are any free ones (a Stocky may run beside it): the
    # pictures show a box's, the default ports, with this kiosk's certificate.
    window.ctx.https, window.ctx.http_port = replace(kiosk.runtime.https, port=8443), 8000
    # Signed in as the demo Admin, to show every tab.
    window.ctx.session.sign_in(await kiosk.runtime.services.users.by_username("admin", SYSTEM))
    written: list[Path] = []
    try:
        for size, folder in SIZES:
            window.banner.hide()  # the message of the start, or of the size before
            window.resize(*size)
            written += await _screens(window, out / folder)
    finally:
        await kiosk.stop()
    return written


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _screens(window, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    async def shot(name: str) -> None:
        path = out / f"{name}.png"
        window.grab().save(str(path))
        written.append(path)

    await tour(window, shot)
    return written


async def tour(window, visit: Callable[[str], Awaitable[None]]) -> None:
    """Show every screen, sheet and the keyboard of a demo kiosk signed in as
    an Admin, and ``visit`` each by name once it has settled: the pictures
    here, the small-screen check in the tests."""
    from PySide6.QtWidgets import QScrollArea

    from stocky_touch.widgets.sheet import Sheet

    async def show(name: str) -> None:
        # Sleeping lets the Qt loop run the views' loads and repaint; never
        # processEvents() inside a coroutine (it re-enters the loop).
        await asyncio.sleep(0.3)
        await visit(name)

    def close_sheets() -> None:
        for sheet in window.findChildren(Sheet):
            sheet.close_sheet()

    await asyncio.sleep(0.3)
    window.show_tabs()
    window.show_view("inventory")
    inventory = window.inventory
    first = inventory.model.item_at(0)
    inventory.expand(first.id)
    await show("inventory")
    window.keyboard.open_for(inventory.search)
    await show("inventory-keyboard")
    window.keyboard.close_keyboard()
    inventory.search.setText("pea")  # finds what is at zero too: "none at home"
    inventory.reload()
    await show("inventory-search")
    inventory.set_filter("shopping")  # without the search
    await show("shopping-list")
    inventory.set_filter("in")
    await _date_some(window)
    for view in ("use_soon", "locations", "scanners", "log", "users"):
        window.show_view(view)
        await show(view)
    window.show_view("scanners")
    window.scanners.connect_button.click()
    await show("connect-a-phone")
    close_sheets()
    window.show_view("locations")
    pantry = next(loc for loc in window.locations.locations if loc.name == "Pantry")
    window.locations._show(pantry)
    await show("location")
    window.locations.show_label()
    await show("location-label")
    close_sheets()
    window.show_view("users")
    window.users._show_key("sk_" + "Demo-key-not-a-real-one-0123456789abcdefgh", "Kitchen scanner")
    await show("new-api-key")
    close_sheets()
    window.open_item(first.id)
    await show("item")
    scroll = window.item_page.findChild(QScrollArea)
    scroll.ensureWidgetVisible(window.item_page.add_place)
    await show("item-dates")
    scroll.verticalScrollBar().setValue(0)
    window.keyboard.open_for(window.item_page.name)
    await show("keyboard")
    window.keyboard.close_keyboard()
    window.item_page._ask(window.item_page.item.skus[0])
    await show("number-pad")
    close_sheets()
    window._ask_where({"message": "Where does Olive oil go? Scan a location label first.",
                       "scanner_id": str(uuid.uuid4()), "scan": "", "needs": "location"})
    await show("where-does-it-go")
    close_sheets()
    window.banner.show_message("Added Whole milk 2 l to Fridge (now 3)", False, action=("Undo", lambda: None),
                               dates=lambda _day: None)
    window.show_view("inventory")
    await show("scan-banner")
    window.banner.date_buttons["A date…"].click()
    await show("date-sheet")
    close_sheets()
    window.show_alerts()
    await show("alerts")
    window.show_sign_in()
    await show("sign-in")
    window.signin_page.account.open_form()  # the keyboard comes up with it
    await show("change-password")
    window.keyboard.close_keyboard()
    window.signin_page.account.close_form()
    window.signin_page.show_first_start()
    await show("first-start")
    window.show_tabs()


async def _date_some(window) -> None:
    """Give one unit of the first items in stock a best-before date, one of
    them past, for Use soon and the item page to show."""
    from datetime import date, timedelta

    services, actor = window.ctx.services, window.ctx.session.actor
    first = (await services.items.list(actor, None, "in", 4, 0)).data
    for item, days in zip(first, (2, -1, 5, 6), strict=False):
        sku = next(sku for sku in (await services.items.get(item.id, actor)).skus if sku.quantity > 0)
        if not sku.lots:
            await services.skus.date_units(sku.id, {"best_before": date.today() + timedelta(days=days)}, actor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default="docs/screens", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from stocky_touch.app import new_qt_loop

    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = new_qt_loop(app)
    asyncio.set_event_loop(loop)
    try:
        for path in loop.run_until_complete(render(args.out)):
            print(path)
    finally:
        loop.close()


if __name__ == "__main__":
    main()
