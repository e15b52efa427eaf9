"""Best-before dates (DESIGN.md section 13) on a real SQLite file and a real
PostgreSQL database: the lots follow every stock change in its transaction,
GS1 codes and date cards date what a scanner adds, the database refuses
lots that do not add up, and the Use soon alerts come once per lot and state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.exc import IntegrityError

from stocky.core.errors import Conflict, InvalidInput
from stocky.core.events import Event
from stocky.core.settings import Settings
from stocky.models.types import GUID
from stocky.schemas.actor import SYSTEM, Actor
from stocky.services.container import Services, open_services
from stocky.services.expiry import ExpiryWorker

GS = "\x1d"
MILK = "9501101530003"  # GTIN-14 09501101530003 in the GS1 codes below


@pytest.fixture
def settings(clean_env, tmp_path, database_url: str | None) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, database_url=database_url)


def gs1(day: date, ai: str = "17") -> str:
    return f"]d2010950110153000310LOT7{GS}{ai}{day:%y%m%d}"


def card(payload: str) -> str:
    return json.dumps({"command": "best_before", "payload": payload})


async def scanner_in(services: Services, location_id, name: str = "Kitchen scanner") -> Actor:
    made = await services.users.create({"username": name, "role": "Scanner"}, SYSTEM)
    actor = Actor(user_id=made.id, username=made.username, role="Scanner", source="scan")
    await services.scans.scan(actor, json.dumps({"command": "set_location", "payload": str(location_id)}))
    return actor


async def lots_of(services: Services, item_id) -> dict[str, list[tuple[date, int]]]:
    detail = await services.items.get(item_id, SYSTEM)
    return {sku.location_name: [(lot.best_before, lot.quantity) for lot in sku.lots] for sku in detail.skus}


async def test_a_gs1_scan_adds_a_dated_unit_and_removal_takes_the_earliest_first(services, locations):
    today = date.today()
    scanner = await scanner_in(services, locations["Fridge"].id)
    soon, later = today + timedelta(days=2), today + timedelta(days=9)

    added = await services.scans.scan(scanner, gs1(later))
    assert added.result == "added" and added.best_before == later
    assert added.item.upc == MILK
    await services.scans.scan(scanner, gs1(soon, ai="15"))
    await services.scans.scan(scanner, MILK)  # a plain EAN-13: undated
    item = added.item.id
    assert await lots_of(services, item) == {"Fridge": [(soon, 1), (later, 1)]}

    await services.scans.scan(scanner, '{"command": "set_mode", "payload": "remove"}')
    await services.scans.scan(scanner, MILK)
    assert await lots_of(services, item) == {"Fridge": [(later, 1)]}  # the earliest went first
    await services.scans.scan(scanner, MILK)
    assert await lots_of(services, item) == {"Fridge": []}  # then the next date
    assert (await services.items.get(item, SYSTEM)).total_quantity == 1  # the undated unit stays


async def test_a_gs1_scan_in_remove_mode_takes_that_date_if_there_else_the_earliest(services, locations):
    soon, later = date.today() + timedelta(days=2), date.today() + timedelta(days=40)
    scanner = await scanner_in(services, locations["Fridge"].id)
    for day in (soon, later, later):
        added = await services.scans.scan(scanner, gs1(day))
    await services.scans.scan(scanner, '{"command": "set_mode", "payload": "remove"}')
    await services.scans.scan(scanner, gs1(later))
    assert await lots_of(services, added.item.id) == {"Fridge": [(soon, 1), (later, 1)]}  # that date's unit
    far = date.today() + timedelta(days=90)
    await services.scans.scan(scanner, gs1(far))  # a date Stocky does not hold: the earliest goes
    assert await lots_of(services, added.item.id) == {"Fridge": [(later, 1)]}


async def test_a_bad_gs1_date_is_refused_and_changes_nothing(services, locations, db_snapshot):
    scanner = await scanner_in(services, locations["Fridge"].id)
    before = await db_snapshot()
    with pytest.raises(InvalidInput):
        await services.scans.scan(scanner, f"]d20109501101530003{GS}17261331")
    assert await db_snapshot() == before


async def test_the_date_card_dates_the_last_added_unit_and_the_journal_knows(services, locations):
    today = date.today()
    scanner = await scanner_in(services, locations["Fridge"].id)
    added = await services.scans.scan(scanner, MILK)
    await services.scans.scan(scanner, MILK)

    dated = await services.scans.scan(scanner, card("+3d"))
    assert dated.result == "dated" and dated.best_before == today + timedelta(days=3)
    assert await lots_of(services, added.item.id) == {"Fridge": [(today + timedelta(days=3), 1)]}
    # A second card corrects the date of the same unit; the count never changes.
    await services.scans.scan(scanner, card("2031-05-31"))
    assert await lots_of(services, added.item.id) == {"Fridge": [(date(2031, 5, 31), 1)]}
    assert (await services.items.get(added.item.id, SYSTEM)).total_quantity == 2
    history = await services.items.history(added.item.id, SYSTEM)
    assert [row.lots for row in history] == [[["2031-05-31", 1]], None]  # an undo knows which lot
    with pytest.raises(InvalidInput):
        await services.scans.scan(scanner, card("next tuesday"))


async def test_a_date_card_with_nothing_added_lately_is_refused(services, locations):
    scanner = await scanner_in(services, locations["Fridge"].id)
    with pytest.raises(Conflict):
        await services.scans.scan(scanner, card("+1w"))


async def test_moves_keep_dates_and_adjusting_down_takes_from_lots(services, member, locations):
    d1, d2 = date(2030, 1, 10), date(2030, 3, 1)
    milk = await services.items.create({"name": "Milk"}, member)
    sku = await services.skus.create({"item_id": milk.id, "location_id": locations["Pantry"].id}, member)
    await services.skus.adjust(sku.id, {"delta": 2, "best_before": d2.isoformat()}, member)
    await services.skus.adjust(sku.id, {"delta": 1, "best_before": d1.isoformat()}, member)
    await services.skus.adjust(sku.id, {"delta": 2}, member)

    await services.skus.move(sku.id, {"location_id": locations["Fridge"].id, "quantity": 2}, member)
    assert await lots_of(services, milk.id) == {"Pantry": [(d2, 1)], "Fridge": [(d1, 1), (d2, 1)]}

    await services.skus.set_quantity(sku.id, {"quantity": 2}, member)  # 3 -> 2: the dated unit goes
    assert await lots_of(services, milk.id) == {"Pantry": [], "Fridge": [(d1, 1), (d2, 1)]}

    fridge = next(s for s in (await services.items.get(milk.id, SYSTEM)).skus if s.location_name == "Fridge")
    await services.skus.adjust(fridge.id, {"delta": -1, "best_before": d2.isoformat()}, member)  # that lot
    assert (await lots_of(services, milk.id))["Fridge"] == [(d1, 1)]
    with pytest.raises(Conflict):
        await services.skus.adjust(fridge.id, {"delta": -1, "best_before": d2.isoformat()}, member)


async def test_the_database_refuses_lots_that_do_not_add_up(services, member, locations):
    milk = await services.items.create({"name": "Milk"}, member)
    sku = await services.skus.create(
        {"item_id": milk.id, "location_id": locations["Pantry"].id, "quantity": 2}, member
    )
    await services.skus.adjust(sku.id, {"delta": 1, "best_before": "2030-01-01"}, member)  # 3, 1 dated

    def write(statement: str):
        def run(session):
            session.execute(text(statement).bindparams(bindparam("sku", type_=GUID())), {"sku": sku.id})
        return services.db.write(run)

    bad = (
        "UPDATE lot SET quantity = 4 WHERE sku_id = :sku",  # lots above the SKU
        "UPDATE lot SET quantity = -1 WHERE sku_id = :sku",  # a negative lot
        "UPDATE sku SET quantity = 0 WHERE id = :sku",  # the SKU below its lots
    )
    for statement in bad:
        with pytest.raises(IntegrityError):
            await write(statement)
    await write("UPDATE sku SET quantity = 1 WHERE id = :sku")  # still covers its one dated unit
    assert await lots_of(services, milk.id) == {"Pantry": [(date(2030, 1, 1), 1)]}


async def test_twenty_scanners_adding_and_removing_dated_units_stay_consistent(services, locations):
    today = date.today()
    fridge = locations["Fridge"].id
    scanners = [await scanner_in(services, fridge, f"scanner {n}") for n in range(20)]
    first = await services.scans.scan(scanners[0], gs1(today + timedelta(days=5)))
    item = first.item.id
    for n in range(10):  # stock to take from
        await services.scans.scan(scanners[0], gs1(today + timedelta(days=n % 4)))

    async def scanning(actor: Actor, seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(6):
            if rng.random() < 0.5:
                await services.scans.scan(actor, '{"command": "set_mode", "payload": "add"}')
                await services.scans.scan(actor, gs1(today + timedelta(days=rng.randrange(6))) if rng.random() < 0.7 else MILK)
            else:
                await services.scans.scan(actor, '{"command": "set_mode", "payload": "remove"}')
                with contextlib.suppress(Conflict):  # nothing left to remove
                    await services.scans.scan(actor, MILK)

    await asyncio.gather(*(scanning(actor, n) for n, actor in enumerate(scanners)))

    def counts(session):
        def sql(statement: str):
            return text(statement).bindparams(bindparam("i", type_=GUID()))

        sku = session.execute(sql("SELECT id, quantity FROM sku WHERE item_id = :i"), {"i": item}).one()
        dated = session.execute(
            sql("SELECT COALESCE(SUM(lot.quantity), 0), MIN(lot.quantity) FROM lot "
                "JOIN sku ON sku.id = lot.sku_id WHERE sku.item_id = :i"), {"i": item}).one()
        journal = session.execute(sql("SELECT COALESCE(SUM(delta), 0) FROM stock_change WHERE item_id = :i"),
                                  {"i": item}).scalar()
        return sku.quantity, dated[0], dated[1], journal

    quantity, dated, smallest, journal = await services.db.read(counts)
    assert quantity == journal  # no count lost
    assert dated <= quantity and smallest >= 0
    assert (await services.items.get(item, SYSTEM)).total_quantity == quantity


async def test_use_soon_lists_by_date_and_alerts_once_per_lot_and_state(settings, member, locations, services):
    today = date.today()
    milk = await services.items.create({"name": "Milk"}, member)
    sku = await services.skus.create({"item_id": milk.id, "location_id": locations["Fridge"].id}, member)
    for offset in (-1, 2, 20):
        await services.skus.adjust(sku.id, {"delta": 1, "best_before": (today + timedelta(days=offset)).isoformat()}, member)

    listed = await services.lots.expiring(member, 3)
    assert [(lot.days_left, lot.item_name, lot.location_name) for lot in listed.data] == [
        (-1, "Milk", "Fridge"), (2, "Milk", "Fridge")
    ]
    assert (await services.lots.expiring(member)).total == 3

    assert await services.lots.announce_expiry(3) == 2
    assert await services.lots.announce_expiry(3) == 0
    await services.items.update(milk.id, {"name": "Oat milk"}, member)
    await services.close()

    async with open_services(settings) as restarted:  # the worker starts again: nothing new to say
        assert await restarted.lots.announce_expiry(3) == 0
        # Three days on, the "soon" lot has expired, the far one is still far.
        assert await restarted.lots.announce_expiry(3, today=today + timedelta(days=3)) == 1
        alerts = sorted(a.message for a in (await restarted.alerts.list(SYSTEM)).data)
    assert len(alerts) == 3
    assert sum(message.startswith("Expired: 1 × Milk") for message in alerts) == 1
    assert sum(message.startswith("Use soon: 1 × Milk in Fridge") for message in alerts) == 1
    assert sum(message.startswith("Expired: 1 × Oat milk in Fridge") for message in alerts) == 1


async def test_the_worker_checks_at_start_and_a_restarted_worker_repeats_nothing(services, member, locations):
    milk = await services.items.create({"name": "Milk"}, member)
    sku = await services.skus.create({"item_id": milk.id, "location_id": locations["Fridge"].id}, member)
    await services.skus.adjust(sku.id, {"delta": 1, "best_before": date.today().isoformat()}, member)

    async def alerts_after_a_worker_ran() -> list[str]:
        ran = asyncio.Event()

        async def check() -> None:
            await services.lots.announce_expiry(3)
            ran.set()

        worker = ExpiryWorker(check)
        await worker.start()
        await asyncio.wait_for(ran.wait(), 10)
        await worker.stop()
        return [a.message for a in (await services.alerts.list(SYSTEM)).data]

    assert await alerts_after_a_worker_ran() == [
        f"Use soon: 1 × Milk in Fridge, best before {date.today().day} {date.today():%b %Y} (today)."
    ]
    assert len(await alerts_after_a_worker_ran()) == 1


async def test_a_lot_dated_inside_the_window_is_announced_within_seconds_once(services, member, locations):
    milk = await services.items.create({"name": "Milk"}, member)
    sku = await services.skus.create({"item_id": milk.id, "location_id": locations["Fridge"].id}, member)
    checks = asyncio.Queue()

    async def check() -> None:
        await checks.put(await services.lots.announce_expiry(3))

    async def next_check() -> int:
        return await asyncio.wait_for(checks.get(), 10)

    worker = ExpiryWorker(check, bus=services.bus)  # the hourly check alone would be an hour late
    await worker.start()
    try:
        assert await next_check() == 0  # at start: nothing dated yet
        soon = date.today() + timedelta(days=2)
        await services.skus.adjust(sku.id, {"delta": 1, "best_before": soon.isoformat()}, member)
        assert await next_check() == 1
        alerts = [a.message for a in (await services.alerts.list(SYSTEM)).data]
        assert alerts == [f"Use soon: 1 × Milk in Fridge, best before {soon.day} {soon:%b %Y} (in 2 days)."]

        # An odd event neither stops the worker nor repeats the alert.
        services.bus.publish(Event(entity="sku", id="not an id", op="updated", data={"odd": object()}))
        assert await next_check() == 0
        await services.skus.adjust(sku.id, {"delta": 1, "best_before": soon.isoformat()}, member)
        assert await next_check() == 0
        assert len((await services.alerts.list(SYSTEM)).data) == 1
    finally:
        await worker.stop()


async def test_a_check_the_storage_refuses_leaves_no_traceback_and_the_worker_goes_on(services, caplog):
    services.db.health.lost("The database file was deleted while Stocky was running")  # every write refused
    checks, twice = 0, asyncio.Event()

    async def check() -> None:
        nonlocal checks
        checks += 1
        if checks == 2:
            twice.set()
        await services.lots.announce_expiry(3)

    worker = ExpiryWorker(check, every=0.01)
    with caplog.at_level(logging.DEBUG, "stocky.expiry"):
        await worker.start()
        await asyncio.wait_for(twice.wait(), 10)
        await worker.stop()
    assert [r for r in caplog.records if r.name == "stocky.expiry" and r.exc_info] == []


async def test_the_shopping_list_and_the_trip(services, member, locations):
    pantry = locations["Pantry"].id
    rice = await services.items.create({"name": "Rice"}, member)
    tea = await services.items.create({"name": "Tea"}, member)
    oil = await services.items.create({"name": "Oil"}, member)
    rice_sku = await services.skus.create({"item_id": rice.id, "location_id": pantry, "quantity": 1}, member)
    await services.skus.create({"item_id": oil.id, "location_id": pantry, "quantity": 5}, member)
    await services.items.update(rice.id, {"min_quantity": 4}, member)
    await services.items.update(oil.id, {"min_quantity": 2}, member)

    shopping = await services.items.list(member, stock="shopping")
    assert [(i.name, i.to_buy, i.in_basket) for i in shopping.data] == [("Rice", 3, False), ("Tea", 1, False)]
    assert [i.name for i in (await services.items.list(member, stock="zero")).data] == ["Tea"]

    await services.items.update(rice.id, {"in_basket": True}, member)
    await services.items.update(tea.id, {"in_basket": True}, member)
    await services.items.update(tea.id, {"in_basket": False}, member)  # untick
    shopping = await services.items.list(member, stock="shopping")
    assert {i.name: i.in_basket for i in shopping.data} == {"Rice": True, "Tea": False}

    await services.skus.adjust(rice_sku.id, {"delta": 1}, member)  # home with one bag: the tick goes
    shopping = await services.items.list(member, stock="shopping")
    assert {i.name: (i.in_basket, i.to_buy) for i in shopping.data} == {"Rice": (False, 2), "Tea": (False, 1)}
