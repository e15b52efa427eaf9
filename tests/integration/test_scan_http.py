"""``POST /api/v1/scanner/scan`` and the scanner endpoints, end to end over
HTTP on loopback, against real services over a real SQLite file and a real
PostgreSQL database (every test runs on both)
(DESIGN.md sections 3, 4 and 5)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scan_support import (  # noqa: F401 (fixtures)
    PREFIX,
    SCAN,
    STATUS,
    ScanEnv,
    cheap_bcrypt,
    scan_env,
    stocky_info_logs,
)

from stocky.schemas.actor import SYSTEM

# A real UPC-A (Coca-Cola 12 oz can) and the EAN-13 Stocky stores for it.
UPC_A = "049000006346"
EAN_13 = "0" + UPC_A

STATE_KEYS = {
    "id", "username", "current_mode", "current_location_id", "last_scan_timestamp", "associated_ui_id",
}


def _cmd(command: str, payload: Any) -> str:
    return json.dumps({"command": command, "payload": payload})


def _parse_ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, value
    return parsed


def _warns_from(env: ScanEnv, username: str) -> list[Any]:
    return [e for e in env.logs(severity="WARN") if e.source == username]


async def _at(env: ScanEnv, location: str) -> None:
    reply = await env.command("set_location", env.locations[location])
    assert reply.status == 200, reply


async def _mode(env: ScanEnv, mode: str) -> None:
    reply = await env.command("set_mode", mode)
    assert reply.status == 200, reply


# ---------------------------------------------------------------------------
# 1. Command QR codes
# ---------------------------------------------------------------------------


async def test_associate_ui_binds_the_scanner_to_that_screen(scan_env: ScanEnv):
    ui = str(uuid.uuid4())
    before = datetime.now(UTC) - timedelta(seconds=1)

    body = await scan_env.scan_ok(_cmd("associate_ui", ui))

    assert body["result"] == "associated"
    assert body["scanner"]["associated_ui_id"] == ui
    status = await scan_env.status()
    assert set(status) >= STATE_KEYS
    assert status["associated_ui_id"] == ui
    assert status["current_mode"] == "add"  # untouched
    assert _parse_ts(status["last_scan_timestamp"]) >= before
    assert (await scan_env.state())["associated_ui_id"] == ui


async def test_associate_ui_again_moves_the_scanner_to_the_new_screen(scan_env: ScanEnv):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await scan_env.scan_ok(_cmd("associate_ui", first))
    await scan_env.scan_ok(_cmd("associate_ui", second))
    assert (await scan_env.status())["associated_ui_id"] == second


async def test_show_view_reaches_only_the_associated_screen(scan_env: ScanEnv):
    mine, other = str(uuid.uuid4()), str(uuid.uuid4())
    got: dict[str, list[dict]] = {mine: [], other: []}
    stop_mine = scan_env.services.screens.register(mine, got[mine].append)
    stop_other = scan_env.services.screens.register(other, got[other].append)
    try:
        await scan_env.scan_ok(_cmd("associate_ui", mine))
        got[mine].clear()

        body = await scan_env.scan_ok(_cmd("show_view", "shopping"))

        assert body["result"] == "view"
        assert {"action": "show_view", "view": "shopping"} in got[mine]
        assert got[other] == []
    finally:
        stop_mine()
        stop_other()


@pytest.mark.parametrize("view", ["inventory", "locations", "scanners", "log", "users", "shopping"])
async def test_show_view_accepts_every_documented_view(scan_env: ScanEnv, view: str):
    ui = str(uuid.uuid4())
    got: list[dict] = []
    stop = scan_env.services.screens.register(ui, got.append)
    try:
        await scan_env.scan_ok(_cmd("associate_ui", ui))
        await scan_env.scan_ok(_cmd("show_view", view))
        assert [m for m in got if m["action"] == "show_view"] == [{"action": "show_view", "view": view}]
    finally:
        stop()


async def test_show_view_without_an_associated_screen_is_refused(scan_env: ScanEnv):
    before = await scan_env.snapshot()
    reply = await scan_env.command("show_view", "log")
    assert 400 <= reply.status < 500, reply
    assert "screen" in reply.error["message"].lower()
    assert await scan_env.snapshot() == before


async def test_set_mode_switches_between_add_and_remove(scan_env: ScanEnv):
    assert (await scan_env.status())["current_mode"] == "add"  # the default

    body = await scan_env.scan_ok(_cmd("set_mode", "remove"))
    assert body["result"] == "mode"
    assert body["scanner"]["current_mode"] == "remove"
    assert (await scan_env.status())["current_mode"] == "remove"

    await scan_env.scan_ok(_cmd("set_mode", "add"))
    assert (await scan_env.status())["current_mode"] == "add"


async def test_set_location_sets_the_current_location(scan_env: ScanEnv):
    fridge = scan_env.locations["Fridge"]
    body = await scan_env.scan_ok(_cmd("set_location", fridge))
    assert body["result"] == "location"
    assert body["location"]["id"] == fridge and body["location"]["name"] == "Fridge"
    assert body["scanner"]["current_location_id"] == fridge
    assert (await scan_env.status())["current_location_id"] == fridge


async def test_set_location_of_an_unknown_location_is_404_and_changes_nothing(scan_env: ScanEnv):
    await _at(scan_env, "Pantry")
    before = await scan_env.snapshot()
    reply = await scan_env.command("set_location", str(uuid.uuid4()))
    assert reply.status == 404, reply
    assert reply.error["code"] == "not_found"
    assert await scan_env.snapshot() == before
    assert (await scan_env.status())["current_location_id"] == scan_env.locations["Pantry"]


BAD_COMMANDS = {
    "unknown command": {"command": "self_destruct", "payload": "now"},
    "unknown command, no payload": {"command": "reboot"},
    "associate_ui without an id": {"command": "associate_ui", "payload": "kitchen"},
    "show_view of an unknown view": {"command": "show_view", "payload": "kitchen-sink"},
    "set_mode sideways": {"command": "set_mode", "payload": "sideways"},
    "set_mode in capitals": {"command": "set_mode", "payload": "ADD!"},
    "set_location of a name": {"command": "set_location", "payload": "Pantry"},
    "payload missing": {"command": "set_mode"},
    "payload a number": {"command": "set_mode", "payload": 1},
    "payload a list": {"command": "show_view", "payload": ["log"]},
    "command not a string": {"command": 7, "payload": "add"},
    "extra field": {"command": "set_mode", "payload": "remove", "also": "this"},
    "no command at all": {"payload": "remove"},
    "an object without command": {"name": "Milk"},
}


@pytest.mark.parametrize("data", BAD_COMMANDS.values(), ids=BAD_COMMANDS.keys())
async def test_bad_command_is_422_changes_nothing_and_logs_a_warning(scan_env: ScanEnv, data: dict):
    # A scanner with a screen, a location and a mode, so "unchanged" means something.
    ui = str(uuid.uuid4())
    await scan_env.scan_ok(_cmd("associate_ui", ui))
    await _at(scan_env, "Pantry")
    before = await scan_env.snapshot()
    state_before = await scan_env.status()
    warnings_before = len(_warns_from(scan_env, scan_env.scanner.username))

    reply = await scan_env.scan(json.dumps(data))

    assert reply.status == 422, reply
    assert reply.error["code"] == "validation_error"
    assert await scan_env.snapshot() == before
    assert await scan_env.status() == state_before
    warnings = _warns_from(scan_env, scan_env.scanner.username)
    assert len(warnings) == warnings_before + 1, [w.message for w in warnings]
    assert warnings[0].severity == "WARN"


@pytest.mark.parametrize(
    "text", ['{"command": "set_mode", "payload": "add"', "{not json}", "{}", '{"command": null}']
)
async def test_broken_command_json_is_422_and_changes_nothing(scan_env: ScanEnv, text: str):
    await _at(scan_env, "Pantry")
    before = await scan_env.snapshot()
    reply = await scan_env.scan(text)
    assert reply.status == 422, reply
    assert await scan_env.snapshot() == before
    assert _warns_from(scan_env, scan_env.scanner.username)


async def test_command_cards_as_the_qr_endpoint_encodes_them_work(scan_env: ScanEnv):
    """The compact JSON a command QR code holds (``ScanCommand.encode``)."""
    from stocky.schemas.commands import ScanCommand

    text = ScanCommand(command="set_mode", payload="remove").encode()
    await scan_env.scan_ok(text)
    assert (await scan_env.status())["current_mode"] == "remove"


# ---------------------------------------------------------------------------
# 2. UUID labels
# ---------------------------------------------------------------------------


async def test_an_item_label_acts_as_that_items_barcode(scan_env: ScanEnv):
    jam = await scan_env.new_item("Strawberry Jam")  # no barcode at all
    await scan_env.put(jam, "Pantry", 2)
    await _at(scan_env, "Pantry")

    body = await scan_env.scan_ok(str(jam.id))

    assert body["result"] == "added"
    assert body["message"] == "Added Strawberry Jam to Pantry (now 3)"
    assert body["item"]["id"] == str(jam.id)
    assert await scan_env.quantities(jam) == {"Pantry": 3}

    await _mode(scan_env, "remove")
    body = await scan_env.scan_ok(str(jam.id).upper())  # a label read in capitals
    assert body["result"] == "removed"
    assert await scan_env.quantities(jam) == {"Pantry": 2}


async def test_a_location_label_acts_as_set_location(scan_env: ScanEnv):
    freezer = scan_env.locations["Freezer"]
    body = await scan_env.scan_ok(freezer)
    assert body["result"] == "location"
    assert body["location"]["name"] == "Freezer"
    assert (await scan_env.status())["current_location_id"] == freezer

    # And the next scan goes there.
    peas = await scan_env.new_item("Peas", upc="5000000000017", storage_type="Frozen")
    body = await scan_env.scan_ok("5000000000017")
    assert body["location"]["id"] == freezer
    assert await scan_env.quantities(peas) == {"Freezer": 1}


async def test_a_uuid_of_nothing_is_404_and_changes_nothing(scan_env: ScanEnv):
    await _at(scan_env, "Pantry")
    before = await scan_env.snapshot()
    reply = await scan_env.scan(str(uuid.uuid4()))
    assert reply.status == 404, reply
    assert reply.error["code"] == "not_found"
    assert await scan_env.snapshot() == before  # no item with a UUID for a barcode


# ---------------------------------------------------------------------------
# 3. Barcodes
# ---------------------------------------------------------------------------


async def test_upc_a_finds_the_item_stored_as_ean_13(scan_env: ScanEnv):
    cola = await scan_env.new_item("Cola", upc=EAN_13)
    assert cola.upc == EAN_13
    await scan_env.put(cola, "Pantry", 1)
    items_before = (await scan_env.snapshot())["item_count"]

    body = await scan_env.scan_ok(UPC_A)  # no current location: its only place

    assert body["item"]["id"] == str(cola.id)
    assert body["quantity"] == 2
    body = await scan_env.scan_ok(EAN_13)
    assert body["item"]["id"] == str(cola.id)
    assert body["quantity"] == 3
    assert (await scan_env.snapshot())["item_count"] == items_before


async def test_an_item_created_from_upc_a_is_found_by_ean_13(scan_env: ScanEnv):
    await _at(scan_env, "Pantry")
    created = await scan_env.scan_ok(UPC_A)
    assert created["item"]["upc"] == EAN_13  # stored in the 13-digit form
    again = await scan_env.scan_ok(EAN_13)
    assert again["item"]["id"] == created["item"]["id"]
    assert again["quantity"] == 2


async def test_a_scan_is_trimmed_as_a_wedge_scanner_types_it(scan_env: ScanEnv):
    cola = await scan_env.new_item("Cola", upc=EAN_13)
    await scan_env.put(cola, "Pantry", 1)
    body = await scan_env.scan_ok(f"  {UPC_A}\r\n")
    assert body["item"]["id"] == str(cola.id)
    assert body["quantity"] == 2


# ---------------------------------------------------------------------------
# 4. add mode
# ---------------------------------------------------------------------------


async def test_add_puts_one_at_the_current_location_with_the_documented_answer(scan_env: ScanEnv):
    milk = await scan_env.new_item("Milk", upc="4000000000011", storage_type="Ambient")
    await scan_env.put(milk, "Pantry", 2)
    await _at(scan_env, "Pantry")

    reply = await scan_env.scan("4000000000011")

    assert reply.status == 200, reply
    body = reply.json
    assert set(body) >= {"result", "message", "item", "location", "quantity", "scanner"}
    assert body["result"] == "added"
    assert body["message"] == "Added Milk to Pantry (now 3)"
    assert body["quantity"] == 3
    assert body["item"]["id"] == str(milk.id)
    assert body["item"]["name"] == "Milk"
    assert body["item"]["upc"] == "4000000000011"
    assert body["item"]["total_quantity"] == 3
    assert body["location"] == {
        "id": scan_env.locations["Pantry"], "name": "Pantry", "storage_type": "Ambient"
    }
    assert set(body["scanner"]) >= STATE_KEYS
    assert body["scanner"]["id"] == scan_env.scanner.id
    assert body["scanner"]["username"] == scan_env.scanner.username
    assert body["scanner"]["current_mode"] == "add"
    assert body["scanner"]["current_location_id"] == scan_env.locations["Pantry"]
    assert await scan_env.quantities(milk) == {"Pantry": 3}
    assert await scan_env.total(milk) == 3


async def test_add_at_a_new_location_creates_the_sku(scan_env: ScanEnv):
    rice = await scan_env.new_item("Rice", upc="4000000000028", storage_type="Ambient")
    await scan_env.put(rice, "Pantry", 4)
    await _at(scan_env, "Shelf")
    body = await scan_env.scan_ok("4000000000028")
    assert body["message"] == "Added Rice to Shelf (now 1)"
    assert await scan_env.quantities(rice) == {"Pantry": 4, "Shelf": 1}
    assert await scan_env.total(rice) == 5


async def test_add_without_a_location_uses_the_items_only_location(scan_env: ScanEnv):
    butter = await scan_env.new_item("Butter", upc="4000000000035")
    await scan_env.put(butter, "Fridge", 2)
    assert (await scan_env.status())["current_location_id"] is None

    body = await scan_env.scan_ok("4000000000035")

    assert body["location"]["name"] == "Fridge"
    assert body["message"] == "Added Butter to Fridge (now 3)"
    assert await scan_env.quantities(butter) == {"Fridge": 3}


async def test_add_without_a_location_uses_the_only_location_even_at_zero(scan_env: ScanEnv):
    butter = await scan_env.new_item("Butter", upc="4000000000035")
    await scan_env.put(butter, "Fridge", 0)
    body = await scan_env.scan_ok("4000000000035")
    assert body["location"]["name"] == "Fridge"
    assert body["quantity"] == 1


async def test_add_without_a_location_and_several_places_is_409_asking_for_a_location(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 5)
    await scan_env.put(pasta, "Shelf", 2)
    before = await scan_env.snapshot()

    reply = await scan_env.scan("4000000000042")

    assert reply.status == 409, reply
    assert reply.error["code"] == "needs_location"
    assert "location" in reply.error["message"].lower()
    assert await scan_env.snapshot() == before


async def test_add_without_a_location_of_an_item_with_no_place_is_409(scan_env: ScanEnv):
    await scan_env.new_item("Salt", upc="4000000000059")
    before = await scan_env.snapshot()
    reply = await scan_env.scan("4000000000059")
    assert reply.status == 409, reply
    assert "location" in reply.error["message"].lower()
    assert await scan_env.snapshot() == before


async def test_unknown_barcode_in_add_mode_creates_a_pending_item_and_answers_at_once(scan_env: ScanEnv):
    await _at(scan_env, "Pantry")
    assert len(scan_env.services.lookups) == 0

    started = time.perf_counter()
    body = await scan_env.scan_ok("8710398503969")
    elapsed = time.perf_counter() - started

    assert body["result"] == "added"
    assert body["created"] is True
    assert body["quantity"] == 1
    item = body["item"]
    assert item["name"] is None
    assert item["upc"] == "8710398503969"
    assert item["lookup_status"] == "pending"
    assert item["total_quantity"] == 1
    item_id = uuid.UUID(item["id"])
    # Queued for the background lookup, which no one is running here: the scan
    # answered without waiting for it.
    assert item_id in scan_env.services.lookups
    assert len(scan_env.services.lookups) == 1
    assert elapsed < 2.0
    stored = await scan_env.services.items.get(item_id, SYSTEM)
    assert stored.name is None and stored.lookup_status == "pending"
    assert await scan_env.quantities(item["id"]) == {"Pantry": 1}
    assert "8710398503969" in body["message"]  # named by its barcode until looked up

    # The second scan of it is just +1, not a second item or lookup.
    again = await scan_env.scan_ok("8710398503969")
    assert again["created"] is False and again["item"]["id"] == item["id"]
    assert again["quantity"] == 2
    assert len(scan_env.services.lookups) == 1


async def test_unknown_barcode_in_add_mode_without_a_location_creates_nothing(scan_env: ScanEnv):
    before = await scan_env.snapshot()
    reply = await scan_env.scan("8710398503969")
    assert reply.status == 409, reply
    assert await scan_env.snapshot() == before
    assert len(scan_env.services.lookups) == 0


# ---------------------------------------------------------------------------
# 5. remove mode
# ---------------------------------------------------------------------------


async def test_remove_takes_one_from_the_current_location_when_it_has_stock(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 5)
    await scan_env.put(pasta, "Shelf", 2)
    await _at(scan_env, "Shelf")
    await _mode(scan_env, "remove")

    body = await scan_env.scan_ok("4000000000042")

    assert body["result"] == "removed"
    assert body["message"] == "Removed Pasta from Shelf (now 1)"
    assert body["quantity"] == 1
    assert body["location"]["name"] == "Shelf"
    assert await scan_env.quantities(pasta) == {"Pantry": 5, "Shelf": 1}
    assert await scan_env.total(pasta) == 6


async def test_remove_uses_the_only_stocked_location_when_the_current_has_none(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 5)
    await scan_env.put(pasta, "Shelf", 0)
    await _at(scan_env, "Fridge")  # nothing of it there
    await _mode(scan_env, "remove")

    body = await scan_env.scan_ok("4000000000042")

    assert body["location"]["name"] == "Pantry"
    assert await scan_env.quantities(pasta) == {"Pantry": 4, "Shelf": 0}


async def test_remove_without_a_location_uses_the_only_stocked_location(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Shelf", 3)
    await _mode(scan_env, "remove")
    body = await scan_env.scan_ok("4000000000042")
    assert body["message"] == "Removed Pasta from Shelf (now 2)"


async def test_remove_with_nothing_in_stock_is_409_nothing_to_remove(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 0)
    await _at(scan_env, "Pantry")
    await _mode(scan_env, "remove")
    before = await scan_env.snapshot()

    reply = await scan_env.scan("4000000000042")

    assert reply.status == 409, reply
    assert "nothing to remove" in reply.error["message"].lower()
    assert await scan_env.snapshot() == before


async def test_remove_with_stock_in_several_places_is_409_naming_them(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 5)
    await scan_env.put(pasta, "Shelf", 2)
    await _mode(scan_env, "remove")  # no current location
    before = await scan_env.snapshot()

    reply = await scan_env.scan("4000000000042")

    assert reply.status == 409, reply
    message = reply.error["message"]
    assert "Pantry" in message and "Shelf" in message
    assert await scan_env.snapshot() == before

    # A current location without stock does not settle it either.
    await _at(scan_env, "Fridge")
    before = await scan_env.snapshot()
    reply = await scan_env.scan("4000000000042")
    assert reply.status == 409, reply
    assert "Pantry" in reply.error["message"] and "Shelf" in reply.error["message"]
    assert await scan_env.snapshot() == before


async def test_unknown_barcode_in_remove_mode_is_404_and_creates_nothing(scan_env: ScanEnv):
    await _at(scan_env, "Pantry")
    await _mode(scan_env, "remove")
    before = await scan_env.snapshot()
    reply = await scan_env.scan("8710398503969")
    assert reply.status == 404, reply
    assert reply.error["code"] == "not_found"
    assert await scan_env.snapshot() == before
    assert len(scan_env.services.lookups) == 0


async def test_quantity_never_goes_below_zero(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 1)
    await _at(scan_env, "Pantry")
    await _mode(scan_env, "remove")

    assert (await scan_env.scan_ok("4000000000042"))["quantity"] == 0
    for _ in range(3):
        reply = await scan_env.scan("4000000000042")
        assert reply.status == 409, reply
    assert await scan_env.quantities(pasta) == {"Pantry": 0}  # the SKU stays, at 0
    assert await scan_env.total(pasta) == 0


async def test_concurrent_removals_of_the_last_units_never_go_below_zero(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 3)
    await _at(scan_env, "Pantry")
    await _mode(scan_env, "remove")

    replies = await asyncio.gather(*(scan_env.scan("4000000000042") for _ in range(10)))

    assert sorted(r.status for r in replies) == [200] * 3 + [409] * 7, replies
    assert sorted(r.json["quantity"] for r in replies if r.status == 200) == [0, 1, 2]
    assert await scan_env.quantities(pasta) == {"Pantry": 0}
    assert len(await scan_env.services.items.history(pasta.id, SYSTEM)) == 1 + 3


async def test_concurrent_adds_from_two_scanners_all_count(scan_env: ScanEnv):
    other = await scan_env.new_scanner()
    beans = await scan_env.new_item("Beans", upc="4000000000066")
    await scan_env.put(beans, "Pantry", 0)

    replies = await asyncio.gather(
        *(scan_env.scan("4000000000066", key=key) for key in [scan_env.scanner.key, other.key] * 10)
    )

    assert [r.status for r in replies] == [200] * 20, replies
    assert await scan_env.quantities(beans) == {"Pantry": 20}


# ---------------------------------------------------------------------------
# 6. Storage mismatch, state, journal, de-duplication, the log
# ---------------------------------------------------------------------------


async def _alerts(env: ScanEnv) -> list[dict[str, Any]]:
    reply = await env.request("GET", f"{PREFIX}/alert", headers=await env.bearer("Admin"))
    assert reply.status == 200, reply
    return reply.json["data"]


async def test_storage_mismatch_raises_a_warning_alert_and_the_scan_still_counts(scan_env: ScanEnv):
    milk = await scan_env.new_item("Milk", upc="4000000000011", storage_type="Refrigerated")
    await scan_env.put(milk, "Fridge", 1)
    assert await _alerts(scan_env) == []
    await _at(scan_env, "Pantry")  # Ambient

    body = await scan_env.scan_ok("4000000000011")

    assert body["result"] == "added"
    assert await scan_env.quantities(milk) == {"Fridge": 1, "Pantry": 1}
    alerts = await _alerts(scan_env)
    assert len(alerts) == 1, alerts
    assert alerts[0]["severity"] == "Warning"
    assert "Milk" in alerts[0]["message"] and "Pantry" in alerts[0]["message"]

    # Six more cartons on the wrong shelf: still one alert waiting.
    for _ in range(3):
        await scan_env.scan_ok("4000000000011")
    assert len(await _alerts(scan_env)) == 1


async def test_no_alert_when_storage_types_match_or_one_is_unset(scan_env: ScanEnv):
    milk = await scan_env.new_item("Milk", upc="4000000000011", storage_type="Refrigerated")
    await _at(scan_env, "Fridge")
    await scan_env.scan_ok("4000000000011")
    await _at(scan_env, "Shelf")  # no storage type
    await scan_env.scan_ok("4000000000011")
    assert await scan_env.quantities(milk) == {"Fridge": 1, "Shelf": 1}
    assert (await scan_env.snapshot())["alerts"] == 0


async def test_removing_from_a_mismatched_place_raises_no_alert(scan_env: ScanEnv):
    milk = await scan_env.new_item("Milk", upc="4000000000011", storage_type="Refrigerated")
    await scan_env.put(milk, "Pantry", 2)  # raised one alert
    alerts_before = (await scan_env.snapshot())["alerts"]
    await _mode(scan_env, "remove")
    await scan_env.scan_ok("4000000000011")
    assert (await scan_env.snapshot())["alerts"] == alerts_before


async def test_scanner_state_lives_in_the_scanner_users_details(scan_env: ScanEnv):
    pantry = scan_env.locations["Pantry"]
    await _at(scan_env, "Pantry")
    await _mode(scan_env, "remove")
    details = await scan_env.state()
    assert details["current_mode"] == "remove"
    assert details["current_location_id"] == pantry
    first = _parse_ts(details["last_scan_timestamp"])

    status = await scan_env.status()
    assert status["current_mode"] == "remove"
    assert status["current_location_id"] == pantry
    assert _parse_ts(status["last_scan_timestamp"]) == first

    # Each scan moves the timestamp on, and a second scanner has its own state.
    await asyncio.sleep(0.01)
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 2)
    await scan_env.scan_ok("4000000000042")
    assert _parse_ts((await scan_env.status())["last_scan_timestamp"]) > first

    other = await scan_env.new_scanner()
    other_status = await scan_env.status(other.id)
    assert other_status["current_mode"] == "add"
    assert other_status["current_location_id"] is None
    assert other_status["last_scan_timestamp"] is None


async def test_the_state_survives_a_restart(scan_env: ScanEnv):
    """Mode and location are in the database, not in memory."""
    from stocky.services.container import open_services

    await _at(scan_env, "Freezer")
    await _mode(scan_env, "remove")
    # A second start over the same data directory and database.
    async with open_services(scan_env.services.settings) as second:
        (state,) = [s for s in await second.scans.states(SYSTEM) if str(s.id) == scan_env.scanner.id]
    assert state.current_mode == "remove"
    assert str(state.current_location_id) == scan_env.locations["Freezer"]


async def test_every_change_writes_a_journal_row_with_source_scan_and_the_scanner(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 1)  # one row, source "api"
    await _at(scan_env, "Pantry")

    await scan_env.scan_ok("4000000000042", scan_id="scan-1")
    await scan_env.scan_ok(str(pasta.id))
    await _mode(scan_env, "remove")
    await scan_env.scan_ok("4000000000042")

    history = await scan_env.services.items.history(pasta.id, SYSTEM)
    scans = [row for row in history if row.source == "scan"]
    assert len(history) == 4
    assert len(scans) == 3
    assert sorted((row.delta, row.quantity_after) for row in scans) == [(-1, 2), (1, 2), (1, 3)]
    for row in scans:
        assert str(row.user_id) == scan_env.scanner.id
        assert str(row.location_id) == scan_env.locations["Pantry"]
        assert row.location_name == "Pantry"
    assert {row.scan_id for row in scans} == {"scan-1", None}
    # Commands change no stock: no journal rows for them.
    assert len([row for row in history if row.source != "scan"]) == 1


async def test_a_repeated_scan_id_counts_once(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await _at(scan_env, "Pantry")

    first = await scan_env.scan_ok("4000000000042", scan_id="mqtt-42")
    again = await scan_env.scan_ok("4000000000042", scan_id="mqtt-42")

    assert first["result"] == "added" and first["quantity"] == 1
    assert again["result"] == "duplicate"
    assert again["quantity"] == 1
    assert await scan_env.quantities(pasta) == {"Pantry": 1}
    history = await scan_env.services.items.history(pasta.id, SYSTEM)
    assert [(row.delta, row.scan_id) for row in history] == [(1, "mqtt-42")]

    # A new id counts again.
    third = await scan_env.scan_ok("4000000000042", scan_id="mqtt-43")
    assert third["quantity"] == 2


async def test_a_repeated_delivery_of_a_new_barcode_creates_one_item(scan_env: ScanEnv):
    await _at(scan_env, "Pantry")
    first = await scan_env.scan_ok("8710398503969", scan_id="retry-me")
    again = await scan_env.scan_ok("8710398503969", scan_id="retry-me")
    assert again["result"] == "duplicate"
    assert again["item"]["id"] == first["item"]["id"]
    snapshot = await scan_env.snapshot()
    assert snapshot["item_count"] == 1
    assert snapshot["skus"] == [(first["item"]["id"], scan_env.locations["Pantry"], 1)]


async def test_concurrent_repeated_deliveries_count_once(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await _at(scan_env, "Pantry")
    replies = await asyncio.gather(
        *(scan_env.scan("4000000000042", scan_id="burst") for _ in range(8))
    )
    assert [r.status for r in replies] == [200] * 8, replies
    assert sorted(r.json["result"] for r in replies) == ["added"] + ["duplicate"] * 7
    assert await scan_env.quantities(pasta) == {"Pantry": 1}


async def test_scan_ids_belong_to_their_scanner(scan_env: ScanEnv):
    other = await scan_env.new_scanner()
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 0)
    await scan_env.scan_ok("4000000000042", scan_id="1")
    body = await scan_env.scan_ok("4000000000042", scan_id="1", key=other.key)
    assert body["result"] == "added"
    assert await scan_env.quantities(pasta) == {"Pantry": 2}


async def test_a_repeated_scan_id_in_remove_mode_removes_once(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 5)
    await _mode(scan_env, "remove")
    await scan_env.scan_ok("4000000000042", scan_id="r1")
    again = await scan_env.scan_ok("4000000000042", scan_id="r1")
    assert again["result"] == "duplicate"
    assert await scan_env.quantities(pasta) == {"Pantry": 4}


async def test_every_scan_is_logged_with_the_scanners_name_as_source(scan_env: ScanEnv):
    name = scan_env.scanner.username
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await _at(scan_env, "Pantry")
    body = await scan_env.scan_ok("4000000000042")
    refused = await scan_env.scan(str(uuid.uuid4()))
    assert refused.status == 404

    mine = [e for e in scan_env.logs() if e.source == name]
    infos = [e.message for e in mine if e.severity == "INFO"]
    warns = [e.message for e in mine if e.severity == "WARN"]
    assert body["message"] in infos
    assert any("Pantry" in m for m in infos)  # the set_location command too
    assert len(infos) == 2
    assert len(warns) == 1 and refused.error["message"] in warns[0]
    # And ``GET /log`` shows the same.
    reply = await scan_env.request(
        "GET", f"{PREFIX}/log?search={name}&limit=50", headers=await scan_env.bearer("Admin")
    )
    assert reply.status == 200, reply
    entries = [e for e in reply.json["data"] if e["source"] == name]
    assert body["message"] in [e["message"] for e in entries]
    assert any(e["severity"] == "WARN" for e in entries)
    assert pasta  # (used above through its barcode)


async def test_the_scan_result_goes_to_the_associated_screen(scan_env: ScanEnv):
    ui = str(uuid.uuid4())
    got: list[dict] = []
    stop = scan_env.services.screens.register(ui, got.append)
    try:
        await scan_env.scan_ok(_cmd("associate_ui", ui))
        await _at(scan_env, "Pantry")
        got.clear()
        body = await scan_env.scan_ok("4000000000042")
        refused = await scan_env.scan(str(uuid.uuid4()))
    finally:
        stop()
    assert got[0]["action"] == "scan_result" and got[0]["ok"] is True
    assert got[0]["message"] == body["message"]
    assert got[1] == {"action": "scan_result", "ok": False, "message": refused.error["message"],
                      "code": refused.error["code"], "scanner_id": body["scanner"]["id"]}


# ---------------------------------------------------------------------------
# 7. PUT /scanner/{id}/state and GET /scanner/status
# ---------------------------------------------------------------------------


def _state_url(scanner_id: str) -> str:
    return f"{PREFIX}/scanner/{scanner_id}/state"


async def test_admin_sets_mode_and_location_and_the_next_scan_follows(scan_env: ScanEnv):
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 3)
    await scan_env.put(pasta, "Shelf", 3)
    shelf = scan_env.locations["Shelf"]

    reply = await scan_env.request(
        "PUT", _state_url(scan_env.scanner.id), headers=await scan_env.bearer("Admin"),
        json_body={"current_mode": "remove", "current_location_id": shelf},
    )

    assert reply.status == 200, reply
    assert set(reply.json) >= STATE_KEYS
    assert reply.json["current_mode"] == "remove"
    assert reply.json["current_location_id"] == shelf
    status = await scan_env.status()
    assert status["current_mode"] == "remove" and status["current_location_id"] == shelf
    assert status["last_scan_timestamp"] is None  # set by hand, not a scan
    body = await scan_env.scan_ok("4000000000042")
    assert body["message"] == "Removed Pasta from Shelf (now 2)"


async def test_admin_changes_only_what_is_sent_and_can_clear_the_location(scan_env: ScanEnv):
    await _at(scan_env, "Pantry")
    headers = await scan_env.bearer("Admin")
    reply = await scan_env.request(
        "PUT", _state_url(scan_env.scanner.id), headers=headers, json_body={"current_mode": "remove"}
    )
    assert reply.status == 200, reply
    assert reply.json["current_location_id"] == scan_env.locations["Pantry"]

    reply = await scan_env.request(
        "PUT", _state_url(scan_env.scanner.id), headers=headers, json_body={"current_location_id": None}
    )
    assert reply.status == 200, reply
    status = await scan_env.status()
    assert status["current_location_id"] is None and status["current_mode"] == "remove"


async def test_a_member_may_set_scanner_state_and_a_reader_may_not(scan_env: ScanEnv):
    """DESIGN.md section 10: whoever may scan a command card may do the same on a screen."""
    before = await scan_env.snapshot()
    reply = await scan_env.request(
        "PUT", _state_url(scan_env.scanner.id), headers=await scan_env.bearer("Read-only"),
        json_body={"current_mode": "remove"},
    )
    assert reply.status == 403, reply
    assert reply.error["code"] == "forbidden"
    assert await scan_env.snapshot() == before

    reply = await scan_env.request(
        "PUT", _state_url(scan_env.scanner.id), headers=await scan_env.bearer("Member"),
        json_body={"current_mode": "remove"},
    )
    assert reply.status == 200, reply
    assert reply.json["current_mode"] == "remove"


async def test_a_scanner_may_not_set_its_own_state_by_put(scan_env: ScanEnv):
    before = await scan_env.snapshot()
    reply = await scan_env.request(
        "PUT", _state_url(scan_env.scanner.id), headers={"X-API-Key": scan_env.scanner.key},
        json_body={"current_mode": "remove"},
    )
    assert reply.status == 403, reply
    assert await scan_env.snapshot() == before


async def test_setting_an_unknown_location_is_404_and_changes_nothing(scan_env: ScanEnv):
    await _at(scan_env, "Pantry")
    before = await scan_env.snapshot()
    reply = await scan_env.request(
        "PUT", _state_url(scan_env.scanner.id), headers=await scan_env.bearer("Admin"),
        json_body={"current_mode": "remove", "current_location_id": str(uuid.uuid4())},
    )
    assert reply.status == 404, reply
    assert reply.error["code"] == "not_found"
    assert await scan_env.snapshot() == before


@pytest.mark.parametrize(
    "body",
    [{"current_mode": "sideways"}, {"current_location_id": "Pantry"}, {"mode": "remove"}],
    ids=["bad mode", "location not an id", "unknown field"],
)
async def test_a_bad_state_body_is_422(scan_env: ScanEnv, body: dict):
    before = await scan_env.snapshot()
    reply = await scan_env.request(
        "PUT", _state_url(scan_env.scanner.id), headers=await scan_env.bearer("Admin"), json_body=body
    )
    assert reply.status == 422, reply
    assert await scan_env.snapshot() == before


async def test_setting_the_state_of_an_unknown_scanner_is_404(scan_env: ScanEnv):
    reply = await scan_env.request(
        "PUT", _state_url(str(uuid.uuid4())), headers=await scan_env.bearer("Admin"),
        json_body={"current_mode": "remove"},
    )
    assert reply.status == 404, reply


async def test_setting_the_state_of_a_person_who_cannot_scan_is_404(scan_env: ScanEnv):
    viewer = await scan_env.services.users.create(
        {"username": "viewer", "role": "Read-only", "password": "viewer-password"}, SYSTEM
    )
    headers = await scan_env.bearer("Admin")
    reply = await scan_env.request(
        "PUT", _state_url(str(viewer.id)), headers=headers, json_body={"current_mode": "remove"}
    )
    details = (await scan_env.services.users.get(viewer.id, SYSTEM)).details
    assert reply.status == 404, reply
    assert details == {}


async def test_status_lists_every_scanner_and_no_people(scan_env: ScanEnv):
    other = await scan_env.new_scanner("zz-garage-scanner")
    await scan_env.token("Member")  # a person, who must not show up
    await _at(scan_env, "Pantry")

    reply = await scan_env.request("GET", STATUS, headers=await scan_env.bearer("Member"))

    assert reply.status == 200, reply
    body = reply.json
    assert set(body) == {"data", "total"}
    assert body["total"] == len(body["data"]) == 2
    by_id = {s["id"]: s for s in body["data"]}
    assert set(by_id) == {scan_env.scanner.id, other.id}
    for entry in body["data"]:
        assert set(entry) >= STATE_KEYS
    assert by_id[scan_env.scanner.id]["username"] == scan_env.scanner.username
    assert by_id[scan_env.scanner.id]["current_location_id"] == scan_env.locations["Pantry"]
    assert by_id[scan_env.scanner.id]["current_location_name"] == "Pantry"
    assert by_id[other.id] == {
        "id": other.id, "username": "zz-garage-scanner", "current_mode": "add",
        "current_location_id": None, "current_location_name": None, "last_scan_timestamp": None,
        "associated_ui_id": None,
    }


async def test_status_needs_a_person(scan_env: ScanEnv):
    reply = await scan_env.request("GET", STATUS)
    assert reply.status == 401, reply
    reply = await scan_env.request("GET", STATUS, headers={"X-API-Key": scan_env.scanner.key})
    assert reply.status == 403, reply


# ---------------------------------------------------------------------------
# 8. Bad input: a clear 4xx with the reason, and nothing changed
# ---------------------------------------------------------------------------


@pytest.fixture
async def stocked(scan_env: ScanEnv) -> ScanEnv:
    """A scanner at the Pantry in add mode with a product in stock there, so
    that any scan accepted by mistake would visibly change something."""
    pasta = await scan_env.new_item("Pasta", upc="4000000000042")
    await scan_env.put(pasta, "Pantry", 5)
    await _at(scan_env, "Pantry")
    return scan_env


BAD_SCANS = {
    "empty": ("", 422, "msg"),
    "only whitespace": ("   \t  ", 422, "msg"),
    "10,000 characters": ("7" * 10_000, 422, "msg"),
    "1,025 characters": ("7" * 1_025, 422, "msg"),
    "49-character barcode": ("7" * 49, 422, "msg"),
    "NUL inside": ("40000\x0000042", 422, "msg"),
    "escape sequence": ("\x1b[31m4000000000042", 422, "msg"),
    "tab inside": ("4000\t000042", 422, "msg"),
    "newline inside": ("4000\n000042", 422, "msg"),
    "DEL": ("4000000000042\x7f", 422, "msg"),
    "lone surrogate": ("4000\ud800", 422, "msg"),
    "unknown command": (_cmd("open_the_pod_bay_doors", "please"), 422, None),
    "uuid of nothing": (str(uuid.uuid4()), 404, None),
}


@pytest.mark.parametrize(("msg", "status", "field"), BAD_SCANS.values(), ids=BAD_SCANS.keys())
async def test_bad_scan_is_a_clear_4xx_and_changes_nothing(stocked: ScanEnv, msg: str, status: int, field):
    before = await stocked.snapshot()
    reply = await stocked.scan(msg)
    assert reply.status == status, reply
    detail = reply.error
    assert len(detail["message"]) > 10
    if field is not None:
        assert field in {f["field"] for f in detail.get("fields") or []}, detail
    assert await stocked.snapshot() == before


RAW_BODIES = {
    "invalid UTF-8": (b'{"msg": "4000000000042\xff\xfe"}', 400),
    "latin-1 bytes": ('{"msg": "Kr\u00e4uter"}'.encode("latin-1"), 400),
    "not JSON": (b"msg=4000000000042", 400),
    "JSON array": (b'["4000000000042"]', 422),
    "JSON string": (b'"4000000000042"', 422),
    "msg missing": (b'{"scan": "4000000000042"}', 422),
    "msg not a string": (b'{"msg": 4000000000042}', 422),
    "msg null": (b'{"msg": null}', 422),
    "scan_id empty": (b'{"msg": "4000000000042", "scan_id": ""}', 422),
    "scan_id too long": (json.dumps({"msg": "4000000000042", "scan_id": "x" * 101}).encode(), 422),
    "unknown field": (b'{"msg": "4000000000042", "qty": 5}', 422),
    "empty body": (b"", 400),
    "300 KiB body": (json.dumps({"msg": "7" * 300_000}).encode(), 413),
}


@pytest.mark.parametrize(("data", "status"), RAW_BODIES.values(), ids=RAW_BODIES.keys())
async def test_bad_body_is_a_clear_4xx_and_changes_nothing(stocked: ScanEnv, data: bytes, status: int):
    before = await stocked.snapshot()
    reply = await stocked.request("POST", SCAN, headers={"X-API-Key": stocked.scanner.key}, data=data)
    assert reply.status == status, reply
    assert reply.error["message"]
    assert await stocked.snapshot() == before


async def test_a_deactivated_scanners_key_is_refused_and_changes_nothing(stocked: ScanEnv):
    await stocked.services.users.deactivate(uuid.UUID(stocked.scanner.id), SYSTEM)
    before = await stocked.snapshot()
    reply = await stocked.scan("4000000000042")
    assert reply.status == 401, reply
    assert reply.error["code"] == "not_authenticated"
    assert await stocked.snapshot() == before


async def test_a_scanner_deactivated_over_the_api_is_refused_at_once(stocked: ScanEnv):
    assert (await stocked.scan("4000000000042")).status == 200  # works before
    reply = await stocked.request(
        "PATCH", f"{PREFIX}/user/{stocked.scanner.id}", headers=await stocked.bearer("Admin"),
        json_body={"is_active": False},
    )
    assert reply.status == 200, reply
    assert reply.json["is_active"] is False
    before = await stocked.snapshot()
    reply = await stocked.scan("4000000000042")
    assert reply.status == 401, reply
    assert await stocked.snapshot() == before


async def test_a_read_only_users_key_is_403_and_changes_nothing(stocked: ScanEnv):
    viewer = await stocked.services.users.create(
        {"username": "viewer", "role": "Read-only", "password": "viewer-password", "with_api_key": True},
        SYSTEM,
    )
    assert viewer.api_key
    before = await stocked.snapshot()
    reply = await stocked.scan("4000000000042", key=viewer.api_key)
    assert reply.status == 403, reply
    assert reply.error["code"] == "forbidden"
    assert "Read-only" in reply.error["message"]
    assert await stocked.snapshot() == before


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "sk_not-a-key"}, {"X-API-Key": ""}, {"Authorization": "Bearer not.a.jwt"}],
    ids=["no key", "wrong key", "empty key", "garbage bearer"],
)
async def test_a_scan_without_valid_credentials_is_401(stocked: ScanEnv, headers: dict):
    before = await stocked.snapshot()
    reply = await stocked.request("POST", SCAN, headers=headers, json_body={"msg": "4000000000042"})
    assert reply.status == 401, reply
    assert await stocked.snapshot() == before


async def test_a_key_in_the_query_string_is_refused(stocked: ScanEnv):
    before = await stocked.snapshot()
    reply = await stocked.request(
        "POST", f"{SCAN}?api_key={stocked.scanner.key}", json_body={"msg": "4000000000042"}
    )
    assert reply.status == 401, reply
    assert await stocked.snapshot() == before
