"""Dates, Use soon, minimums and the shopping trip over HTTP (DESIGN.md
section 13): the shapes a client sees."""

from __future__ import annotations

from datetime import date, timedelta

GS = "\x1d"


async def test_dated_stock_shows_on_the_item_and_in_use_soon(api):
    soon = date.today() + timedelta(days=2)
    sku = api.sku("milk@Fridge")
    reply = await api.post(f"/sku/{sku}/adjust", json={"delta": 2, "best_before": soon.isoformat()})
    assert reply.status == 200, reply
    item = (await api.get(f"/item/{api.item('milk')}", who="Read-only")).json
    lots = next(s for s in item["skus"] if s["id"] == sku)["lots"]
    assert [{k: v for k, v in lot.items() if k != "id"} for lot in lots] == [
        {"best_before": soon.isoformat(), "quantity": 2}
    ]
    assert api.is_uuid(lots[0]["id"])

    listed = await api.get("/lot", who="Read-only", params={"expiring_within_days": 3})
    [row] = api.page(listed)
    assert row["item_name"] == "Whole Milk" and row["location_name"] == "Fridge"
    assert (row["days_left"], row["quantity"], row["best_before"]) == (2, 2, soon.isoformat())
    assert api.page(await api.get("/lot", params={"expiring_within_days": 1})) == []
    assert "expiring_within_days" in api.failing_fields(await api.get("/lot", params={"expiring_within_days": -1}))
    assert (await api.get("/lot", who="anonymous")).status == 401


async def test_a_gs1_scan_over_http_and_a_bad_date_is_422(api):
    use_by = date.today() + timedelta(days=5)
    await api.call("PUT", f"/scanner/{api.user('Scanner')}/state", json={"current_location_id": api.loc("Fridge")})
    reply = await api.post("/scanner/scan", who="Scanner",
                           json={"msg": f"]d20109501101530003{GS}10B7{GS}17{use_by:%y%m%d}"})
    assert reply.status == 200, reply
    assert reply.json["best_before"] == use_by.isoformat() and reply.json["item"]["upc"] == "9501101530003"

    before = await api.snapshot("sku", "lot", "stock_change", "item")
    bad = await api.post("/scanner/scan", who="Scanner", json={"msg": "]d2010950110153000317260231"})
    api.error(bad, 422)
    assert await api.snapshot("sku", "lot", "stock_change", "item") == before
    control = await api.post("/scanner/scan", who="Scanner", json={"msg": f"4006381{GS}333931"})
    api.error(control, 422)  # GS outside a GS1 code is still a control character

    dated = await api.post("/scanner/scan", who="Scanner", json={"msg": '{"command": "best_before", "payload": "+2w"}'})
    assert dated.json["result"] == "dated"
    assert dated.json["best_before"] == (date.today() + timedelta(weeks=2)).isoformat()


async def test_minimums_the_shopping_list_and_the_trip(api):
    milk = api.item("milk")
    reply = await api.patch(f"/item/{milk}", json={"min_quantity": 5})
    assert reply.json["min_quantity"] == 5
    assert "min_quantity" in api.failing_fields(await api.patch(f"/item/{milk}", json={"min_quantity": -1}))

    shopping = api.page(await api.get("/item", who="Read-only", params={"stock": "shopping"}))
    row = next(r for r in shopping if r["id"] == milk)
    assert (row["to_buy"], row["in_basket"]) == (2, False)  # 3 at home, 5 wanted

    assert (await api.patch(f"/item/{milk}", who="Read-only", json={"in_basket": True})).status == 403
    assert (await api.patch(f"/item/{milk}", who="Member", json={"in_basket": True})).json["in_basket"] is True
    await api.post(f"/sku/{api.sku('milk@Fridge')}/adjust", json={"delta": 1})
    assert (await api.get(f"/item/{milk}")).json["in_basket"] is False  # stock arrived: the tick went


async def test_dating_units_just_added_keeps_the_count(api):
    """The screen's quick choices after an add: undated units get a date,
    the count stays; more than are undated is a 409 that changes nothing."""
    sku = api.sku("milk@Fridge")
    soon = date.today() + timedelta(weeks=1)
    before = (await api.get(f"/sku/{sku}")).json["quantity"]
    reply = await api.post(f"/sku/{sku}/date", json={"best_before": soon.isoformat()})
    assert reply.status == 200, reply
    assert reply.json["quantity"] == before
    item = (await api.get(f"/item/{api.item('milk')}")).json
    lots = next(s for s in item["skus"] if s["id"] == sku)["lots"]
    assert [(lot["best_before"], lot["quantity"]) for lot in lots] == [(soon.isoformat(), 1)]

    # Right after an add, the dated unit is that add's: its history row names the date.
    await api.post(f"/sku/{sku}/adjust", json={"delta": 1})
    await api.post(f"/sku/{sku}/date", json={"best_before": soon.isoformat()})
    [latest] = api.page(await api.get(f"/item/{api.item('milk')}/history", params={"limit": 1}))
    assert (latest["delta"], latest["lots"]) == (1, [[soon.isoformat(), 1]])

    snapshot = await api.snapshot("sku", "lot")
    api.error(await api.post(f"/sku/{sku}/date", json={"best_before": soon.isoformat(), "quantity": before + 1}), 409)
    assert await api.snapshot("sku", "lot") == snapshot
    assert "best_before" in api.failing_fields(await api.post(f"/sku/{sku}/date", json={"best_before": "2026-02-30"}))
    assert (await api.post(f"/sku/{sku}/date", who="Read-only", json={"best_before": soon.isoformat()})).status == 403


async def test_a_wrong_date_is_mended_and_the_count_stays(api):
    """A wrong best-before tap: ``from_best_before`` moves units from that
    date's lot to the right date, or back to undated, in one change; more
    than that lot holds is a 409 that changes nothing."""
    sku, milk = api.sku("milk@Fridge"), api.item("milk")
    wrong, right = date.today() + timedelta(days=3), date.today() + timedelta(days=30)
    added = await api.post(f"/sku/{sku}/adjust", json={"delta": 2, "best_before": wrong.isoformat()})
    count = added.json["quantity"]

    async def lots() -> list[tuple[str, int]]:
        item = (await api.get(f"/item/{milk}")).json
        return [(lot["best_before"], lot["quantity"]) for lot in next(s for s in item["skus"] if s["id"] == sku)["lots"]]

    moved = await api.post(f"/sku/{sku}/date", json={
        "from_best_before": wrong.isoformat(), "best_before": right.isoformat(), "quantity": 1})
    assert moved.status == 200, moved
    assert moved.json["quantity"] == count
    assert await lots() == [(wrong.isoformat(), 1), (right.isoformat(), 1)]
    # The add just made holds those units: its history row follows, so undoing it takes the right lots.
    [latest] = api.page(await api.get(f"/item/{milk}/history", params={"limit": 1}))
    assert latest["lots"] == [[wrong.isoformat(), 1], [right.isoformat(), 1]]

    undated = await api.post(f"/sku/{sku}/date", json={"from_best_before": wrong.isoformat(), "best_before": None})
    assert undated.status == 200, undated
    assert undated.json["quantity"] == count
    assert await lots() == [(right.isoformat(), 1)]

    snapshot = await api.snapshot("sku", "lot", "stock_change")
    refused = api.error(await api.post(f"/sku/{sku}/date", json={
        "from_best_before": wrong.isoformat(), "best_before": right.isoformat()}), 409)
    assert refused["message"] == f"None of Whole Milk in Fridge is dated {wrong.day} {wrong:%b %Y}."
    too_many = api.error(await api.post(f"/sku/{sku}/date", json={
        "from_best_before": right.isoformat(), "best_before": None, "quantity": 2}), 409)
    assert too_many["message"] == f"Only 1 of Whole Milk in Fridge is dated {right.day} {right:%b %Y}."
    assert "best_before" in api.failing_fields(await api.post(f"/sku/{sku}/date", json={"best_before": None}))
    assert "best_before" in api.failing_fields(await api.post(f"/sku/{sku}/date", json={
        "from_best_before": right.isoformat(), "best_before": right.isoformat()}))
    assert await api.snapshot("sku", "lot", "stock_change") == snapshot

    undo = await api.post(f"/stock-change/{added.json['change_id']}/undo")
    assert undo.status == 200, undo
    assert await lots() == [] and undo.json["quantity_after"] == count - 2


async def test_a_tick_stands_only_while_the_item_is_on_the_list(api):
    """No tick for an item that is not on the shopping list (it would land
    straight in the basket once it drops onto the list); and a lower minimum
    that takes an item off the list takes its tick with it."""
    milk = api.item("milk")  # 3 at home, no minimum: not on the list
    before = await api.snapshot("item")
    refused = api.error(await api.patch(f"/item/{milk}", json={"in_basket": True}), 409)
    assert refused["message"] == "Whole Milk is not on the shopping list, so it cannot be ticked off."
    assert await api.snapshot("item") == before

    # Put on the list and ticked in one go: the tick holds.
    both = await api.patch(f"/item/{milk}", json={"min_quantity": 5, "in_basket": True})
    assert both.status == 200, both
    assert both.json["in_basket"] is True
    lowered = await api.patch(f"/item/{milk}", json={"min_quantity": 2})
    assert (lowered.json["min_quantity"], lowered.json["in_basket"]) == (2, False)  # off the list: tick gone
    # Dropping onto the list later, it is still to get, not already in the basket.
    await api.patch(f"/item/{milk}", json={"min_quantity": 4})
    shopping = api.page(await api.get("/item", params={"stock": "shopping"}))
    assert next(r for r in shopping if r["id"] == milk)["in_basket"] is False
    assert (await api.patch(f"/item/{milk}", json={"in_basket": False, "min_quantity": 0})).status == 200
