"""/item: the inventory, the shopping list, item pages, and product lookups."""

from __future__ import annotations

import uuid

import pytest

ITEM_KEYS = {
    "id",
    "name",
    "description",
    "upc",
    "storage_type",
    "lookup_status",
    "total_quantity",
    "updated_at",
}


def assert_item(api, item: dict) -> None:
    assert ITEM_KEYS <= set(item), item
    assert api.is_uuid(item["id"])
    assert api.is_timestamp(item["updated_at"]), item["updated_at"]
    assert isinstance(item["total_quantity"], int) and item["total_quantity"] >= 0


def names(rows: list[dict]) -> list[str]:
    return [row["name"] for row in rows]


# -- GET /item ----------------------------------------------------------------


async def test_inventory_lists_only_what_is_in_stock_by_name(api):
    rows = api.page(await api.get("/item", who="Read-only"))
    assert names(rows) == ["Spaghetti", "Whole Milk"]
    for row in rows:
        assert_item(api, row)
    spaghetti = rows[0]
    assert spaghetti["total_quantity"] == 7
    assert spaghetti["upc"] == "8076802085738"
    assert spaghetti["storage_type"] == "Ambient"


async def test_stock_filter_zero_is_the_shopping_list_newest_first(api):
    rows = api.page(await api.get("/item", params={"stock": "zero"}))
    assert set(names(rows)) == {"Strawberry Jam", "Basmati Rice"}
    assert all(row["total_quantity"] == 0 for row in rows)

    # Milk runs out now: it tops the shopping list.
    reply = await api.post(f"/sku/{api.sku('milk@Fridge')}/adjust", json={"delta": -3})
    assert reply.status == 200, reply
    rows = api.page(await api.get("/item", params={"stock": "zero"}))
    assert names(rows)[0] == "Whole Milk"
    assert len(rows) == 3
    assert "Whole Milk" not in names(api.page(await api.get("/item")))


async def test_stock_filter_all_lists_both(api):
    reply = await api.get("/item", params={"stock": "all"})
    rows = api.page(reply)
    assert set(names(rows)) == {"Spaghetti", "Whole Milk", "Strawberry Jam", "Basmati Rice"}
    assert reply.json["total"] == 4


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("milk", {"Whole Milk"}),
        ("MILK", {"Whole Milk"}),
        ("wheat", {"Spaghetti"}),  # description
        ("802085", {"Spaghetti"}),  # part of the barcode
        ("i", {"Whole Milk", "Spaghetti"}),
        ("%", {"Whole Milk"}),  # a plain character: only "3.5% fat" has one
        ("_", set()),
        ("nothing like this", set()),
    ],
)
async def test_search_matches_name_description_and_barcode(api, search, expected):
    rows = api.page(await api.get("/item", params={"search": search}))
    assert set(names(rows)) == expected


async def test_search_matches_the_id_and_combines_with_the_stock_filter(api):
    jam = api.item("jam")
    assert (
        api.page(await api.get("/item", params={"search": jam[:13]})) == []
    )  # jam is out of stock
    rows = api.page(await api.get("/item", params={"search": jam[:13].upper(), "stock": "all"}))
    assert [row["id"] for row in rows] == [jam]


async def test_limit_and_offset_page_through_everything(api):
    for n in range(7):
        item = await api.new_item(f"Tin {n}")
        await api.new_sku(item, api.loc("Pantry"), 1)
    seen = []
    for offset in range(0, 9, 4):
        reply = await api.get("/item", params={"limit": 4, "offset": offset})
        rows = api.page(reply)
        assert reply.json["total"] == 9  # the full count, not the page
        assert len(rows) == min(4, 9 - offset)
        seen += names(rows)
    assert len(seen) == 9 and len(set(seen)) == 9
    assert seen == sorted(seen, key=str.lower)
    past_the_end = await api.get("/item", params={"limit": 4, "offset": 100})
    assert api.page(past_the_end) == [] and past_the_end.json["total"] == 9


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"stock": "some"}, "stock"),
        ({"search": "x" * 201}, "search"),
        ({"search": "milk\x00"}, "search"),  # PostgreSQL cannot even compare it
    ],
)
async def test_bad_query_parameters_are_422_naming_the_parameter(api, params, field):
    reply = await api.get("/item", params=params)
    assert field in api.failing_fields(reply)


# -- POST /item -----------------------------------------------------------------


async def test_create_returns_201_and_the_item(api):
    reply = await api.post(
        "/item",
        who="Member",
        json={
            "name": "  Oat Milk ",
            "description": "Barista edition",
            "storage_type": "Refrigerated",
        },
    )
    assert reply.status == 201, reply
    item = reply.json
    assert_item(api, item)
    assert item["name"] == "Oat Milk"
    assert item["total_quantity"] == 0
    assert item["lookup_status"] is None  # named by a person: nothing to look up
    assert uuid.UUID(item["id"]) not in api.services.lookups
    fetched = await api.get(f"/item/{item['id']}")
    assert fetched.status == 200 and fetched.json["name"] == "Oat Milk"


async def test_create_with_only_a_barcode_queues_a_lookup(api):
    reply = await api.post("/item", json={"upc": " 036000291452 "})
    assert reply.status == 201, reply
    item = reply.json
    assert item["name"] is None
    assert item["upc"] == "0036000291452"  # UPC-A kept as its EAN-13 form
    assert item["lookup_status"] == "pending"
    assert uuid.UUID(item["id"]) in api.services.lookups


@pytest.mark.parametrize("upc", [" 4006381333931", "4006381333931 "])
async def test_a_barcode_that_exists_is_409(api, upc):
    before = await api.snapshot()
    reply = await api.post("/item", json={"name": "Another milk", "upc": upc})
    api.error(reply, 409, "conflict")
    assert "Whole Milk" in reply.json["error"]["message"]
    assert await api.snapshot() == before


async def test_upc_a_and_ean_13_of_one_product_are_the_same_barcode(api):
    assert (await api.post("/item", json={"name": "Cola", "upc": "0049000028911"})).status == 201
    api.error(await api.post("/item", json={"name": "Cola again", "upc": "049000028911"}), 409)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Tea", "storage_type": "Warm"}, "storage_type"),
        ({"name": "x" * 256}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "Tea", "upc": "a" * 49}, "upc"),
        ({"name": "Tea", "upc": "12\n34"}, "upc"),
        ({"name": "Tea", "colour": "green"}, "colour"),
        ({"name": 42}, "name"),
        ({"name": "Te\x00a"}, "name"),  # PostgreSQL cannot store it; refused on both
        ({"name": "Tea", "description": "green\x00"}, "description"),
    ],
    ids=[
        "storage-type",
        "name-too-long",
        "name-blank",
        "upc-too-long",
        "upc-control-char",
        "unknown-field",
        "name-number",
        "name-nul",
        "description-nul",
    ],
)
async def test_create_validation_names_the_failing_field(api, body, field):
    before = await api.snapshot()
    reply = await api.post("/item", json=body)
    assert field in api.failing_fields(reply)
    assert await api.snapshot() == before


async def test_create_needs_a_name_or_a_barcode(api):
    reply = await api.post("/item", json={"description": "mystery"})
    api.failing_fields(reply)
    assert "name or a barcode" in reply.json["error"]["message"]


async def test_create_with_a_json_array_is_422(api):
    api.failing_fields(await api.post("/item", json=["Tea"]))


# -- GET /item/{id} -------------------------------------------------------------


async def test_item_page_has_total_and_stock_per_location(api):
    reply = await api.get(f"/item/{api.item('spaghetti')}", who="Read-only")
    assert reply.status == 200, reply
    item = reply.json
    assert_item(api, item)
    assert item["total_quantity"] == 7
    skus = item["skus"]
    assert [(s["location_name"], s["quantity"]) for s in skus] == [("Pantry", 5), ("Shelf", 2)]
    for sku in skus:
        assert set(sku) >= {"id", "location_id", "location_name", "quantity", "updated_at"}
        assert api.is_uuid(sku["id"]) and api.is_uuid(sku["location_id"])
        assert api.is_timestamp(sku["updated_at"])
    assert {s["location_id"] for s in skus} == {api.loc("Pantry"), api.loc("Shelf")}


async def test_an_out_of_stock_item_keeps_its_zero_place(api):
    item = (await api.get(f"/item/{api.item('jam')}")).json
    assert item["total_quantity"] == 0
    assert [(s["location_name"], s["quantity"]) for s in item["skus"]] == [("Pantry", 0)]
    rice = (await api.get(f"/item/{api.item('rice')}")).json
    assert rice["skus"] == []


@pytest.mark.parametrize("bad_id", [str(uuid.uuid4()), "not-an-id", "123", "%20"])
async def test_unknown_or_malformed_item_id_is_404(api, bad_id):
    for path in (f"/item/{bad_id}", f"/item/{bad_id}/history", f"/qr/item/{bad_id}"):
        api.error(await api.get(path), 404, "not_found")


# -- PATCH /item/{id} -----------------------------------------------------------


async def test_patch_changes_only_the_fields_sent(api):
    milk = api.item("milk")
    reply = await api.patch(f"/item/{milk}", who="Member", json={"description": "Organic"})
    assert reply.status == 200, reply
    assert reply.json["description"] == "Organic"
    assert reply.json["name"] == "Whole Milk"
    assert reply.json["upc"] == "4006381333931"
    assert reply.json["total_quantity"] == 3
    assert (await api.get(f"/item/{milk}")).json["description"] == "Organic"


async def test_patch_to_a_barcode_of_another_item_is_409(api):
    before = await api.snapshot()
    reply = await api.patch(f"/item/{api.item('jam')}", json={"upc": "4006381333931"})
    api.error(reply, 409)
    assert await api.snapshot() == before
    # Its own barcode again is no conflict.
    same = await api.patch(f"/item/{api.item('milk')}", json={"upc": "4006381333931"})
    assert same.status == 200, same


async def test_patch_cannot_leave_an_item_without_name_and_barcode(api):
    before = await api.snapshot()
    # The jam has no barcode: its name is all that identifies it.
    assert "name" in api.failing_fields(
        await api.patch(f"/item/{api.item('jam')}", json={"name": None})
    )
    assert await api.snapshot() == before
    # Nor is a name emptied where there is a barcode: the milk would show as a bare code.
    for empty in (None, "", "   "):
        assert "name" in api.failing_fields(
            await api.patch(f"/item/{api.item('milk')}", json={"name": empty})
        )
    assert await api.snapshot() == before


async def test_search_folds_case_beyond_ascii(api):
    await api.new_sku(await api.new_item("Äpfel aus Südtirol"), api.loc("Pantry"), 2)
    for search in ("äpfel", "ÄPFEL", "SÜDTIROL"):
        rows = api.page(await api.get("/item", params={"search": search}))
        assert [r["name"] for r in rows] == ["Äpfel aus Südtirol"], search


async def test_patch_with_a_bad_value_is_422(api):
    assert "storage_type" in api.failing_fields(
        await api.patch(f"/item/{api.item('milk')}", json={"storage_type": "Hot"})
    )


# -- DELETE /item/{id} ----------------------------------------------------------


async def test_admin_deletes_an_item_at_zero_and_its_places_go_too(api):
    jam = api.item("jam")
    reply = await api.delete(f"/item/{jam}", who="Admin")
    assert reply.status == 204, reply
    assert reply.body == b""
    api.error(await api.get(f"/item/{jam}"), 404)
    api.error(await api.get(f"/sku/{api.sku('jam@Pantry')}"), 404)
    assert api.page(await api.get("/sku", params={"item_id": jam})) == []
    api.error(await api.delete(f"/item/{jam}"), 404)  # gone is gone


async def test_an_item_in_stock_cannot_be_deleted(api):
    before = await api.snapshot()
    reply = await api.delete(f"/item/{api.item('milk')}", who="Admin")
    detail = api.error(reply, 409, "conflict")
    assert "stock" in detail["message"]
    assert await api.snapshot() == before


@pytest.mark.parametrize("who", ["Member", "Read-only", "Scanner"])
async def test_only_an_admin_deletes_items(api, who):
    before = await api.snapshot()
    api.error(await api.delete(f"/item/{api.item('jam')}", who=who), 403, "forbidden")
    assert await api.snapshot() == before


# -- POST /item/{id}/refresh, GET /item/{id}/history ------------------------------


async def test_refresh_answers_202_and_queues_the_lookup(api):
    milk = api.item("milk")
    assert uuid.UUID(milk) not in api.services.lookups
    reply = await api.post(f"/item/{milk}/refresh", who="Member")
    assert reply.status == 202, reply
    assert reply.json["id"] == milk
    assert reply.json["lookup_status"] == "pending"
    assert uuid.UUID(milk) in api.services.lookups
    assert (await api.get(f"/item/{milk}")).json["lookup_status"] == "pending"


async def test_refresh_of_an_item_without_barcode_is_409(api):
    reply = await api.post(f"/item/{api.item('rice')}/refresh")
    api.error(reply, 409)
    assert uuid.UUID(api.item("rice")) not in api.services.lookups


async def test_history_lists_stock_changes_newest_first(api):
    sku = api.sku("milk@Fridge")
    for delta in (2, -1, 4):
        assert (await api.post(f"/sku/{sku}/adjust", json={"delta": delta})).status == 200
    reply = await api.get(f"/item/{api.item('milk')}/history", who="Read-only")
    rows = api.page(reply)
    assert [(r["delta"], r["quantity_after"]) for r in rows] == [(4, 8), (-1, 4), (2, 5), (3, 3)]
    assert all(r["location_name"] == "Fridge" for r in rows)
    assert rows[0]["user_id"] == api.user("Admin")
    assert rows[0]["source"] == "api"
    stamps = [r["timestamp"] for r in rows]
    assert all(api.is_timestamp(s) for s in stamps)
    limited = api.page(await api.get(f"/item/{api.item('milk')}/history", params={"limit": 2}))
    assert [r["delta"] for r in limited] == [4, -1]
