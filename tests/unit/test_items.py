"""Items: the lookup queue, the inventory and shopping-list views, deletion,
search and barcodes (DESIGN.md section 3)."""

from __future__ import annotations

import uuid

import pytest

from stocky.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from stocky.schemas.actor import SYSTEM


def names(page) -> list[str | None]:
    return [item.name for item in page.data]


# --- new barcodes are looked up in the background ---------------------------


async def test_item_with_only_a_barcode_is_pending_and_queued_for_lookup(services, member):
    item = await services.items.create({"upc": "4006381333931"}, member)

    assert item.name is None
    assert item.lookup_status == "pending"
    assert item.id in services.lookups
    assert len(services.lookups) == 1
    assert await services.items.pending_lookups(SYSTEM) == [item.id]


async def test_item_with_a_name_is_not_looked_up(services, member):
    item = await services.items.create({"name": "Milk", "upc": "4006381333931"}, member)

    assert item.lookup_status is None
    assert item.id not in services.lookups
    assert len(services.lookups) == 0


# --- what the inventory and the shopping list show --------------------------


async def test_items_at_zero_are_hidden_from_inventory_but_on_zero_and_all(
    services, member, locations
):
    pantry = locations["Pantry"]
    rice = await services.items.create({"name": "Rice"}, member)
    flour = await services.items.create({"name": "Flour"}, member)
    await services.skus.add_to(rice.id, pantry.id, 2, member)
    await services.skus.add_to(flour.id, pantry.id, 1, member)
    await services.skus.add_to(flour.id, pantry.id, -1, member)  # flour ran out

    inventory = await services.items.list(SYSTEM)  # default: stock "in"
    assert names(inventory) == ["Rice"]
    assert inventory.total == 1

    shopping = await services.items.list(SYSTEM, stock="zero")
    assert names(shopping) == ["Flour"]
    assert shopping.data[0].total_quantity == 0

    everything = await services.items.list(SYSTEM, stock="all")
    assert sorted(names(everything)) == ["Flour", "Rice"]
    assert everything.total == 2


async def test_zero_stock_view_lists_the_most_recently_emptied_first(services, member, locations):
    pantry = locations["Pantry"]
    never_stocked = await services.items.create({"name": "Saffron"}, member)
    items = {}
    for name in ("Apples", "Beans", "Cocoa"):
        items[name] = await services.items.create({"name": name}, member)
        await services.skus.add_to(items[name].id, pantry.id, 1, member)
    for name in ("Beans", "Apples", "Cocoa"):  # the order they ran out
        await services.skus.add_to(items[name].id, pantry.id, -1, member)

    shopping = await services.items.list(SYSTEM, stock="zero")

    assert names(shopping) == ["Cocoa", "Apples", "Beans", "Saffron"]
    assert never_stocked.id == shopping.data[-1].id


# --- deleting items ---------------------------------------------------------


async def test_member_cannot_delete_an_item(services, member):
    item = await services.items.create({"name": "Salt"}, member)

    with pytest.raises(PermissionDenied, match="Admin"):
        await services.items.delete(item.id, member)

    assert (await services.items.get(item.id, SYSTEM)).name == "Salt"


async def test_admin_cannot_delete_an_item_still_in_stock(services, admin, locations):
    item = await services.items.create({"name": "Salt"}, admin)
    await services.skus.add_to(item.id, locations["Pantry"].id, 3, admin)

    with pytest.raises(Conflict, match=r"Salt is still in stock \(3\)"):
        await services.items.delete(item.id, admin)

    detail = await services.items.get(item.id, SYSTEM)
    assert detail.total_quantity == 3
    assert [sku.quantity for sku in detail.skus] == [3]


async def test_admin_deletes_an_item_at_zero_and_its_skus_go_with_it(services, admin, locations):
    item = await services.items.create({"name": "Salt"}, admin)
    pantry_sku = (await services.skus.add_to(item.id, locations["Pantry"].id, 2, admin)).sku
    counter_sku = (await services.skus.add_to(item.id, locations["Counter"].id, 0, admin)).sku
    await services.skus.adjust(pantry_sku.id, {"delta": -2}, admin)

    await services.items.delete(item.id, admin)

    with pytest.raises(NotFound):
        await services.items.get(item.id, SYSTEM)
    for sku_id in (pantry_sku.id, counter_sku.id):
        with pytest.raises(NotFound):
            await services.skus.get(sku_id, SYSTEM)
    assert (await services.skus.list(SYSTEM)).total == 0
    assert (await services.items.list(SYSTEM, stock="all")).total == 0
    # The locations themselves stay.
    assert (await services.locations.list(SYSTEM)).total == 4


# --- search -----------------------------------------------------------------


@pytest.fixture
async def pantry_items(services, member):
    return {
        "milk": await services.items.create(
            {"name": "Whole Milk", "description": "3.5% fat", "upc": "4006381333931"}, member
        ),
        "oats": await services.items.create(
            {"name": "Rolled Oats", "description": "Breakfast_cereal, organic"}, member
        ),
        "beans": await services.items.create(
            {"name": "Baked Beans", "description": "In tomato sauce", "upc": "5000157024671"}, member
        ),
    }


async def search(services, text: str) -> set[str]:
    page = await services.items.list(SYSTEM, search=text, stock="all")
    assert page.total == len(page.data)
    return {item.name for item in page.data}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("milk", {"Whole Milk"}),  # name, other case
        ("OATS", {"Rolled Oats"}),  # name, upper case
        ("aked bea", {"Baked Beans"}),  # substring in the middle
        ("TOMATO", {"Baked Beans"}),  # description
        ("breakfast", {"Rolled Oats"}),  # description, other case
        ("63813339", {"Whole Milk"}),  # part of a barcode
        ("5000157024671", {"Baked Beans"}),  # a whole barcode
        ("e", {"Whole Milk", "Rolled Oats", "Baked Beans"}),
        ("chocolate", set()),
    ],
)
async def test_search_matches_name_description_and_barcode(
    services, pantry_items, text, expected
):
    assert await search(services, text) == expected


async def test_search_matches_an_item_id_whole_or_in_part_in_any_case(services, pantry_items):
    oats_id = str(pantry_items["oats"].id)

    assert await search(services, oats_id) == {"Rolled Oats"}
    assert await search(services, oats_id.upper()) == {"Rolled Oats"}
    assert await search(services, oats_id[9:23]) == {"Rolled Oats"}


async def test_search_treats_percent_and_underscore_literally(services, pantry_items, member):
    await services.items.create({"name": "Rice 5 kg", "description": "35 grains"}, member)

    assert await search(services, "5%") == {"Whole Milk"}  # not "5 anything"
    assert await search(services, "%") == {"Whole Milk"}
    assert await search(services, "t_c") == {"Rolled Oats"}  # "Breakfast_cereal"
    assert await search(services, "_") == {"Rolled Oats"}
    assert await search(services, "\\") == set()


async def test_search_respects_the_stock_filter(services, pantry_items, member, locations):
    await services.skus.add_to(pantry_items["milk"].id, locations["Fridge"].id, 1, member)

    assert {i.name for i in (await services.items.list(SYSTEM, search="e")).data} == {"Whole Milk"}
    assert {i.name for i in (await services.items.list(SYSTEM, search="e", stock="zero")).data} == {
        "Rolled Oats",
        "Baked Beans",
    }


async def test_search_is_case_insensitive_beyond_ascii(services, member):
    await services.items.create({"name": "Äpfel", "description": "GRÜNE SORTE"}, member)

    assert await search(services, "äpfel") == {"Äpfel"}
    assert await search(services, "grüne") == {"Äpfel"}


# --- barcodes ----------------------------------------------------------------


async def test_barcodes_are_trimmed(services, member):
    item = await services.items.create({"name": "Tea", "upc": "  4006381333931 \t"}, member)

    assert item.upc == "4006381333931"
    found = await services.items.by_upc(" 4006381333931  ", SYSTEM)
    assert found is not None and found.id == item.id


async def test_a_barcode_may_be_any_printable_text_up_to_48_characters(services, member):
    longest = "X" * 48
    item = await services.items.create({"upc": longest}, member)
    assert item.upc == longest
    odd = await services.items.create({"upc": "ABC-123/ä é"}, member)
    assert odd.upc == "ABC-123/ä é"
    single = await services.items.create({"upc": "7"}, member)
    assert single.upc == "7"


@pytest.mark.parametrize(
    "bad",
    ["X" * 49, "   ", "", "abc\x00def", "line\nbreak", "bell\x07"],
    ids=["49-chars", "blank", "empty", "nul", "newline", "control-char"],
)
async def test_bad_barcodes_are_refused(services, member, db_snapshot, bad):
    before = await db_snapshot()

    with pytest.raises(InvalidInput) as caught:
        await services.items.create({"name": "Thing", "upc": bad}, member)

    assert "upc" in [f["field"] for f in caught.value.fields]
    assert "upc" in caught.value.message
    assert await db_snapshot() == before
    with pytest.raises(InvalidInput, match="printable"):
        await services.items.by_upc(bad, SYSTEM)


async def test_upc_a_is_stored_as_ean_13(services, member):
    item = await services.items.create({"name": "Cola", "upc": "036000291452"}, member)

    assert item.upc == "0036000291452"


@pytest.mark.parametrize(
    ("first", "second"),
    [("036000291452", "0036000291452"), ("0036000291452", "036000291452")],
    ids=["upc-a-then-ean-13", "ean-13-then-upc-a"],
)
async def test_upc_a_and_ean_13_with_leading_zero_are_the_same_product(
    services, member, db_snapshot, first, second
):
    cola = await services.items.create({"name": "Cola", "upc": first}, member)
    before = await db_snapshot()

    with pytest.raises(Conflict, match="0036000291452 already belongs to Cola"):
        await services.items.create({"name": "Other cola", "upc": second}, member)

    assert await db_snapshot() == before
    for code in (first, second):
        found = await services.items.by_upc(code, SYSTEM)
        assert found is not None and found.id == cola.id


async def test_by_upc_returns_none_for_an_unknown_barcode(services, member):
    await services.items.create({"name": "Cola", "upc": "036000291452"}, member)

    assert await services.items.by_upc("036000291453", SYSTEM) is None


async def test_changing_an_items_barcode_to_one_in_use_is_a_conflict(services, member):
    await services.items.create({"name": "Cola", "upc": "036000291452"}, member)
    tea = await services.items.create({"name": "Tea", "upc": "4006381333931"}, member)

    with pytest.raises(Conflict, match="already belongs to Cola"):
        await services.items.update(tea.id, {"upc": "0036000291452"}, member)

    assert (await services.items.get(tea.id, SYSTEM)).upc == "4006381333931"


async def test_unknown_item_id_is_not_found(services, admin):
    missing = uuid.uuid4()
    with pytest.raises(NotFound, match=str(missing)):
        await services.items.get(missing, SYSTEM)
    with pytest.raises(NotFound):
        await services.items.update(missing, {"name": "x"}, admin)
    with pytest.raises(NotFound):
        await services.items.delete(missing, admin)
    with pytest.raises(NotFound):
        await services.items.history(missing, SYSTEM)
