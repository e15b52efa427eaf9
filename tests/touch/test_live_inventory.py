"""The inventory follows changes live: a stock change is shown in its row at
once and without a query; a change of what the list holds reloads it, at
once and then at most every 200 ms, even while changes keep coming."""

from __future__ import annotations

import asyncio
import time

from support.polling import eventually

from stocky.schemas.actor import SYSTEM
from stocky_touch.models.inventory import NAME, QUANTITY, ItemRole
from stocky_touch.views.inventory import SkuControls
from tests.touch.test_kiosk import scan
from tests.touch.test_screens import row_named, tap_row


def count_queries(services, monkeypatch) -> dict[str, int]:
    """How often the screen asks the item service for a page or an item."""
    calls = {"list": 0, "get": 0}
    for name in calls:
        real = getattr(services.items, name)

        def counted(*args, _name=name, _real=real, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(services.items, name, counted)
    return calls


def shown_quantity(view, name: str) -> str | None:
    row = row_named(view.model, name)
    return None if row is None else view.model.index(row, QUANTITY).data()


async def expand_chickpeas(view):
    """Wait for the demo inventory, then open the chickpeas' two places."""
    await eventually(lambda: shown_quantity(view, "Chickpeas 400 g") == "4", what="inventory loaded")
    row = row_named(view.model, "Chickpeas 400 g")
    parent = view.model.index(row, NAME)
    tap_row(view.tree, parent)
    await eventually(lambda: view.model.rowCount(parent) == 2, what="its places shown")
    return row, parent


def test_a_stock_change_shows_in_its_row_at_once_without_a_query(kiosk_factory, loop, monkeypatch):
    kiosk = kiosk_factory()
    view, services = kiosk.window.inventory, kiosk.runtime.services
    key = kiosk.runtime.demo_logins.scanner_api_key

    async def scenario():
        row, parent = await expand_chickpeas(view)
        controls = view.tree.indexWidget(view.model.index(0, QUANTITY, parent))
        assert isinstance(controls, SkuControls) and controls.quantity.text() == "4"
        await asyncio.sleep(0.3)  # past the throttle of the reloads that started the screen
        calls = count_queries(services, monkeypatch)
        resets = []
        view.model.modelReset.connect(lambda: resets.append(1))

        # The event is published before the service call returns: the row
        # and the place's controls show it by then, in the same widget.
        place = view.model.index(0, NAME, parent).data(ItemRole)
        await services.skus.adjust(place.id, {"delta": 2}, SYSTEM)
        assert shown_quantity(view, "Chickpeas 400 g") == "6"
        assert view.model.index(0, QUANTITY, parent).data() == "6"
        assert view.tree.indexWidget(view.model.index(0, QUANTITY, parent)) is controls
        assert controls.quantity.text() == "6" and controls.minus.isEnabled()

        # A scan over HTTP: shown by the time the scanner has its answer.
        answer = await scan(kiosk, key, "5000128104470")  # whole milk, 2 in the fridge
        assert answer["status"] == 200, answer
        assert shown_quantity(view, "Whole milk 2 l") == "3"

        # A tap on − goes through the same controls and shows at once too.
        controls.minus.click()
        await eventually(lambda: controls.quantity.text() == "5", timeout=3, what="the tap shown")
        assert shown_quantity(view, "Chickpeas 400 g") == "5"

        await asyncio.sleep(0.4)  # nothing catches up later either
        assert calls == {"list": 0, "get": 0}
        assert resets == []
        assert view.model.rowCount(view.model.index(row_named(view.model, "Chickpeas 400 g"), NAME)) == 2

    loop.run_until_complete(scenario())


def test_an_item_that_runs_out_leaves_the_in_stock_list(kiosk_factory, loop, monkeypatch):
    kiosk = kiosk_factory()
    view, services = kiosk.window.inventory, kiosk.runtime.services

    async def scenario():
        await eventually(lambda: shown_quantity(view, "Hummus 200 g") == "1", what="inventory loaded")
        assert view.stock == "in"
        in_stock = view.model.total
        await asyncio.sleep(0.3)
        calls = count_queries(services, monkeypatch)
        hummus = await services.items.get(view.model.item_at(row_named(view.model, "Hummus 200 g")).id, SYSTEM)
        calls["get"] = 0

        await services.skus.adjust(hummus.skus[0].id, {"delta": -1}, SYSTEM)
        await eventually(lambda: row_named(view.model, "Hummus 200 g") is None, timeout=2, what="hummus gone")
        assert view.model.total == in_stock - 1
        assert view.summary.text() == f"{in_stock - 1} items in stock"
        assert calls["list"] >= 1

        # And back: a new member of the list is a reload as well.
        await services.skus.adjust(hummus.skus[0].id, {"delta": 3}, SYSTEM)
        await eventually(lambda: shown_quantity(view, "Hummus 200 g") == "3", timeout=2, what="hummus back")
        assert view.model.total == in_stock

    loop.run_until_complete(scenario())


def test_a_steady_stream_of_changes_still_refreshes_the_list(kiosk_factory, loop):
    """Changes 30 ms apart for two seconds: a reload that waits for a pause
    would show nothing until they stop."""
    kiosk = kiosk_factory()
    view, services = kiosk.window.inventory, kiosk.runtime.services

    async def scenario():
        await eventually(lambda: shown_quantity(view, "Hummus 200 g") == "1", what="inventory loaded")
        hummus = await services.items.get(view.model.item_at(row_named(view.model, "Hummus 200 g")).id, SYSTEM)
        oregano = view.model.item_at(row_named(view.model, "Dried oregano")).id
        gone_at: list[float] = []

        def watch() -> None:
            if not gone_at and row_named(view.model, "Hummus 200 g") is None:
                gone_at.append(time.monotonic())

        view.model.modelReset.connect(watch)

        async def stream(seconds: float) -> None:
            # Each edit of the oregano's notes is a change the list reloads for.
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                await services.items.update(oregano, {"description": f"note {time.monotonic()}"}, SYSTEM)
                await asyncio.sleep(0.03)

        await stream(0.5)
        await services.skus.adjust(hummus.skus[0].id, {"delta": -1}, SYSTEM)
        ran_out = time.monotonic()
        await stream(2.0)
        stopped = time.monotonic()
        assert gone_at, "the list did not refresh while the changes kept coming"
        assert gone_at[0] < stopped
        assert gone_at[0] - ran_out < 1.0
        await eventually(lambda: row_named(view.model, "Hummus 200 g") is None, timeout=2, what="hummus gone")

    loop.run_until_complete(scenario())


def test_a_hidden_tab_waits_until_it_is_shown(kiosk_factory, loop, monkeypatch):
    """Stock changes while the inventory is on screen cost the Locations tab
    no query; shown again, it has the new totals at once."""
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    view = window.inventory

    def location_line(name: str) -> str | None:
        lines = (window.locations.list.item(n).text() for n in range(window.locations.list.count()))
        return next((line for line in lines if line.startswith(name)), None)

    async def scenario():
        _, parent = await expand_chickpeas(view)
        place = view.model.index(0, NAME, parent).data(ItemRole)

        window.show_view("locations")
        await eventually(lambda: location_line(place.location_name) is not None, what="locations listed")
        before = location_line(place.location_name)
        window.show_view("inventory")
        await asyncio.sleep(1.2)  # past every throttle, the top bar's included
        asked = []
        real = services.locations.list

        def counted(*args, **kwargs):
            asked.append(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(services.locations, "list", counted)
        for _ in range(5):
            await services.skus.adjust(place.id, {"delta": 1}, SYSTEM)
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert len(asked) <= 1  # at most the top bar's refresh; not the hidden tab
        assert location_line(place.location_name) == before

        window.show_view("locations")
        await eventually(lambda: location_line(place.location_name) != before, what="the tab caught up once shown")

    loop.run_until_complete(scenario())



def test_scrolling_to_the_end_loads_the_next_page_after_a_reload(kiosk_factory, loop):
    kiosk = kiosk_factory(demo=False)
    services, view = kiosk.runtime.services, kiosk.window.inventory
    kiosk.window.resize(800, 480)

    async def scenario():
        shelf = await services.locations.create({"name": "Shelf"}, SYSTEM)
        for number in range(150):
            item = await services.items.create({"name": f"Jar {number:03}"}, SYSTEM)
            await services.skus.create({"item_id": item.id, "location_id": shelf.id, "quantity": 1}, SYSTEM)
        view.reload()
        await eventually(lambda: view.model.rowCount() == 100, what="the first page")
        for _ in range(2):  # after the first reload, and after another
            view.tree.scrollToBottom()
            await eventually(lambda: view.model.rowCount() == 150, what="the rest, loaded on reaching the end")
            view.reload()
            await eventually(lambda: view.model.rowCount() == 100, what="a reload shows the first page again")

    loop.run_until_complete(scenario())
