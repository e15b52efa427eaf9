"""Every committed change is published on the event bus (what keeps other
screens and /ws clients current); a refused change publishes nothing."""

from __future__ import annotations

import pytest

from stocky.core.errors import Conflict, PermissionDenied
from stocky.schemas.actor import SYSTEM


def summary(events) -> list[tuple[str, str, str]]:
    return [(e.entity, e.op, e.id) for e in events]


async def test_adjust_publishes_the_sku_and_the_item(services, member, locations, events):
    tea = await services.items.create({"name": "Tea"}, member)
    sku = (await services.skus.add_to(tea.id, locations["Pantry"].id, 1, member)).sku
    events.clear()

    await services.skus.adjust(sku.id, {"delta": 2}, member)

    assert summary(events) == [("sku", "updated", str(sku.id)), ("item", "updated", str(tea.id))]
    assert events[0].data["quantity"] == 3
    assert events[1].data["total_quantity"] == 3
    assert events[0].as_message() == {
        "action": "changed", "entity": "sku", "id": str(sku.id), "op": "updated"
    }


async def test_a_failed_adjust_publishes_nothing(services, member, locations, events):
    tea = await services.items.create({"name": "Tea"}, member)
    sku = (await services.skus.add_to(tea.id, locations["Pantry"].id, 1, member)).sku
    events.clear()

    with pytest.raises(Conflict):
        await services.skus.adjust(sku.id, {"delta": -2}, member)

    assert events == []


async def test_a_new_sku_publishes_its_creation_and_a_mismatch_its_alert(
    services, member, locations, events
):
    milk = await services.items.create({"name": "Milk", "storage_type": "Refrigerated"}, member)
    assert summary(events) == [("item", "created", str(milk.id))]
    events.clear()

    result = await services.skus.add_to(milk.id, locations["Pantry"].id, 1, member)

    [alert] = (await services.alerts.list(SYSTEM)).data
    assert summary(events) == [
        ("sku", "created", str(result.sku.id)),
        ("alert", "created", str(alert.id)),
        ("sku", "updated", str(result.sku.id)),
        ("item", "updated", str(milk.id)),
    ]
    events.clear()

    await services.alerts.acknowledge(alert.id, SYSTEM)

    assert summary(events) == [("alert", "updated", str(alert.id))]


async def test_a_move_publishes_both_skus(services, member, locations, events):
    tea = await services.items.create({"name": "Tea"}, member)
    sku = (await services.skus.add_to(tea.id, locations["Pantry"].id, 3, member)).sku
    events.clear()

    moved = await services.skus.move(sku.id, {"location_id": locations["Counter"].id, "quantity": 1}, member)

    published = summary(events)
    assert ("sku", "updated", str(sku.id)) in published
    assert ("sku", "created", str(moved.target.id)) in published
    assert ("sku", "updated", str(moved.target.id)) in published
    assert {entity for entity, _, _ in published} == {"sku", "item"}


async def test_creating_updating_and_deleting_are_published(services, admin, events):
    pantry = await services.locations.create({"name": "Pantry"}, admin)
    item = await services.items.create({"name": "Tea"}, admin)
    await services.items.update(item.id, {"description": "Green"}, admin)
    await services.locations.update(pantry.id, {"storage_type": "Ambient"}, admin)
    await services.items.delete(item.id, admin)
    await services.locations.delete(pantry.id, admin)
    scanner = await services.users.create({"username": "scanner", "role": "Scanner"}, admin)
    await services.users.rotate_api_key(scanner.id, admin)
    await services.users.delete(scanner.id, admin)

    assert summary(events) == [
        ("location", "created", str(pantry.id)),
        ("item", "created", str(item.id)),
        ("item", "updated", str(item.id)),
        ("location", "updated", str(pantry.id)),
        ("item", "deleted", str(item.id)),
        ("location", "deleted", str(pantry.id)),
        ("user", "created", str(scanner.id)),
        ("user", "updated", str(scanner.id)),
        ("user", "deleted", str(scanner.id)),
    ]


async def test_refused_changes_publish_nothing(services, member, locations, events):
    tea = await services.items.create({"name": "Tea", "upc": "4006381333931"}, member)
    await services.skus.add_to(tea.id, locations["Pantry"].id, 1, member)
    events.clear()

    with pytest.raises(PermissionDenied):
        await services.items.delete(tea.id, member)
    with pytest.raises(Conflict):
        await services.items.create({"name": "Other", "upc": "4006381333931"}, member)
    with pytest.raises(Conflict):
        await services.locations.create({"name": "pantry"}, member)
    with pytest.raises(Conflict):
        await services.locations.delete(locations["Pantry"].id, member)

    assert events == []


async def test_a_failing_subscriber_does_not_stop_the_others_or_the_change(
    services, member, locations, events
):
    def broken(_event):
        raise RuntimeError("subscriber bug")

    services.bus.subscribe(broken)
    # Subscribed after the broken one, so it proves delivery went on.
    later = []
    services.bus.subscribe(later.append)

    tea = await services.items.create({"name": "Tea"}, member)

    assert [e.entity for e in later] == ["item"]
    assert [e.entity for e in events] == ["item"]
    assert (await services.items.get(tea.id, SYSTEM)).name == "Tea"


async def test_deleting_a_location_publishes_the_skus_it_takes_along(
    services, member, locations, events
):
    tea = await services.items.create({"name": "Tea"}, member)
    sku = (await services.skus.add_to(tea.id, locations["Pantry"].id, 0, member)).sku
    events.clear()

    await services.locations.delete(locations["Pantry"].id, member)

    assert ("sku", "deleted", str(sku.id)) in summary(events)
