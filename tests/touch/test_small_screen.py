"""Every screen and dialog on the 7-inch display (800x480), on 1024x600
screens and on the 7-inch display turned to portrait (480x800): no text cut,
no control out of reach, and the window no bigger than the screen."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication
from support.polling import eventually

from stocky.schemas.actor import SYSTEM
from stocky.schemas.commands import ScanCommand
from stocky.services.users import actor_of
from stocky_touch.render import free_port, tour
from tests.touch.conftest import as_admin
from tests.touch.fit import problems

PORTRAIT = (480, 800)


# The smallest screens each way: 1024x600 is wider and taller than 800x480
# and gets the same (landscape) layout, so what fits here fits there.
@pytest.mark.parametrize("size", [(800, 480), PORTRAIT], ids=["800x480", "480x800"])
def test_every_screen_fits_the_7_inch_display(kiosk_factory, loop, size):
    kiosk = kiosk_factory(https_port=free_port())  # Connect a phone with all it says
    window = kiosk.window
    as_admin(kiosk, loop)  # every tab
    width, height = size
    window.resize(width, height)
    seen: dict[str, list[str]] = {}

    async def check(name: str) -> None:
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
        await eventually(lambda: inventory.model.rowCount() > 20 and inventory.unnamed_bar.isVisible(), what="inventory")

        async def visit(name: str) -> None:
            await check(name)
            if name == "keyboard":
                field = window.item_page.name
                assert field.visibleRegion().boundingRect().height() == field.height(), \
                    "the name field is hidden behind the keyboard"

        await tour(window, visit)

    loop.run_until_complete(scenario())
    assert not seen, "\n".join(f"{name}: {problem}" for name, found in seen.items() for problem in found)


@pytest.mark.parametrize("size", [(800, 480), PORTRAIT], ids=["800x480", "480x800"])
def test_two_linked_scanners_fit_the_bottom_bar(kiosk_factory, loop, size):
    """A second scanner with a long name linked to the screen: both switches
    read whole, side by side or (portrait) one under the other."""
    kiosk = kiosk_factory()
    window = kiosk.window
    window.resize(*size)
    services = kiosk.runtime.services

    async def scenario():
        await services.users.create({"username": "Fridge door scanner", "role": "Scanner"}, SYSTEM)
        door = await services.users.by_username("Fridge door scanner", SYSTEM)
        link = ScanCommand(command="associate_ui", payload=kiosk.runtime.ui_id).encode()
        await services.scans.scan(actor_of(door, "scan"), link)
        await eventually(lambda: len(window._mode_buttons) == 2, what="both switches on the bar")
        window.banner.hide()  # the link's message lies over the bar

    loop.run_until_complete(scenario())
    assert (window.width(), window.height()) == size
    assert not problems(window, inside=window.status_bar)
