"""Undo a stock change: the exact inverse, journalled, once; by Members and
Admins, or by the scanner that made it (REST and the scanned undo card)."""

from __future__ import annotations

import json

MILK_UPC = "4006381333931"
UNDO = json.dumps({"command": "undo"})


async def milk_total(api) -> int:
    return (await api.get(f"/item/{api.item('milk')}")).json["total_quantity"]


async def test_a_scanner_undoes_its_own_scan_once(api):
    before = await milk_total(api)
    scanned = await api.post("/scanner/scan", who="Scanner", json={"msg": MILK_UPC})
    assert scanned.status == 200, scanned
    assert await milk_total(api) == before + 1
    undone = await api.post(f"/stock-change/{scanned.json['change_id']}/undo", who="Scanner")
    assert undone.status == 200, undone
    assert (undone.json["delta"], undone.json["quantity_after"]) == (-1, before)
    assert await milk_total(api) == before
    history = api.page(await api.get(f"/item/{api.item('milk')}/history"))
    assert [change["delta"] for change in history[:2]] == [-1, 1]  # both journalled, newest first
    assert [change["username"] for change in history[:2]] == ["scanner-kitchen"] * 2  # and who made them
    again = await api.post(f"/stock-change/{scanned.json['change_id']}/undo", who="Member")
    assert api.error(again, 409)["message"] == "That change was already undone."
    assert await milk_total(api) == before


async def test_only_members_or_the_scanner_that_made_it(api):
    adjusted = await api.post(f"/sku/{api.sku('milk@Fridge')}/adjust", who="Member", json={"delta": 2})
    assert adjusted.status == 200
    history = api.page(await api.get(f"/item/{api.item('milk')}/history"))
    change_id = history[0]["id"]
    before = await milk_total(api)
    api.error(await api.post(f"/stock-change/{change_id}/undo", who="Scanner"), 403)
    api.error(await api.post(f"/stock-change/{change_id}/undo", who="Read-only"), 403)
    assert await milk_total(api) == before
    undone = await api.post(f"/stock-change/{change_id}/undo", who="Admin")
    assert undone.status == 200, undone
    assert await milk_total(api) == before - 2
    # The answer names who undid it, as the history does.
    [latest] = api.page(await api.get(f"/item/{api.item('milk')}/history", params={"limit": 1}))
    assert undone.json["username"] == latest["username"] == "alice"  # the seed's Admin


async def test_an_undo_that_would_go_below_zero_is_refused(api):
    scanned = await api.post("/scanner/scan", who="Scanner", json={"msg": MILK_UPC})
    fridge = api.sku("milk@Fridge")
    emptied = await api.patch(f"/sku/{fridge}", who="Member", json={"quantity": 0})
    assert emptied.status == 200, emptied
    refused = await api.post(f"/stock-change/{scanned.json['change_id']}/undo", who="Scanner")
    assert "Cannot undo" in api.error(refused, 409)["message"]
    assert (await api.get(f"/sku/{fridge}")).json["quantity"] == 0
    api.error(await api.post("/stock-change/00000000-0000-0000-0000-000000000000/undo"), 404)


async def test_the_undo_card_undoes_the_scanners_last_scans(api):
    before = await milk_total(api)
    for _ in range(2):
        assert (await api.post("/scanner/scan", who="Scanner", json={"msg": MILK_UPC})).status == 200
    first = await api.post("/scanner/scan", who="Scanner", json={"msg": UNDO})
    assert first.status == 200, first
    assert first.json["result"] == "undone" and first.json["quantity"] == before + 1
    second = await api.post("/scanner/scan", who="Scanner", json={"msg": UNDO})
    assert second.json["result"] == "undone" and await milk_total(api) == before
    nothing = await api.post("/scanner/scan", who="Scanner", json={"msg": UNDO})
    assert api.error(nothing, 409)["message"] == (
        "This scanner has made no change in the last 10 minutes that is left to undo.")
    assert await milk_total(api) == before


async def test_undoing_a_dated_add_takes_back_that_lot_or_nothing(api):
    """Undo is the exact inverse: it takes back the units the add brought,
    from their own lot; once that lot is gone it refuses and changes nothing
    (it never takes a unit of another date in their place)."""
    sku = await api.new_sku(await api.new_item("Yoghurt"), api.loc("Fridge"), 1)  # one undated unit
    first = await api.post(f"/sku/{sku}/adjust", json={"delta": 1, "best_before": "2026-12-10"})
    second = await api.post(f"/sku/{sku}/adjust", json={"delta": 1, "best_before": "2027-06-01"})
    assert second.status == 200, second
    undone = await api.post(f"/stock-change/{second.json['change_id']}/undo")
    assert undone.status == 200, undone  # the normal case: the lot is there, it goes
    assert (undone.json["delta"], undone.json["lots"]) == (-1, [["2027-06-01", -1]])

    await api.post(f"/sku/{sku}/adjust", json={"delta": 1, "best_before": "2027-06-01"})
    eaten = await api.post(f"/sku/{sku}/adjust", json={"delta": -1, "best_before": "2026-12-10"})
    assert eaten.status == 200, eaten
    snapshot = await api.snapshot("sku", "lot", "stock_change", "item")
    refused = await api.post(f"/stock-change/{first.json['change_id']}/undo")
    assert api.error(refused, 409)["message"] == (
        "Cannot undo: the unit it added, best before 10 Dec 2026, is no longer there to take back.")
    assert await api.snapshot("sku", "lot", "stock_change", "item") == snapshot
