"""Quantities: adjust, set, move, the journal, zero SKUs and storage-mismatch
alerts (DESIGN.md sections 2 and 3)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from stocky.core.errors import Conflict, InvalidInput, NotFound
from stocky.schemas.actor import SYSTEM, Actor


@pytest.fixture
async def milk(services, member):
    return await services.items.create({"name": "Milk", "storage_type": "Refrigerated"}, member)


@pytest.fixture
async def beans(services, member):
    return await services.items.create({"name": "Beans", "storage_type": "Ambient"}, member)


async def stock_of(services, item_id) -> dict[str, int]:
    """What the item page shows: quantity per location name."""
    detail = await services.items.get(item_id, SYSTEM)
    return {sku.location_name: sku.quantity for sku in detail.skus}


async def open_alerts(services) -> list:
    return (await services.alerts.list(SYSTEM, acknowledged=False)).data


# --- storage mismatch ---------------------------------------------------------


async def test_refrigerated_item_into_ambient_location_succeeds_with_one_warning(
    services, member, milk, locations
):
    result = await services.skus.add_to(milk.id, locations["Pantry"].id, 1, member)

    assert result.sku.quantity == 1
    assert await stock_of(services, milk.id) == {"Pantry": 1}
    alerts = await open_alerts(services)
    assert len(alerts) == 1
    assert alerts[0].severity == "Warning"
    assert "Milk" in alerts[0].message and "Pantry" in alerts[0].message
    assert "Refrigerated" in alerts[0].message and "Ambient" in alerts[0].message


async def test_repeated_mismatched_adds_raise_no_second_alert_until_acknowledged(
    services, member, milk, locations
):
    pantry = locations["Pantry"]
    sku = (await services.skus.add_to(milk.id, pantry.id, 1, member)).sku
    for _ in range(3):
        await services.skus.add_to(milk.id, pantry.id, 1, member)
    await services.skus.adjust(sku.id, {"delta": 2}, member)

    alerts = (await services.alerts.list(SYSTEM)).data
    assert len(alerts) == 1
    assert await stock_of(services, milk.id) == {"Pantry": 6}

    await services.alerts.acknowledge(alerts[0].id, SYSTEM)
    assert await open_alerts(services) == []

    await services.skus.adjust(sku.id, {"delta": 1}, member)

    fresh = await open_alerts(services)
    assert len(fresh) == 1
    assert fresh[0].id != alerts[0].id
    assert fresh[0].severity == "Warning"
    assert (await services.alerts.list(SYSTEM)).total == 2


async def test_matching_or_unknown_storage_types_raise_no_alert(
    services, member, milk, beans, locations
):
    await services.skus.add_to(milk.id, locations["Fridge"].id, 2, member)
    await services.skus.add_to(beans.id, locations["Pantry"].id, 2, member)
    await services.skus.add_to(milk.id, locations["Counter"].id, 1, member)  # no storage type
    untyped = await services.items.create({"name": "Bread"}, member)
    await services.skus.add_to(untyped.id, locations["Freezer"].id, 1, member)

    assert (await services.alerts.list(SYSTEM)).total == 0


async def test_removing_stock_from_a_mismatched_place_raises_no_new_alert(
    services, member, milk, locations
):
    sku = (await services.skus.add_to(milk.id, locations["Pantry"].id, 3, member)).sku
    [alert] = (await services.alerts.list(SYSTEM)).data
    await services.alerts.acknowledge(alert.id, SYSTEM)

    await services.skus.adjust(sku.id, {"delta": -1}, member)

    assert await open_alerts(services) == []


async def test_moving_stock_into_a_mismatched_location_raises_a_warning(
    services, member, milk, locations
):
    sku = (await services.skus.add_to(milk.id, locations["Fridge"].id, 2, member)).sku

    await services.skus.move(sku.id, {"location_id": locations["Pantry"].id, "quantity": 1}, member)

    alerts = await open_alerts(services)
    assert len(alerts) == 1
    assert "Pantry" in alerts[0].message


# --- moving -----------------------------------------------------------------


async def test_move_changes_both_quantities_and_journals_both_sides(
    services, member, beans, locations
):
    pantry, counter = locations["Pantry"], locations["Counter"]
    sku = (await services.skus.add_to(beans.id, pantry.id, 5, member)).sku

    moved = await services.skus.move(sku.id, {"location_id": counter.id, "quantity": 2}, member)

    assert moved.source.quantity == 3 and moved.source.location_id == pantry.id
    assert moved.target.quantity == 2 and moved.target.location_id == counter.id
    assert await stock_of(services, beans.id) == {"Pantry": 3, "Counter": 2}
    assert (await services.items.get(beans.id, SYSTEM)).total_quantity == 5
    journal = await services.items.history(beans.id, SYSTEM)
    moves = sorted((row.location_name, row.delta, row.quantity_after) for row in journal[:2])
    assert moves == [("Counter", 2, 2), ("Pantry", -2, 3)]
    assert len(journal) == 3  # the initial +5 and the two sides of the move


async def test_move_into_an_existing_sku_adds_to_it(services, member, beans, locations):
    pantry, counter = locations["Pantry"], locations["Counter"]
    source = (await services.skus.add_to(beans.id, pantry.id, 4, member)).sku
    target = (await services.skus.add_to(beans.id, counter.id, 1, member)).sku

    moved = await services.skus.move(source.id, {"location_id": counter.id, "quantity": 4}, member)

    assert moved.target.id == target.id
    assert moved.target.quantity == 5
    assert await stock_of(services, beans.id) == {"Pantry": 0, "Counter": 5}


async def test_moving_more_than_there_is_is_a_conflict_and_changes_nothing(
    services, member, beans, locations, db_snapshot, events
):
    sku = (await services.skus.add_to(beans.id, locations["Pantry"].id, 2, member)).sku
    before = await db_snapshot()
    events.clear()

    with pytest.raises(Conflict, match="Only 2 of Beans in Pantry"):
        await services.skus.move(
            sku.id, {"location_id": locations["Counter"].id, "quantity": 3}, member
        )

    assert await db_snapshot() == before
    assert await stock_of(services, beans.id) == {"Pantry": 2}
    assert events == []


async def test_moving_to_the_same_location_is_refused(services, member, beans, locations):
    sku = (await services.skus.add_to(beans.id, locations["Pantry"].id, 2, member)).sku

    with pytest.raises(InvalidInput, match="already in Pantry"):
        await services.skus.move(sku.id, {"location_id": locations["Pantry"].id, "quantity": 1}, member)

    assert await stock_of(services, beans.id) == {"Pantry": 2}


# --- adjusting and setting ----------------------------------------------------


async def test_adjust_never_goes_below_zero(services, member, beans, locations, db_snapshot):
    sku = (await services.skus.add_to(beans.id, locations["Pantry"].id, 2, member)).sku
    before = await db_snapshot()

    with pytest.raises(Conflict, match="Only 2 of Beans in Pantry: cannot remove 3"):
        await services.skus.adjust(sku.id, {"delta": -3}, member)

    assert await db_snapshot() == before
    assert (await services.skus.get(sku.id, SYSTEM)).quantity == 2
    assert (await services.items.get(beans.id, SYSTEM)).total_quantity == 2
    assert len(await services.items.history(beans.id, SYSTEM)) == 1


async def test_adjust_by_zero_is_refused(services, member, beans, locations):
    sku = (await services.skus.add_to(beans.id, locations["Pantry"].id, 2, member)).sku

    with pytest.raises(InvalidInput, match="at least 1"):
        await services.skus.adjust(sku.id, {"delta": 0}, member)

    assert len(await services.items.history(beans.id, SYSTEM)) == 1


async def test_every_quantity_change_writes_exactly_one_journal_row(
    services, member, admin, beans, locations
):
    # A person's phone scanning (a Scanner key's stock changes go through ScanService).
    scanner = await services.users.create(
        {"username": "pantry-phone", "role": "Member", "password": "phone-Secret-1"}, admin
    )
    by_scan = Actor(user_id=scanner.id, username=scanner.username, role="Member", source="scan")
    pantry = locations["Pantry"]

    first = await services.skus.add_to(beans.id, pantry.id, 1, by_scan, scan_id="scan-1")
    assert len(await services.items.history(beans.id, SYSTEM)) == 1
    await services.skus.adjust(first.sku.id, {"delta": 4}, member)
    assert len(await services.items.history(beans.id, SYSTEM)) == 2
    await services.skus.adjust(first.sku.id, {"delta": -2}, by_scan)
    assert len(await services.items.history(beans.id, SYSTEM)) == 3

    newest, middle, oldest = await services.items.history(beans.id, SYSTEM)
    assert (oldest.delta, oldest.quantity_after, oldest.user_id, oldest.source, oldest.scan_id) == (
        1, 1, scanner.id, "scan", "scan-1"
    )
    assert (middle.delta, middle.quantity_after, middle.user_id, middle.source) == (4, 5, None, "ui")
    assert (newest.delta, newest.quantity_after, newest.user_id, newest.source) == (
        -2, 3, scanner.id, "scan"
    )
    for row in (newest, middle, oldest):
        assert row.item_id == beans.id
        assert row.location_id == pantry.id
        assert row.location_name == "Pantry"
        assert row.timestamp.tzinfo is not None
    assert oldest.timestamp <= middle.timestamp <= newest.timestamp


async def test_set_quantity_journals_the_difference(services, member, beans, locations):
    sku = (await services.skus.add_to(beans.id, locations["Pantry"].id, 7, member)).sku

    lowered = await services.skus.set_quantity(sku.id, {"quantity": 3}, member)
    assert lowered.quantity == 3
    raised = await services.skus.set_quantity(sku.id, {"quantity": 10}, member)
    assert raised.quantity == 10
    await services.skus.set_quantity(sku.id, {"quantity": 10}, member)  # no change, no row

    journal = await services.items.history(beans.id, SYSTEM)
    assert [(row.delta, row.quantity_after) for row in journal] == [(7, 10), (-4, 3), (7, 7)]
    assert (await services.items.get(beans.id, SYSTEM)).total_quantity == 10


async def test_item_total_is_the_sum_over_locations(services, member, beans, locations):
    await services.skus.add_to(beans.id, locations["Pantry"].id, 3, member)
    counter = await services.skus.add_to(beans.id, locations["Counter"].id, 4, member)
    assert counter.item.total_quantity == 7

    result = await services.skus.adjust(counter.sku.id, {"delta": -1}, member)

    assert result.item.total_quantity == 6
    assert result.sku.quantity == 3
    assert (await services.items.get(beans.id, SYSTEM)).total_quantity == 6
    assert {loc.name: loc.total_quantity for loc in (await services.locations.list(SYSTEM)).data}[
        "Pantry"
    ] == 3


# --- SKUs at zero ---------------------------------------------------------------


async def test_a_sku_stays_at_zero_after_everything_is_removed(services, member, beans, locations):
    sku = (await services.skus.add_to(beans.id, locations["Pantry"].id, 2, member)).sku

    await services.skus.adjust(sku.id, {"delta": -2}, member)

    assert (await services.skus.get(sku.id, SYSTEM)).quantity == 0
    assert await stock_of(services, beans.id) == {"Pantry": 0}
    assert [s.id for s in (await services.skus.list(SYSTEM, item_id=beans.id)).data] == [sku.id]

    await services.skus.delete(sku.id, member)

    with pytest.raises(NotFound):
        await services.skus.get(sku.id, SYSTEM)
    assert await stock_of(services, beans.id) == {}
    # The item itself is never deleted implicitly.
    assert (await services.items.get(beans.id, SYSTEM)).name == "Beans"


async def test_deleting_a_sku_with_stock_is_refused(services, member, beans, locations, db_snapshot):
    sku = (await services.skus.add_to(beans.id, locations["Pantry"].id, 2, member)).sku
    before = await db_snapshot()

    with pytest.raises(Conflict, match="Pantry still holds 2 of Beans"):
        await services.skus.delete(sku.id, member)

    assert await db_snapshot() == before


async def test_a_second_sku_for_the_same_item_and_location_is_a_conflict(
    services, member, beans, locations, db_snapshot
):
    await services.skus.create(
        {"item_id": beans.id, "location_id": locations["Pantry"].id, "quantity": 1}, member
    )
    before = await db_snapshot()

    with pytest.raises(Conflict, match="Beans already has a place in Pantry"):
        await services.skus.create(
            {"item_id": beans.id, "location_id": locations["Pantry"].id, "quantity": 5}, member
        )

    assert await db_snapshot() == before


async def test_unknown_sku_id_is_not_found(services, member):
    missing = uuid.uuid4()
    with pytest.raises(NotFound, match=str(missing)):
        await services.skus.get(missing, SYSTEM)
    with pytest.raises(NotFound):
        await services.skus.adjust(missing, {"delta": 1}, member)
    with pytest.raises(NotFound):
        await services.skus.set_quantity(missing, {"quantity": 1}, member)
    with pytest.raises(NotFound):
        await services.skus.delete(missing, member)


async def test_a_repeated_scan_id_is_counted_once(services, admin, beans, locations):
    # A person's phone scanning (a Scanner key's stock changes go through ScanService).
    scanner = await services.users.create(
        {"username": "pantry-phone", "role": "Member", "password": "phone-Secret-1"}, admin
    )
    by_scan = Actor(user_id=scanner.id, username=scanner.username, role="Member", source="scan")
    sku = (await services.skus.add_to(beans.id, locations["Pantry"].id, 1, by_scan, "scan-7")).sku

    with pytest.raises(Conflict):
        await services.skus.adjust(sku.id, {"delta": 1}, by_scan, scan_id="scan-7")

    assert (await services.skus.get(sku.id, SYSTEM)).quantity == 1
    assert len(await services.items.history(beans.id, SYSTEM)) == 1
    # Another scanner may use the same scan id for its own scans.
    other = await services.users.create(
        {"username": "fridge-phone", "role": "Member", "password": "phone-Secret-2"}, admin
    )
    by_other = Actor(user_id=other.id, username=other.username, role="Member", source="scan")
    await services.skus.adjust(sku.id, {"delta": 1}, by_other, scan_id="scan-7")
    assert (await services.skus.get(sku.id, SYSTEM)).quantity == 2


async def test_timestamps_are_timezone_aware_utc(services, member, beans, locations):
    result = await services.skus.add_to(beans.id, locations["Pantry"].id, 1, member)
    item = await services.items.get(beans.id, SYSTEM)
    [change] = await services.items.history(beans.id, SYSTEM)

    for stamp in (
        item.created_at, item.updated_at, item.stock_changed_at,
        result.sku.updated_at, item.skus[0].updated_at, change.timestamp,
    ):
        assert stamp.utcoffset() == timedelta(0)
    assert item.created_at <= item.stock_changed_at <= datetime.now(UTC)


async def test_history_stays_in_order_when_the_clock_goes_back(
    services, member, beans, locations, monkeypatch
):
    """After the clock jumps a year back (NTP after a power cut, a flat RTC
    battery), the newest change is still first and its "now N" is the stock."""
    from stocky.services import stock

    shift = timedelta(0)
    real_now = stock.utcnow
    monkeypatch.setattr(stock, "utcnow", lambda: real_now() + shift)
    pantry = locations["Pantry"].id
    await services.skus.add_to(beans.id, pantry, 5, member)
    await services.skus.add_to(beans.id, pantry, 3, member)
    shift = -timedelta(days=365)
    await services.skus.add_to(beans.id, pantry, 4, member)
    await services.skus.add_to(beans.id, pantry, -2, member)

    history = await services.items.history(beans.id, SYSTEM)

    assert [change.delta for change in history] == [-2, 4, 3, 5]
    assert history[0].quantity_after == (await services.items.get(beans.id, SYSTEM)).total_quantity == 10
    # The wall time is kept as it was read, for display.
    assert history[0].timestamp < history[-1].timestamp
