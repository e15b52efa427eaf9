"""Concurrent changes on one real SQLite file, and on a real PostgreSQL
database: no count is ever lost, the quantity never goes below zero
(DESIGN.md section 2: single atomic UPDATEs), and on PostgreSQL, where
transactions really run side by side, none of them deadlocks."""

from __future__ import annotations

import asyncio

import pytest

from stocky.core.errors import Conflict
from stocky.core.settings import Settings
from stocky.schemas.actor import SYSTEM


@pytest.fixture
def settings(clean_env, tmp_path, database_url: str | None) -> Settings:
    """``services`` (tests/conftest.py) over SQLite, then over PostgreSQL."""
    return Settings(_env_file=None, data_dir=tmp_path, database_url=database_url)


async def test_1000_concurrent_increments_all_count(services, member, locations):
    tea = await services.items.create({"name": "Tea"}, member)
    sku = await services.skus.create(
        {"item_id": tea.id, "location_id": locations["Pantry"].id, "quantity": 0}, member
    )

    async def scanner() -> None:
        for _ in range(50):
            await services.skus.adjust(sku.id, {"delta": 1}, member)

    results = await asyncio.gather(*(scanner() for _ in range(20)), return_exceptions=True)

    assert [r for r in results if r is not None] == []  # no exception at all
    assert (await services.skus.get(sku.id, SYSTEM)).quantity == 1000
    assert (await services.items.get(tea.id, SYSTEM)).total_quantity == 1000
    journal = await services.items.history(tea.id, SYSTEM, limit=2000)
    assert len(journal) == 1000
    assert all(row.delta == 1 for row in journal)
    assert sorted(row.quantity_after for row in journal) == list(range(1, 1001))


async def test_100_concurrent_removals_from_10_leave_exactly_zero(services, member, locations):
    tea = await services.items.create({"name": "Tea"}, member)
    sku = await services.skus.create(
        {"item_id": tea.id, "location_id": locations["Pantry"].id, "quantity": 10}, member
    )

    results = await asyncio.gather(
        *(services.skus.adjust(sku.id, {"delta": -1}, member) for _ in range(100)),
        return_exceptions=True,
    )

    succeeded = [r for r in results if not isinstance(r, BaseException)]
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(succeeded) == 10
    assert len(failed) == 90
    assert all(type(error) is Conflict for error in failed), {type(e) for e in failed}
    assert sorted(r.sku.quantity for r in succeeded) == list(range(10))
    assert (await services.skus.get(sku.id, SYSTEM)).quantity == 0
    assert (await services.items.get(tea.id, SYSTEM)).total_quantity == 0
    journal = await services.items.history(tea.id, SYSTEM, limit=1000)
    assert sorted(row.delta for row in journal) == [-1] * 10 + [10]
    assert sorted(row.quantity_after for row in journal if row.delta == -1) == list(range(10))
    # Out of stock now: on the shopping list, off the inventory.
    assert [i.id for i in (await services.items.list(SYSTEM, stock="zero")).data] == [tea.id]
    assert (await services.items.list(SYSTEM)).total == 0


async def test_concurrent_moves_never_create_or_lose_stock(services, member, locations):
    tea = await services.items.create({"name": "Tea"}, member)
    pantry, counter = locations["Pantry"], locations["Counter"]
    there = (await services.skus.add_to(tea.id, pantry.id, 20, member)).sku
    back = (await services.skus.add_to(tea.id, counter.id, 20, member)).sku

    moves = [
        services.skus.move(there.id, {"location_id": counter.id, "quantity": 3}, member)
        for _ in range(10)
    ] + [
        services.skus.move(back.id, {"location_id": pantry.id, "quantity": 2}, member)
        for _ in range(10)
    ]
    results = await asyncio.gather(*moves, return_exceptions=True)

    assert all(
        not isinstance(r, BaseException) or type(r) is Conflict for r in results
    ), results
    detail = await services.items.get(tea.id, SYSTEM)
    assert detail.total_quantity == 40
    assert sum(s.quantity for s in detail.skus) == 40
    assert all(s.quantity >= 0 for s in detail.skus)


async def test_moves_racing_scans_into_and_out_of_both_places_all_succeed(
    services, member, locations
):
    """A move touches two SKUs of one item; scans touch one of them. Every
    change of an item's stock queues on the item, so none waits on another
    in a circle."""
    tea = await services.items.create({"name": "Tea"}, member)
    pantry, counter = locations["Pantry"], locations["Counter"]
    there = (await services.skus.add_to(tea.id, pantry.id, 20, member)).sku
    back = (await services.skus.add_to(tea.id, counter.id, 20, member)).sku

    changes = (
        [
            services.skus.move(there.id, {"location_id": counter.id, "quantity": 1}, member)
            for _ in range(10)
        ]
        + [services.skus.adjust(back.id, {"delta": 1}, member) for _ in range(10)]
        + [services.skus.add_to(tea.id, pantry.id, -1, member) for _ in range(5)]
    )
    results = await asyncio.gather(*changes, return_exceptions=True)

    assert [r for r in results if isinstance(r, BaseException)] == []
    detail = await services.items.get(tea.id, SYSTEM)
    assert {s.location_name: s.quantity for s in detail.skus} == {"Pantry": 5, "Counter": 40}
    assert detail.total_quantity == 45
