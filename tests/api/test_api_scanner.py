"""/scanner: a scan over HTTP, the scanners' states, and setting them by hand."""

from __future__ import annotations

import json
import uuid

import pytest

MILK_UPC = "4006381333931"
# What a refused scan must leave alone. (Whether it still counts as the
# scanner's "last scan" is the scanner's business: the user table is left out.)
STOCK_TABLES = ("item", "location", "sku", "stock_change", "alert")


def scan(api, msg: str, who: str = "Scanner", **extra):
    return api.post("/scanner/scan", who=who, json={"msg": msg, **extra})


async def scanner_state(api, scanner_id: str | None = None) -> dict:
    rows = api.page(await api.get("/scanner/status"))
    return next(r for r in rows if r["id"] == (scanner_id or api.user("Scanner")))


async def test_a_barcode_scan_adds_one_where_the_item_lives(api):
    reply = await scan(api, MILK_UPC)
    assert reply.status == 200, reply
    body = reply.json
    assert body["result"] == "added"
    assert body["message"] == "Added Whole Milk to Fridge (now 4)"
    assert body["quantity"] == 4
    assert body["item"]["id"] == api.item("milk") and body["item"]["total_quantity"] == 4
    assert body["location"]["id"] == api.loc("Fridge")
    assert body["scanner"]["id"] == api.user("Scanner")
    assert api.is_timestamp(body["scanner"]["last_scan_timestamp"])
    history = api.page(await api.get(f"/item/{api.item('milk')}/history"))
    assert (history[0]["delta"], history[0]["source"], history[0]["user_id"]) == (
        1,
        "scan",
        api.user("Scanner"),
    )


async def test_a_location_label_then_remove_mode(api):
    pantry_label = json.dumps({"command": "set_location", "payload": api.loc("Pantry")})
    reply = await scan(api, pantry_label)
    assert reply.status == 200 and reply.json["result"] == "location", reply
    reply = await scan(api, json.dumps({"command": "set_mode", "payload": "remove"}))
    assert reply.status == 200 and reply.json["scanner"]["current_mode"] == "remove", reply
    reply = await scan(api, "8076802085738")  # spaghetti: 5 in the pantry, 2 on the shelf
    assert reply.status == 200, reply
    assert reply.json["result"] == "removed"
    assert reply.json["message"] == "Removed Spaghetti from Pantry (now 4)"
    state = await scanner_state(api)
    assert (state["current_mode"], state["current_location_id"]) == ("remove", api.loc("Pantry"))


async def test_a_person_who_scans_is_listed_and_set_like_a_scanner(api):
    rows = api.page(await api.get("/scanner/status"))
    assert api.user("Member") not in {r["id"] for r in rows}  # has never scanned
    reply = await scan(api, json.dumps({"command": "set_location", "payload": api.loc("Pantry")}), who="Member")
    assert reply.status == 200, reply
    state = await scanner_state(api, api.user("Member"))
    assert state["current_location_id"] == api.loc("Pantry")  # where a phone's scans go, on show
    reply = await api.call("PUT", f"/scanner/{api.user('Member')}/state", json={"current_mode": "remove"})
    assert reply.status == 200, reply
    assert (await scanner_state(api, api.user("Member")))["current_mode"] == "remove"


async def test_an_item_label_is_the_items_barcode(api):
    reply = await scan(api, api.item("milk"))
    assert reply.status == 200 and reply.json["quantity"] == 4, reply


async def test_a_new_barcode_creates_an_item_and_queues_its_lookup(api):
    await scan(api, json.dumps({"command": "set_location", "payload": api.loc("Pantry")}))
    reply = await scan(api, "5000119025219")
    assert reply.status == 200, reply
    item = reply.json["item"]
    assert reply.json["created"] is True
    assert (item["name"], item["upc"], item["lookup_status"]) == (None, "5000119025219", "pending")
    assert uuid.UUID(item["id"]) in api.services.lookups


async def test_the_same_scan_id_counts_once(api):
    first = await scan(api, MILK_UPC, scan_id="mqtt-1")
    again = await scan(api, MILK_UPC, scan_id="mqtt-1")
    assert first.status == again.status == 200
    assert again.json["result"] == "duplicate"
    assert (await api.get(f"/sku/{api.sku('milk@Fridge')}")).json["quantity"] == 4


async def test_people_who_change_stock_can_scan(api):
    reply = await scan(api, MILK_UPC, who="Member")
    assert reply.status == 200 and reply.json["scanner"]["username"] == "bob", reply
    api.error(await scan(api, MILK_UPC, who="Read-only"), 403)


@pytest.mark.parametrize(
    "msg",
    [
        '{"command": "set_mode", "payload": "sideways"}',
        '{"command": "launch", "payload": "x"}',
        '{"command": "set_location", "payload": "Pantry"}',
        '{"command": ',
        "   ",
        "milk\x07",
    ],
    ids=[
        "bad-mode",
        "unknown-command",
        "location-not-an-id",
        "broken-json",
        "blank",
        "control-char",
    ],
)
async def test_a_bad_scan_is_422_and_changes_nothing(api, msg):
    state = await scanner_state(api)
    before = await api.snapshot(*STOCK_TABLES)
    reply = await scan(api, msg)
    api.error(reply, 422, "validation_error")
    assert await api.snapshot(*STOCK_TABLES) == before
    after = await scanner_state(api)
    assert (after["current_mode"], after["current_location_id"]) == (
        state["current_mode"],
        state["current_location_id"],
    )
    # ... and a WARN entry in the log, by the scanner's name (DESIGN.md section 4).
    warnings = api.page(await api.get("/log", params={"severity": "WARN"}))
    assert warnings and warnings[0]["source"] == "scanner-kitchen"


async def test_an_unknown_id_is_404(api):
    before = await api.snapshot(*STOCK_TABLES)
    api.error(await scan(api, str(uuid.uuid4())), 404)
    assert await api.snapshot(*STOCK_TABLES) == before


async def test_removing_what_is_not_there_is_409(api):
    await scan(api, json.dumps({"command": "set_mode", "payload": "remove"}))
    before = await api.snapshot(*STOCK_TABLES)
    api.error(await scan(api, api.item("jam")), 409)  # out of stock
    api.error(await scan(api, "8076802085738"), 409)  # in two places: which one?
    api.error(await scan(api, "5000119025219"), 404)  # unknown barcode: nothing to remove
    assert await api.snapshot(*STOCK_TABLES) == before


async def test_adding_an_item_with_no_place_and_no_location_is_409(api):
    api.error(await scan(api, api.item("rice")), 409)


async def test_scan_validation_names_the_field(api):
    assert "msg" in api.failing_fields(await api.post("/scanner/scan", who="Scanner", json={}))
    assert "msg" in api.failing_fields(
        await api.post("/scanner/scan", who="Scanner", json={"msg": "x" * 1025})
    )
    assert "scan_id" in api.failing_fields(
        await api.post("/scanner/scan", who="Scanner", json={"msg": MILK_UPC, "scan_id": ""})
    )


async def test_scanner_status_lists_every_scanner(api):
    reply = await api.get("/scanner/status", who="Read-only")
    rows = api.page(reply)
    assert [r["username"] for r in rows] == ["scanner-kitchen"]
    state = rows[0]
    assert set(state) >= {
        "id",
        "username",
        "current_mode",
        "current_location_id",
        "last_scan_timestamp",
        "associated_ui_id",
    }
    assert (state["current_mode"], state["current_location_id"], state["last_scan_timestamp"]) == (
        "add",
        None,
        None,
    )


async def test_an_admin_sets_a_scanners_mode_and_location(api):
    scanner = api.user("Scanner")
    reply = await api.call(
        "PUT",
        f"/scanner/{scanner}/state",
        json={"current_mode": "remove", "current_location_id": api.loc("Shelf")},
    )
    assert reply.status == 200, reply
    assert (reply.json["current_mode"], reply.json["current_location_id"]) == (
        "remove",
        api.loc("Shelf"),
    )
    state = await scanner_state(api)
    assert (state["current_mode"], state["current_location_id"]) == ("remove", api.loc("Shelf"))
    reply = await api.call("PUT", f"/scanner/{scanner}/state", json={"current_location_id": None})
    assert reply.status == 200 and reply.json["current_location_id"] is None, reply


async def test_setting_an_unknown_location_or_mode_fails_and_changes_nothing(api):
    scanner = api.user("Scanner")
    before = await api.snapshot()
    api.error(
        await api.call(
            "PUT", f"/scanner/{scanner}/state", json={"current_location_id": str(uuid.uuid4())}
        ),
        404,
    )
    assert "current_mode" in api.failing_fields(
        await api.call("PUT", f"/scanner/{scanner}/state", json={"current_mode": "sideways"})
    )
    assert await api.snapshot() == before


async def test_a_scan_that_needed_a_location_goes_where_a_person_chose(api):
    """The web's answer to "where does it go?": the scanner's refused scan,
    applied into the place tapped; the scanner's own place stays unless
    the answer is to be remembered."""
    scanner = api.user("Scanner")
    new_code = "5000119025219"
    before = await api.snapshot(*STOCK_TABLES)
    api.error(await scan(api, new_code), 409, "needs_location")
    assert await api.snapshot(*STOCK_TABLES) == before

    reply = await api.post(f"/scanner/{scanner}/scan-into", who="Member",
                           json={"location_id": api.loc("Pantry"), "msg": new_code})
    assert reply.status == 200, reply
    assert (reply.json["result"], reply.json["created"], reply.json["quantity"]) == ("added", True, 1)
    assert reply.json["location"]["id"] == api.loc("Pantry")
    assert reply.json["scanner"]["id"] == scanner  # the scanner's scan, not the Member's
    assert (await scanner_state(api))["current_location_id"] is None  # that scan only
    history = api.page(await api.get(f"/item/{reply.json['item']['id']}/history"))
    assert [(h["delta"], h["source"], h["user_id"]) for h in history] == [(1, "scan", scanner)]

    other_code = "5000119015401"
    api.error(await scan(api, other_code), 409, "needs_location")
    reply = await api.post(f"/scanner/{scanner}/scan-into", who="Member",
                           json={"location_id": api.loc("Shelf"), "msg": other_code, "remember": True})
    assert reply.status == 200 and reply.json["location"]["id"] == api.loc("Shelf"), reply
    assert (await scanner_state(api))["current_location_id"] == api.loc("Shelf")  # from now on


async def test_scanning_into_a_place_is_refused_to_readers_and_for_unknown_places(api):
    scanner = api.user("Scanner")
    before = await api.snapshot()
    body = {"location_id": api.loc("Pantry"), "msg": MILK_UPC}
    api.error(await api.post(f"/scanner/{scanner}/scan-into", who="Read-only", json=body), 403)
    api.error(await api.post(f"/scanner/{scanner}/scan-into", who="Scanner", json=body), 403)
    api.error(await api.post(f"/scanner/{scanner}/scan-into", who="Member",
                             json={**body, "location_id": str(uuid.uuid4())}), 404)
    api.error(await api.post(f"/scanner/{uuid.uuid4()}/scan-into", who="Member", json=body), 404)
    assert "msg" in api.failing_fields(
        await api.post(f"/scanner/{scanner}/scan-into", who="Member", json={**body, "msg": ""}))
    assert await api.snapshot() == before
