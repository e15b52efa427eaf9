"""/location: where things are kept."""

from __future__ import annotations

import uuid

import pytest

LOCATION_KEYS = {
    "id",
    "name",
    "storage_type",
    "details",
    "total_quantity",
    "created_at",
    "updated_at",
}


def assert_location(api, location: dict) -> None:
    assert LOCATION_KEYS <= set(location), location
    assert api.is_uuid(location["id"])
    assert api.is_timestamp(location["created_at"]) and api.is_timestamp(location["updated_at"])


async def test_list_locations_with_their_totals(api):
    reply = await api.get("/location", who="Read-only")
    rows = api.page(reply)
    assert reply.json["total"] == 4
    assert [(r["name"], r["total_quantity"]) for r in rows] == [
        ("Freezer", 0),
        ("Fridge", 3),
        ("Pantry", 5),
        ("Shelf", 2),
    ]
    for row in rows:
        assert_location(api, row)


async def test_create_and_get_a_location(api):
    reply = await api.post(
        "/location",
        who="Member",
        json={
            "name": " Spice rack ",
            "storage_type": "Ambient",
            "details": "Above the hob",
        },
    )
    assert reply.status == 201, reply
    created = reply.json
    assert_location(api, created)
    assert (
        created["name"],
        created["storage_type"],
        created["details"],
        created["total_quantity"],
    ) == (
        "Spice rack",
        "Ambient",
        "Above the hob",
        0,
    )
    fetched = await api.get(f"/location/{created['id']}", who="Read-only")
    assert fetched.status == 200 and fetched.json == created


@pytest.mark.parametrize("name", ["Pantry", "pantry", "  PANTRY  "])
async def test_a_location_name_that_exists_is_409(api, name):
    before = await api.snapshot()
    api.error(await api.post("/location", json={"name": name}), 409, "conflict")
    assert await api.snapshot() == before


async def test_location_names_are_unique_beyond_ascii_case(api):
    assert (await api.post("/location", json={"name": "Kühlschrank"})).status == 201
    api.error(await api.post("/location", json={"name": "KÜHLSCHRANK"}), 409)


async def test_a_location_cannot_lose_its_name(api):
    before = await api.snapshot()
    assert "name" in api.failing_fields(
        await api.patch(f"/location/{api.loc('Shelf')}", json={"name": None})
    )
    assert await api.snapshot() == before


async def test_renaming_onto_another_location_is_409_but_recasing_itself_is_fine(api):
    api.error(await api.patch(f"/location/{api.loc('Shelf')}", json={"name": "fridge"}), 409)
    reply = await api.patch(f"/location/{api.loc('Shelf')}", json={"name": "SHELF"})
    assert reply.status == 200, reply
    assert reply.json["name"] == "SHELF"


async def test_patch_changes_only_the_fields_sent(api):
    reply = await api.patch(
        f"/location/{api.loc('Pantry')}", who="Member", json={"details": "Left of the oven"}
    )
    assert reply.status == 200, reply
    body = reply.json
    assert (body["name"], body["storage_type"], body["details"], body["total_quantity"]) == (
        "Pantry",
        "Ambient",
        "Left of the oven",
        5,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "Garage", "storage_type": "Cold"}, "storage_type"),
        ({"name": "Garage", "details": "x" * 10_001}, "details"),
        ({"name": "Garage", "shelves": 3}, "shelves"),
        ({}, "name"),
        ({"name": "Gar\x00age"}, "name"),  # PostgreSQL cannot store NUL; refused on both
        ({"name": "Garage", "details": "\x00"}, "details"),
    ],
)
async def test_create_validation_names_the_failing_field(api, body, field):
    assert field in api.failing_fields(await api.post("/location", json=body))


async def test_deleting_a_location_with_stock_is_409_and_changes_nothing(api):
    before = await api.snapshot()
    reply = await api.delete(f"/location/{api.loc('Pantry')}", who="Member")
    detail = api.error(reply, 409, "conflict")
    assert "Spaghetti" in detail["message"]
    assert await api.snapshot() == before


async def test_deleting_an_empty_location_takes_its_zero_places_along(api):
    # The jam's place in a new cupboard, at zero.
    cupboard = await api.new_location("Cupboard")
    sku = await api.new_sku(api.item("jam"), cupboard, 0)
    reply = await api.delete(f"/location/{cupboard}", who="Member")
    assert reply.status == 204, reply
    api.error(await api.get(f"/location/{cupboard}"), 404)
    api.error(await api.get(f"/sku/{sku}"), 404)
    jam = (await api.get(f"/item/{api.item('jam')}")).json
    assert [s["location_name"] for s in jam["skus"]] == ["Pantry"]


async def test_emptying_a_location_moves_everything(api):
    reply = await api.post(
        f"/location/{api.loc('Pantry')}/empty", json={"into_location_id": api.loc("Shelf")}
    )
    assert reply.status == 200, reply
    assert (reply.json["moved"], reply.json["items"]) == (5, 1)
    spaghetti = (await api.get(f"/item/{api.item('spaghetti')}")).json
    assert {(s["location_name"], s["quantity"]) for s in spaghetti["skus"]} == {
        ("Pantry", 0),
        ("Shelf", 7),
    }
    assert spaghetti["total_quantity"] == 7
    assert (await api.delete(f"/location/{api.loc('Pantry')}")).status == 204


async def test_emptying_into_an_unknown_location_is_404_and_moves_nothing(api):
    before = await api.snapshot()
    reply = await api.post(
        f"/location/{api.loc('Pantry')}/empty", json={"into_location_id": str(uuid.uuid4())}
    )
    api.error(reply, 404)
    assert await api.snapshot() == before


@pytest.mark.parametrize("bad_id", [str(uuid.uuid4()), "pantry"])
async def test_unknown_or_malformed_location_id_is_404(api, bad_id):
    api.error(await api.get(f"/location/{bad_id}"), 404, "not_found")
    api.error(await api.patch(f"/location/{bad_id}", json={"details": "x"}), 404)
    api.error(await api.delete(f"/location/{bad_id}"), 404)
    api.error(await api.get(f"/qr/location/{bad_id}"), 404)
