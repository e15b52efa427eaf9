"""/sku: how many of an item sit where; adjust and move are all or nothing."""

from __future__ import annotations

import asyncio
import uuid

import pytest

SKU_KEYS = {
    "id",
    "item_id",
    "item_name",
    "location_id",
    "location_name",
    "quantity",
    "created_at",
    "updated_at",
}


def assert_sku(api, sku: dict) -> None:
    assert SKU_KEYS <= set(sku), sku
    assert (
        api.is_uuid(sku["id"]) and api.is_uuid(sku["item_id"]) and api.is_uuid(sku["location_id"])
    )
    assert api.is_timestamp(sku["created_at"]) and api.is_timestamp(sku["updated_at"])


async def quantities(api) -> dict[tuple[str, str], int]:
    rows = api.page(await api.get("/sku", params={"limit": 500}))
    return {(r["item_name"], r["location_name"]): r["quantity"] for r in rows}


async def total_of(api, key: str) -> int:
    return (await api.get(f"/item/{api.item(key)}")).json["total_quantity"]


async def test_list_and_filter_skus(api):
    reply = await api.get("/sku", who="Read-only")
    rows = api.page(reply)
    assert reply.json["total"] == 4
    for row in rows:
        assert_sku(api, row)
    assert await quantities(api) == {
        ("Whole Milk", "Fridge"): 3,
        ("Spaghetti", "Pantry"): 5,
        ("Spaghetti", "Shelf"): 2,
        ("Strawberry Jam", "Pantry"): 0,
    }
    by_item = api.page(await api.get("/sku", params={"item_id": api.item("spaghetti")}))
    assert {r["location_name"] for r in by_item} == {"Pantry", "Shelf"}
    by_place = api.page(await api.get("/sku", params={"location_id": api.loc("Pantry")}))
    assert {r["item_name"] for r in by_place} == {"Spaghetti", "Strawberry Jam"}
    paged = await api.get("/sku", params={"limit": 1, "offset": 1})
    assert len(api.page(paged)) == 1 and paged.json["total"] == 4
    assert "item_id" in api.failing_fields(await api.get("/sku", params={"item_id": "milk"}))


async def test_put_an_item_somewhere_new(api):
    reply = await api.post(
        "/sku",
        who="Member",
        json={
            "item_id": api.item("rice"),
            "location_id": api.loc("Pantry"),
            "quantity": 2,
        },
    )
    assert reply.status == 201, reply
    sku = reply.json
    assert_sku(api, sku)
    assert (sku["item_name"], sku["location_name"], sku["quantity"]) == (
        "Basmati Rice",
        "Pantry",
        2,
    )
    assert await total_of(api, "rice") == 2
    assert (await api.get(f"/sku/{sku['id']}")).json == sku


async def test_a_second_place_for_the_same_item_and_location_is_409(api):
    before = await api.snapshot()
    reply = await api.post(
        "/sku", json={"item_id": api.item("milk"), "location_id": api.loc("Fridge")}
    )
    api.error(reply, 409)
    assert await api.snapshot() == before


@pytest.mark.parametrize("missing", ["item_id", "location_id"])
async def test_creating_a_sku_for_an_unknown_item_or_location_is_404(api, missing):
    body = {
        "item_id": api.item("rice"),
        "location_id": api.loc("Pantry"),
        missing: str(uuid.uuid4()),
    }
    api.error(await api.post("/sku", json=body), 404)


async def test_storage_mismatch_succeeds_and_raises_a_warning_alert(api):
    reply = await api.post(
        "/sku",
        json={
            "item_id": api.item("milk"),
            "location_id": api.loc("Pantry"),
            "quantity": 1,
        },
    )
    assert reply.status == 201, reply
    alerts = api.page(await api.get("/alert"))
    assert [(a["severity"], "Whole Milk" in a["message"]) for a in alerts] == [("Warning", True)]


async def test_patch_sets_the_quantity(api):
    reply = await api.patch(f"/sku/{api.sku('milk@Fridge')}", who="Member", json={"quantity": 10})
    assert reply.status == 200, reply
    assert reply.json["quantity"] == 10
    assert await total_of(api, "milk") == 10
    assert "quantity" in api.failing_fields(
        await api.patch(f"/sku/{api.sku('milk@Fridge')}", json={"quantity": -1})
    )


async def test_adjust_adds_and_removes(api):
    sku = api.sku("spaghetti@Pantry")
    added = await api.post(f"/sku/{sku}/adjust", who="Member", json={"delta": 3})
    assert added.status == 200, added
    assert_sku(api, added.json)
    assert added.json["quantity"] == 8
    removed = await api.post(f"/sku/{sku}/adjust", json={"delta": -8})
    assert removed.status == 200 and removed.json["quantity"] == 0
    assert await total_of(api, "spaghetti") == 2


async def test_an_adjustment_names_its_change_and_undoing_it_puts_the_count_back(api):
    sku = api.sku("spaghetti@Pantry")
    added = await api.post(f"/sku/{sku}/adjust", who="Member", json={"delta": 3})
    assert added.status == 200 and added.json["quantity"] == 8
    undone = await api.post(f"/stock-change/{added.json['change_id']}/undo", who="Member")
    assert undone.status == 200, undone
    assert undone.json["quantity_after"] == 5
    again = await api.post(f"/stock-change/{added.json['change_id']}/undo", who="Member")
    assert api.error(again, 409, "conflict")


async def test_removing_more_than_there_is_is_409_and_changes_nothing(api):
    before = await api.snapshot()
    reply = await api.post(f"/sku/{api.sku('milk@Fridge')}/adjust", json={"delta": -4})
    detail = api.error(reply, 409, "conflict")
    assert "3" in detail["message"]
    assert await api.snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"delta": 0}, "delta"),
        ({"delta": "one"}, "delta"),
        ({"delta": 1.5}, "delta"),
        ({"delta": 2_000_000}, "delta"),
        ({}, "delta"),
        ({"delta": 1, "why": "x"}, "why"),
    ],
)
async def test_adjust_validation_names_the_field(api, body, field):
    before = await api.snapshot()
    assert field in api.failing_fields(
        await api.post(f"/sku/{api.sku('milk@Fridge')}/adjust", json=body)
    )
    assert await api.snapshot() == before


async def test_concurrent_adjustments_lose_no_count(api):
    sku = api.sku("milk@Fridge")
    replies = await asyncio.gather(
        *(api.post(f"/sku/{sku}/adjust", json={"delta": 1}) for _ in range(20))
    )
    assert [r.status for r in replies] == [200] * 20
    assert (await api.get(f"/sku/{sku}")).json["quantity"] == 23
    assert await total_of(api, "milk") == 23


async def test_move_moves_and_keeps_the_total(api):
    reply = await api.post(
        f"/sku/{api.sku('spaghetti@Pantry')}/move",
        who="Member",
        json={"location_id": api.loc("Shelf"), "quantity": 4},
    )
    assert reply.status == 200, reply
    moved = reply.json
    assert set(moved) == {"source", "target", "change_id"} and api.is_uuid(moved["change_id"])
    assert_sku(api, moved["source"])
    assert_sku(api, moved["target"])
    assert (moved["source"]["location_name"], moved["source"]["quantity"]) == ("Pantry", 1)
    assert (moved["target"]["location_name"], moved["target"]["quantity"]) == ("Shelf", 6)
    assert await total_of(api, "spaghetti") == 7


async def test_move_to_a_new_place_creates_it(api):
    reply = await api.post(
        f"/sku/{api.sku('spaghetti@Shelf')}/move",
        json={"location_id": api.loc("Freezer"), "quantity": 2},
    )
    assert reply.status == 200, reply
    assert reply.json["target"]["location_name"] == "Freezer"
    assert (await quantities(api))[("Spaghetti", "Freezer")] == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"quantity": 6}, 409),  # more than the 5 there
        ({"quantity": 1, "location_id": "unknown"}, 404),
        ({"quantity": 1, "location_id": "same"}, 422),
        ({"quantity": 0}, 422),
    ],
    ids=["too-many", "unknown-target", "same-place", "zero"],
)
async def test_a_failed_move_changes_nothing(api, body, status):
    targets = {"unknown": str(uuid.uuid4()), "same": api.loc("Pantry")}
    body = {"location_id": api.loc("Freezer"), **body}
    body["location_id"] = targets.get(body["location_id"], body["location_id"])
    before = await api.snapshot()
    reply = await api.post(f"/sku/{api.sku('spaghetti@Pantry')}/move", json=body)
    api.error(reply, status)
    if status == 422:
        assert api.failing_fields(reply) & {"quantity", "location_id"}
    # No half-move: no new place in the freezer, nothing taken from the pantry, no journal row.
    assert await api.snapshot() == before


async def test_delete_a_place_only_at_zero(api):
    before = await api.snapshot()
    api.error(await api.delete(f"/sku/{api.sku('milk@Fridge')}"), 409)
    assert await api.snapshot() == before
    reply = await api.delete(f"/sku/{api.sku('jam@Pantry')}", who="Member")
    assert reply.status == 204, reply
    api.error(await api.get(f"/sku/{api.sku('jam@Pantry')}"), 404)
    # The item itself stays, on the shopping list.
    assert (await api.get(f"/item/{api.item('jam')}")).status == 200


@pytest.mark.parametrize("bad_id", [str(uuid.uuid4()), "fridge-milk"])
async def test_unknown_or_malformed_sku_id_is_404(api, bad_id):
    api.error(await api.get(f"/sku/{bad_id}"), 404, "not_found")
    api.error(await api.patch(f"/sku/{bad_id}", json={"quantity": 1}), 404)
    api.error(await api.delete(f"/sku/{bad_id}"), 404)
    api.error(await api.post(f"/sku/{bad_id}/adjust", json={"delta": 1}), 404)
    api.error(
        await api.post(
            f"/sku/{bad_id}/move", json={"location_id": api.loc("Shelf"), "quantity": 1}
        ),
        404,
    )


async def test_adjust_meets_the_same_ceiling_as_setting_a_quantity(api):
    sku = api.sku("milk@Fridge")
    assert (await api.patch(f"/sku/{sku}", json={"quantity": 999_999})).status == 200
    before = await api.snapshot()
    refused = await api.post(f"/sku/{sku}/adjust", json={"delta": 2})
    assert api.failing_fields(refused) == {"delta"}
    assert "1,000,000" in refused.json["error"]["message"]
    assert await api.snapshot() == before
    patched = await api.patch(f"/sku/{sku}", json={"quantity": 1_000_001})
    assert api.failing_fields(patched) == {"quantity"}
    assert (await api.post(f"/sku/{sku}/adjust", json={"delta": 1})).json["quantity"] == 1_000_000
