"""Best-before dates on the touch screen: the Use soon tab, the quick dates
on the banner after an add, and the item page's dated units and minimum."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtWidgets import QPushButton
from support.polling import eventually

from stocky.core.dates import add_months
from stocky.schemas.actor import SYSTEM
from stocky.services.users import actor_of
from stocky_touch.views.inventory import SkuControls
from stocky_touch.widgets.keyboard import NumberPad
from tests.touch.test_live_inventory import expand_chickpeas
from tests.touch.test_screens import sheet_button, tap

MILK = "5000128104470"  # Whole milk 2 l in the demo kitchen


async def sku_of(services, name: str):
    """The item called ``name`` and its first place."""
    item = next(i for i in (await services.items.list(SYSTEM, name.split()[0], "all", 10, 0)).data if i.name == name)
    return item, (await services.items.get(item.id, SYSTEM)).skus[0]


async def lots_of(services, sku_id) -> dict[date, int]:
    page = await services.lots.expiring(SYSTEM, None, 500)
    return {lot.best_before: lot.quantity for lot in page.data if lot.sku_id == sku_id}


# What these tests date; the demo kitchen has dated food of its own.
DATED_HERE = {"Greek yoghurt 500 g", "Chickpeas 400 g", "Basmati rice 1 kg"}


def shown(view) -> list[str]:
    return [f"{row.lot.item_name}: {row.when.text()}" for row in view.rows if row.lot.item_name in DATED_HERE]


def test_use_soon_lists_expired_first_and_takes_one_from_its_lot(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    view = window.use_soon
    today = date.today()

    async def scenario():
        _, yoghurt = await sku_of(services, "Greek yoghurt 500 g")
        _, chickpeas = await sku_of(services, "Chickpeas 400 g")
        _, rice = await sku_of(services, "Basmati rice 1 kg")
        await services.skus.date_units(chickpeas.id, {"best_before": today + timedelta(days=2)}, SYSTEM)
        await services.skus.date_units(yoghurt.id, {"best_before": today - timedelta(days=1)}, SYSTEM)
        await services.skus.date_units(rice.id, {"best_before": today + timedelta(days=20)}, SYSTEM)
        assert window.show_view("use_soon")
        await eventually(lambda: len(shown(view)) == 2, what="two lots within 7 days")
        texts = shown(view)
        assert texts[0].startswith("Greek yoghurt 500 g: Expired yesterday · ")
        assert texts[1].startswith("Chickpeas 400 g: 2 days left · ")
        assert texts[1].endswith(chickpeas.location_name)
        expired = sum(1 for row in view.rows if row.lot.days_left < 0)
        assert view.summary.text() == f"{len(view.rows)} to use within 7 days, {expired} expired"

        tap(view.windows.button(30))
        await eventually(lambda: len(shown(view)) == 3, what="the rice within 30 days")
        assert shown(view)[2].startswith("Basmati rice 1 kg: 20 days left")

        # A scanner adds a dated unit elsewhere: the list follows.
        await services.skus.adjust(yoghurt.id, {"delta": 1, "best_before": today.isoformat()}, SYSTEM)
        await eventually(lambda: any("Best before today" in text for text in shown(view)), what="the new lot")

        # The − takes from that lot only, and the lot leaves the list.
        expired = next(row for row in view.rows if row.lot.days_left < 0 and row.lot.item_name in DATED_HERE)
        before = (await services.items.get(expired.lot.item_id, SYSTEM)).total_quantity
        tap(expired.minus)
        await eventually(lambda: not any("Expired" in text for text in shown(view)), what="the expired lot gone")
        assert today - timedelta(days=1) not in await lots_of(services, yoghurt.id)
        assert (await services.items.get(expired.lot.item_id, SYSTEM)).total_quantity == before - 1
        assert "Took Greek yoghurt 500 g out of" in window.banner.text()

        tap(view.windows.button(3))
        await eventually(lambda: len(shown(view)) == 2 and view.days == 3, what="3 days: the rice leaves")

    loop.run_until_complete(scenario())


def test_a_quick_date_on_the_banner_dates_the_unit_a_plus_added(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    inventory = window.inventory

    async def scenario():
        item, _ = await sku_of(services, "Chickpeas 400 g")
        _row, parent = await expand_chickpeas(inventory)
        controls = inventory.tree.indexWidget(inventory.model.index(0, 1, parent))
        assert isinstance(controls, SkuControls)
        tap(controls.plus)
        await eventually(lambda: window.banner.dates.isVisible(), what="the quick dates")
        assert window.banner.text().startswith("Added Chickpeas 400 g")
        tap(window.banner.date_buttons["1 week"])
        week = date.today() + timedelta(days=7)
        await eventually(lambda: "best before" in window.banner.text(), what="said")
        assert await lots_of(services, controls.sku.id) == {week: 1}
        # The add's history names the date, and Undo of the add takes that very unit.
        history = await services.items.history(item.id, SYSTEM, 1)
        assert history[0].lots == [[week.isoformat(), 1]]
        # A wrong tap is mended from the banner that follows: Change offers the
        # choices again (the date moves) and No date; the count never changes.
        count = (await services.skus.get(controls.sku.id, SYSTEM)).quantity
        assert not window.banner.dates.isVisible() and window.banner.action.text() == "Change"
        tap(window.banner.action)
        assert window.banner.dates.isVisible() and window.banner.action.text() == "No date"
        tap(window.banner.date_buttons["1 month"])
        month = add_months(date.today(), 1)
        await eventually(lambda: f"{month.day} {month:%b %Y}" in window.banner.text(), what="moved")
        assert await lots_of(services, controls.sku.id) == {month: 1}
        tap(window.banner.action)  # Change
        tap(window.banner.action)  # No date
        await eventually(lambda: window.banner.text().endswith(": no date"), what="undated again")
        assert await lots_of(services, controls.sku.id) == {}
        assert (await services.skus.get(controls.sku.id, SYSTEM)).quantity == count
        tap(controls.plus)
        await eventually(lambda: window.banner.dates.isVisible(), what="the quick dates again")
        tap(window.banner.date_buttons["1 week"])
        await eventually(lambda: "best before" in window.banner.text(), what="dated again")
        # A removal offers no dates.
        tap(controls.minus)
        await eventually(lambda: window.banner.text().startswith("Took Chickpeas"), what="the removal said")
        assert not window.banner.dates.isVisible()

    loop.run_until_complete(scenario())


def test_a_quick_date_after_a_scan_from_the_linked_scanner(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services

    async def scenario():
        scanner = await services.users.by_username(kiosk.runtime.demo_logins.scanner_username, SYSTEM)
        _, sku = await sku_of(services, "Whole milk 2 l")
        await services.scans.set_state(scanner.id, {"current_location_id": str(sku.location_id)}, SYSTEM)
        await services.scans.scan(actor_of(scanner, "scan"), MILK)
        await eventually(lambda: window.banner.dates.isVisible(), what="the quick dates after the scan")
        tap(window.banner.date_buttons["3 days"])
        soon = date.today() + timedelta(days=3)
        await eventually(lambda: "best before" in window.banner.text(), what="said")
        assert (await lots_of(services, sku.id)).get(soon) == 1
        # A GS1 code that carries its date (AI 17) needs no quick date.
        window.banner.hide()
        later = date.today() + timedelta(days=40)
        await services.scans.scan(actor_of(scanner, "scan"), f"010{MILK}17{later:%y%m%d}")
        await eventually(lambda: window.banner.text().startswith("Added"), what="the dated scan")
        assert not window.banner.dates.isVisible()
        assert (await lots_of(services, sku.id)).get(later) == 1

    loop.run_until_complete(scenario())


def test_the_item_page_shows_dated_units_and_sets_keep_at_least(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    page = window.item_page
    today = date.today()

    async def scenario():
        item, sku = await sku_of(services, "Chickpeas 400 g")
        await services.skus.date_units(sku.id, {"best_before": today + timedelta(days=2)}, SYSTEM)
        window.open_item(item.id)
        await eventually(lambda: page.item is not None and page.item.skus[0].lots, what="the item with its lot")
        dated = [label for label in page.findChildren(type(page.status)) if "Best before" in label.text()]
        await eventually(lambda: any(label.isVisible() for label in dated), what="the lot shown")
        assert "2 days left" in next(label for label in dated if label.isVisible()).text()

        tap(page.minimum)
        pad = next(pad for pad in window.findChildren(NumberPad) if pad.isVisible())
        tap(next(key for key in pad.findChildren(QPushButton) if key.text() == "5"))
        tap(sheet_button(window, "Set"))
        await eventually(lambda: page.minimum.text() == "5", what="the minimum shown")
        assert (await services.items.get(item.id, SYSTEM)).min_quantity == 5

        row = next(i for i in range(page.skus.rowCount()) if page.skus.itemAtPosition(i, 0)
                   and "Best before" in page.skus.itemAtPosition(i, 0).widget().text())
        tap(page.skus.itemAtPosition(row, 1).widget())
        await eventually(lambda: not (page.item.skus[0].lots), what="the dated unit taken")
        assert await lots_of(services, sku.id) == {}

    loop.run_until_complete(scenario())



def test_the_shopping_list_holds_what_is_below_its_minimum(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    inventory = window.inventory

    async def scenario():
        milk, _ = await sku_of(services, "Whole milk 2 l")
        await services.items.update(milk.id, {"min_quantity": milk.total_quantity + 2}, SYSTEM)
        assert window.show_view("shopping")
        model = inventory.model

        def listed() -> dict[str, str]:
            return {model.index(r, 0).data(): model.index(r, 1).data() for r in range(model.rowCount())}

        await eventually(lambda: listed().get("Whole milk 2 l") == f"{milk.total_quantity} · get 2",
                    what="milk on the list, two to get")
        assert inventory.stock == "shopping"

    loop.run_until_complete(scenario())
