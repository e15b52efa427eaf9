"""Moving everything in a place is one change that Undo reverses exactly
(DESIGN.md sections 12 and 13): the answer says what moved where and names
the change; undoing it puts every unit back where it was, with its date,
once; and it refuses, changing nothing, once some units moved on or were
eaten. Over a real SQLite file and a real PostgreSQL database (what /ws
clients see of it: tests/integration/test_ws.py)."""

from __future__ import annotations

import pytest

PEAS_DAY, ICE_DAY = "2027-02-01", "2027-03-01"
JOURNAL = ("sku", "lot", "stock_change", "item", "location")


async def dated(api, sku: str, count: int, day: str | None = None) -> None:
    body = {"delta": count, **({"best_before": day} if day else {})}
    reply = await api.post(f"/sku/{sku}/adjust", json=body)
    assert reply.status == 200, reply


@pytest.fixture
async def kitchen(api) -> dict[str, str]:
    """A chest freezer holding peas (two dated, one not), ice cream (two
    dates) and bread (undated); a cold room that already holds peas of the
    same date and bread."""
    chest, cold = await api.new_location("Chest freezer"), await api.new_location("Cold room")
    ids = {"chest": chest, "cold": cold}
    for name in ("Peas", "Ice cream", "Bread"):
        ids[name] = await api.new_item(name)
    peas = await api.new_sku(ids["Peas"], chest, 1)  # one undated pea bag
    await dated(api, peas, 2, PEAS_DAY)
    ice = await api.new_sku(ids["Ice cream"], chest, 0)
    await dated(api, ice, 1, PEAS_DAY)
    await dated(api, ice, 1, ICE_DAY)
    await api.new_sku(ids["Bread"], chest, 2)
    cold_peas = await api.new_sku(ids["Peas"], cold, 0)
    await dated(api, cold_peas, 1, PEAS_DAY)
    await api.new_sku(ids["Bread"], cold, 1)
    return ids


async def places(api, kitchen) -> dict[str, dict[str, tuple[int, list]]]:
    """Per item, what each place holds: (quantity, [(best before, count), ...]).
    A place left at 0 holds nothing (its SKU stays, DESIGN.md section 3)."""
    held = {}
    for name in ("Peas", "Ice cream", "Bread"):
        item = (await api.get(f"/item/{kitchen[name]}")).json
        held[name] = {sku["location_name"]: (sku["quantity"], [(lot["best_before"], lot["quantity"])
                                                              for lot in sku["lots"]])
                      for sku in item["skus"] if sku["quantity"]}
    return held


async def move_everything(api, kitchen) -> dict:
    reply = await api.post(f"/location/{kitchen['chest']}/empty", json={"into_location_id": kitchen["cold"]})
    assert reply.status == 200, reply
    return reply.json


async def test_moving_everything_answers_what_moved_and_its_undo_puts_it_all_back(api, kitchen):
    before = await places(api, kitchen)
    moved = await move_everything(api, kitchen)
    assert {key: value for key, value in moved.items() if key != "change_id"} == {
        "moved": 7, "items": 3,
        "from_location_id": kitchen["chest"], "from_location_name": "Chest freezer",
        "into_location_id": kitchen["cold"], "into_location_name": "Cold room",
    }
    assert await places(api, kitchen) == {
        "Peas": {"Cold room": (4, [(PEAS_DAY, 3)])},
        "Ice cream": {"Cold room": (2, [(PEAS_DAY, 1), (ICE_DAY, 1)])},
        "Bread": {"Cold room": (3, [])},
    }

    undone = await api.post(f"/stock-change/{moved['change_id']}/undo")
    assert undone.status == 200, undone
    assert await places(api, kitchen) == before  # the dated peas left the shared lot, the rest as it was
    # The journal shows each item's move and its undo, newest first.
    peas = api.page(await api.get(f"/item/{kitchen['Peas']}/history", params={"limit": 4}))
    assert [(row["location_name"], row["delta"]) for row in peas] == [
        ("Chest freezer", 3), ("Cold room", -3), ("Cold room", 3), ("Chest freezer", -3)]
    assert {row["scan_id"] for row in peas[:2]} == {f"undo:{row['id']}" for row in peas[2:]}
    # One change: every item's rows share a group; the answer named its first row.
    bread = api.page(await api.get(f"/item/{kitchen['Bread']}/history", params={"limit": 4}))
    assert bread[3]["id"] == moved["change_id"]
    assert {row["group_id"] for row in peas[2:] + bread[2:]} == {bread[3]["group_id"]} != {None}

    snapshot = await api.snapshot(*JOURNAL)
    again = await api.post(f"/stock-change/{moved['change_id']}/undo")
    assert api.error(again, 409)["message"] == "That change was already undone."
    other_row = await api.post(f"/stock-change/{bread[2]['id']}/undo")  # any row of the move: the same change
    assert api.error(other_row, 409)["message"] == "That change was already undone."
    assert await api.snapshot(*JOURNAL) == snapshot


async def test_undo_by_any_row_of_the_move_reverses_the_whole_move(api, kitchen):
    before = await places(api, kitchen)
    await move_everything(api, kitchen)
    [bread_in] = api.page(await api.get(f"/item/{kitchen['Bread']}/history", params={"limit": 1}))
    undone = await api.post(f"/stock-change/{bread_in['id']}/undo")
    assert undone.status == 200, undone
    # The answer is the inverse of the row named: the bread leaving the cold room.
    assert (undone.json["location_name"], undone.json["delta"], undone.json["quantity_after"]) == ("Cold room", -2, 1)
    assert await places(api, kitchen) == before


async def test_moving_one_place_of_one_item_is_undone_whole_too(api, kitchen):
    peas = (await api.get(f"/item/{kitchen['Peas']}")).json
    chest_peas = next(sku["id"] for sku in peas["skus"] if sku["location_name"] == "Chest freezer")
    before = await places(api, kitchen)
    moved = await api.post(f"/sku/{chest_peas}/move", json={"location_id": kitchen["cold"], "quantity": 2})
    assert moved.status == 200, moved
    assert (moved.json["source"]["quantity"], moved.json["target"]["quantity"]) == (1, 3)
    undone = await api.post(f"/stock-change/{moved.json['change_id']}/undo")
    assert undone.status == 200, undone
    assert await places(api, kitchen) == before


async def take_an_ice_cream(api, kitchen) -> None:
    ice = (await api.get(f"/item/{kitchen['Ice cream']}")).json
    cold_ice = next(sku["id"] for sku in ice["skus"] if sku["location_name"] == "Cold room")
    eaten = await api.post(f"/sku/{cold_ice}/adjust", json={"delta": -1, "best_before": ICE_DAY})
    assert eaten.status == 200, eaten


async def move_an_ice_cream_on(api, kitchen) -> None:
    ice = (await api.get(f"/item/{kitchen['Ice cream']}")).json
    cold_ice = next(sku["id"] for sku in ice["skus"] if sku["location_name"] == "Cold room")
    counter = await api.new_location("Counter top")
    moved = await api.post(f"/sku/{cold_ice}/move", json={"location_id": counter, "quantity": 2})
    assert moved.status == 200, moved


@pytest.mark.parametrize(("meanwhile", "gone"), [
    (take_an_ice_cream, "the unit it added, best before 1 Mar 2027, is"),
    (move_an_ice_cream_on, "the unit it added, best before 1 Feb 2027, is"),
], ids=["eaten", "moved_on"])
async def test_undo_once_a_moved_unit_is_gone_is_refused_and_changes_nothing(api, kitchen, meanwhile, gone):
    moved = await move_everything(api, kitchen)
    await meanwhile(api, kitchen)
    snapshot = await api.snapshot(*JOURNAL)
    refused = await api.post(f"/stock-change/{moved['change_id']}/undo")
    assert api.error(refused, 409)["message"] == (
        f"Cannot undo: Ice cream in Cold room: {gone} no longer there to take back.")
    assert await api.snapshot(*JOURNAL) == snapshot  # not even the peas and bread went back
