"""Every screen and dialog on the 7-inch display (800x480): no text cut, no
control out of reach, and the window no bigger than the screen."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtWidgets import QApplication

from stocky.schemas.actor import SYSTEM
from stocky_touch.widgets.sheet import Sheet
from tests.touch.conftest import as_admin, until
from tests.touch.fit import problems


async def settle() -> None:
    await asyncio.sleep(0.3)


@pytest.mark.parametrize("size", [(800, 480), (1024, 600)])
def test_every_screen_fits(kiosk_factory, loop, size):
    kiosk = kiosk_factory()
    window = kiosk.window
    as_admin(kiosk, loop)  # every tab
    width, height = size
    window.resize(width, height)
    seen: dict[str, list[str]] = {}

    async def check(name: str) -> None:
        await settle()
        assert (window.width(), window.height()) == size, f"{name}: the window grew to {window.size()}"
        found = problems(window)
        found += [f"a window besides the kiosk: {other}" for other in QApplication.topLevelWidgets()
                  if other.isVisible() and other is not window]
        if found:
            seen[name] = found

    async def scenario():
        inventory = window.inventory
        for upc in ("4000000000017", "4000000000024", "4000000000031"):  # scanned, not yet named
            await kiosk.runtime.services.items.create({"upc": upc}, SYSTEM)
        inventory.reload()
        await until(lambda: inventory.model.rowCount() > 20 and inventory.unnamed_bar.isVisible(), what="inventory")
        first = inventory.model.item_at(0)
        inventory.expand(first.id)
        await check("inventory")
        inventory.search.setFocus()
        window.keyboard.open_for(inventory.search)
        await check("inventory with the keyboard")
        window.keyboard.close_keyboard()
        for view in ("locations", "scanners", "log", "users"):
            window.show_view(view)
            await check(view)
        window.show_view("locations")
        pantry = next(loc for loc in window.locations.locations if loc.name == "Pantry")
        window.locations._show(pantry)
        await check("a full location, with 'move everything'")
        window.locations.show_label()
        await check("a location's label, to scan off the screen")
        window.findChild(Sheet).close_sheet()
        window.show_view("users")
        await until(lambda: window.users.list.count() > 1, what="users")
        window.users.list.setCurrentRow(0)
        window.users._show_key("sk_" + "x" * 43, "Kitchen scanner")
        await check("a new API key")
        window.users.key_sheet.close_sheet()
        window.open_item(first.id)
        await until(lambda: window.item_page.item is not None, what="item page")
        await check("item page")
        window.keyboard.open_for(window.item_page.name)
        await check("item page with the keyboard")
        assert window.item_page.name.visibleRegion().boundingRect().height() == window.item_page.name.height(), \
            "the name field is hidden behind the keyboard"
        window.keyboard.close_keyboard()
        window.show_alerts()
        await check("alerts")
        window.show_sign_in()
        await check("sign in")
        window.signin_page.show_first_start()
        await check("first start")
        window.show_tabs()
        window.open_item(first.id)
        await until(lambda: window.item_page.item is not None, what="item page again")
        window.item_page._ask(window.item_page.item.skus[0])
        await check("number pad")
        window.findChild(Sheet).close_sheet()

    loop.run_until_complete(scenario())
    assert not seen, "\n".join(f"{name}: {problem}" for name, found in seen.items() for problem in found)
