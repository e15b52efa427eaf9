"""Locations: deletion only when empty, emptying one into another, names."""

from __future__ import annotations

import uuid

import pytest

from stocky.core.errors import Conflict, NotFound
from stocky.schemas.actor import SYSTEM


async def test_a_location_with_stock_cannot_be_deleted_and_the_error_names_the_items(
    services, member, locations, db_snapshot
):
    pantry = locations["Pantry"]
    rice = await services.items.create({"name": "Rice"}, member)
    tea = await services.items.create({"name": "Tea"}, member)
    await services.skus.add_to(rice.id, pantry.id, 2, member)
    await services.skus.add_to(tea.id, pantry.id, 1, member)
    before = await db_snapshot()

    with pytest.raises(Conflict) as caught:
        await services.locations.delete(pantry.id, member)

    assert "Pantry is not empty" in caught.value.message
    assert "Rice (2)" in caught.value.message
    assert "Tea (1)" in caught.value.message
    assert await db_snapshot() == before
    assert (await services.locations.get(pantry.id, SYSTEM)).total_quantity == 3


async def test_deleting_an_empty_location_takes_its_zero_skus_along(
    services, member, locations
):
    pantry, counter = locations["Pantry"], locations["Counter"]
    rice = await services.items.create({"name": "Rice"}, member)
    emptied = (await services.skus.add_to(rice.id, pantry.id, 2, member)).sku
    await services.skus.adjust(emptied.id, {"delta": -2}, member)
    elsewhere = (await services.skus.add_to(rice.id, counter.id, 1, member)).sku

    await services.locations.delete(pantry.id, member)

    with pytest.raises(NotFound):
        await services.locations.get(pantry.id, SYSTEM)
    with pytest.raises(NotFound):
        await services.skus.get(emptied.id, SYSTEM)
    assert "Pantry" not in {loc.name for loc in (await services.locations.list(SYSTEM)).data}
    detail = await services.items.get(rice.id, SYSTEM)
    assert [(s.id, s.location_name, s.quantity) for s in detail.skus] == [
        (elsewhere.id, "Counter", 1)
    ]
    assert detail.total_quantity == 1
    # History outlives the location: the rows keep its name.
    journal = await services.items.history(rice.id, SYSTEM)
    pantry_rows = [row for row in journal if row.location_name == "Pantry"]
    assert [row.delta for row in pantry_rows] == [-2, 2]
    assert all(row.location_id is None for row in pantry_rows)


async def test_emptying_a_location_moves_everything_and_then_it_can_be_deleted(
    services, member, locations
):
    pantry, counter = locations["Pantry"], locations["Counter"]
    rice = await services.items.create({"name": "Rice"}, member)
    tea = await services.items.create({"name": "Tea"}, member)
    await services.skus.add_to(rice.id, pantry.id, 2, member)
    await services.skus.add_to(tea.id, pantry.id, 3, member)
    await services.skus.add_to(tea.id, counter.id, 1, member)

    moved = await services.skus.empty_location(pantry.id, counter.id, member)

    assert (moved.moved, moved.items, moved.from_location_name, moved.into_location_name) == (5, 2, "Pantry", "Counter")
    assert (await services.locations.get(pantry.id, SYSTEM)).total_quantity == 0
    assert (await services.locations.get(counter.id, SYSTEM)).total_quantity == 6
    assert {s.location_name: s.quantity for s in (await services.items.get(tea.id, SYSTEM)).skus} == {
        "Pantry": 0,
        "Counter": 4,
    }
    assert (await services.items.get(rice.id, SYSTEM)).total_quantity == 2

    await services.locations.delete(pantry.id, member)

    assert {s.location_name for s in (await services.items.get(tea.id, SYSTEM)).skus} == {"Counter"}
    assert (await services.items.get(tea.id, SYSTEM)).total_quantity == 4


async def test_location_names_are_unique_regardless_of_case(
    services, member, locations, db_snapshot
):
    before = await db_snapshot()

    for name in ("Pantry", "pantry", "  PANTRY  "):
        with pytest.raises(Conflict, match="already a location called Pantry"):
            await services.locations.create({"name": name}, member)
    with pytest.raises(Conflict, match="already a location called Pantry"):
        await services.locations.update(locations["Fridge"].id, {"name": "PANTRY"}, member)

    assert await db_snapshot() == before


async def test_a_location_can_be_renamed_to_a_different_case_of_its_own_name(
    services, member, locations
):
    renamed = await services.locations.update(locations["Pantry"].id, {"name": "PANTRY"}, member)

    assert renamed.name == "PANTRY"


async def test_location_names_are_unique_regardless_of_case_beyond_ascii(services, member):
    await services.locations.create({"name": "KÜHLSCHRANK"}, member)

    with pytest.raises(Conflict):
        await services.locations.create({"name": "Kühlschrank"}, member)


async def test_unknown_location_id_is_not_found(services, member, locations):
    missing = uuid.uuid4()
    with pytest.raises(NotFound, match=str(missing)):
        await services.locations.get(missing, SYSTEM)
    with pytest.raises(NotFound):
        await services.locations.update(missing, {"name": "Attic"}, member)
    with pytest.raises(NotFound):
        await services.locations.delete(missing, member)
    with pytest.raises(NotFound):
        await services.skus.empty_location(missing, locations["Pantry"].id, member)
    assert (await services.locations.list(SYSTEM)).total == 4
