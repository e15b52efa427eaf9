"""The ``/ws`` hub (DESIGN.md section 6) over a real loopback socket: screens
identify, scanners steer the screen they are associated with, only
authenticated clients see inventory changes, and the hub protects itself
(message size cap, bounded send queues, clean shutdown)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from typing import Any

import aiohttp
import pytest
from scan_support import (  # noqa: F401 (fixtures)
    QUIET,
    TIMEOUT,
    ScanEnv,
    cheap_bcrypt,
    drain,
    receive_close,
    receive_json,
    receive_until,
    scan_env,
    stocky_info_logs,
)
from support.polling import eventually

from stocky.api import ws as ws_module
from stocky.core.events import Event
from stocky.schemas.actor import SYSTEM

CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4408
GOING_AWAY = 1001
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013

INVENTORY_ACTIONS = {"changed", "alert", "scan_result"}


def _cmd(command: str, payload: str) -> str:
    return json.dumps({"command": command, "payload": payload})


async def _associate(env: ScanEnv, ui_id: str, key: str | None = None) -> None:
    reply = await env.scan(_cmd("associate_ui", ui_id), key=key)
    assert reply.status == 200, reply


async def _stocked_pasta(env: ScanEnv) -> Any:
    pasta = await env.new_item("Pasta", upc="4000000000042", storage_type="Ambient")
    await env.put(pasta, "Pantry", 2)
    reply = await env.command("set_location", env.locations["Pantry"])
    assert reply.status == 200, reply
    return pasta


# ---------------------------------------------------------------------------
# Screens and show_view
# ---------------------------------------------------------------------------


async def test_identify_ui_answers_and_registers_the_screen(scan_env: ScanEnv):
    ws, ui = await scan_env.screen()
    assert scan_env.services.screens.is_connected(ui)
    await ws.close()
    await eventually(lambda: not scan_env.services.screens.is_connected(ui))


async def test_show_view_reaches_only_the_associated_screen(scan_env: ScanEnv):
    kitchen, kitchen_ui = await scan_env.screen()
    hallway, hallway_ui = await scan_env.screen()
    await _associate(scan_env, kitchen_ui)
    await drain(kitchen)  # nothing an anonymous screen may see so far
    await drain(hallway)

    reply = await scan_env.command("show_view", "log")
    assert reply.status == 200, reply

    assert await receive_json(kitchen) == {"action": "show_view", "view": "log"}
    assert await drain(hallway, QUIET) == []
    assert await drain(kitchen, QUIET) == []  # and nothing else for an anonymous one
    await kitchen.close()
    await hallway.close()


async def test_show_view_reaches_only_the_associated_signed_in_screen(scan_env: ScanEnv):
    token = await scan_env.token("Member")
    kitchen, kitchen_ui = await scan_env.screen(token=token)
    hallway, _ = await scan_env.screen(token=token)
    await _associate(scan_env, kitchen_ui)

    reply = await scan_env.command("show_view", "shopping")
    assert reply.status == 200, reply

    message, _ = await receive_until(kitchen, lambda m: m["action"] == "show_view")
    assert message == {"action": "show_view", "view": "shopping"}
    seen = await drain(hallway, QUIET)
    assert [m for m in seen if m["action"] != "changed"] == []  # only scanner-state events
    await kitchen.close()
    await hallway.close()


async def test_two_scanners_steer_their_own_screens(scan_env: ScanEnv):
    other = await scan_env.new_scanner()
    a, a_ui = await scan_env.screen()
    b, b_ui = await scan_env.screen()
    await _associate(scan_env, a_ui)
    await _associate(scan_env, b_ui, key=other.key)

    assert (await scan_env.command("show_view", "users")).status == 200
    assert (await scan_env.command("show_view", "scanners", key=other.key)).status == 200

    assert await drain(a) == [{"action": "show_view", "view": "users"}]
    assert await drain(b) == [{"action": "show_view", "view": "scanners"}]
    await a.close()
    await b.close()


async def test_a_screen_that_identifies_again_leaves_its_old_ui_id(scan_env: ScanEnv):
    ws, old_ui = await scan_env.screen()
    new_ui = str(uuid.uuid4())
    await ws.send_json({"action": "identify_ui", "ui_id": new_ui})
    assert (await receive_json(ws))["ui_id"] == new_ui
    assert not scan_env.services.screens.is_connected(old_ui)

    await _associate(scan_env, old_ui)
    assert (await scan_env.command("show_view", "log")).status == 200
    assert await drain(ws) == []
    await _associate(scan_env, new_ui)
    assert (await scan_env.command("show_view", "log")).status == 200
    assert await drain(ws) == [{"action": "show_view", "view": "log"}]
    await ws.close()


async def test_a_ui_id_in_use_cannot_be_claimed_by_another_connection(scan_env: ScanEnv):
    """Naming a screen's id is not enough to receive its scan results."""
    await _stocked_pasta(scan_env)
    owner, ui = await scan_env.screen(token=await scan_env.token("Member"))
    for credentials in ({}, {"token": scan_env.scanner.key}, {"token": await scan_env.token("Admin")}):
        thief = await scan_env.ws()
        await thief.send_json({"action": "identify_ui", "ui_id": ui, **credentials})
        reply = await receive_json(thief)
        assert reply["action"] == "error" and "another connection" in reply["message"].lower(), reply
        await _associate(scan_env, ui)
        assert (await scan_env.scan("4000000000042")).status == 200
        result, _ = await receive_until(owner, lambda m: m["action"] == "scan_result")
        assert result["ok"] is True
        assert [m for m in await drain(thief, QUIET) if m["action"] == "scan_result"] == []
        await thief.close()
    await owner.close()
    await eventually(lambda: not scan_env.services.screens.is_connected(ui))
    again, _ = await scan_env.screen(ui)  # free once its connection is gone
    await again.close()


async def test_the_same_user_reconnecting_takes_its_screen_over(scan_env: ScanEnv):
    token = await scan_env.token("Member")
    old, ui = await scan_env.screen(token=token)
    new, _ = await scan_env.screen(ui, token=token)
    replaced, _ = await receive_until(old, lambda m: m["action"] == "replaced")
    assert replaced["ui_id"] == ui
    await _associate(scan_env, ui)
    assert (await scan_env.command("show_view", "inventory")).status == 200
    message, _ = await receive_until(new, lambda m: m["action"] == "show_view")
    assert message == {"action": "show_view", "view": "inventory"}
    assert [m for m in await drain(old, QUIET) if m["action"] == "show_view"] == []
    await old.close()
    assert scan_env.services.screens.is_connected(ui)  # the old socket's end leaves it alone
    await new.close()


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        json.dumps(["identify_ui"]),
        json.dumps({"action": "subscribe", "ui_id": str(uuid.uuid4())}),
        json.dumps({"action": "identify_ui", "ui_id": "kitchen"}),
        json.dumps({"action": "identify_ui"}),
    ],
    ids=["not JSON", "a list", "unknown action", "ui_id not a UUID", "no ui_id"],
)
async def test_a_bad_message_gets_an_error_and_the_socket_stays_usable(scan_env: ScanEnv, message: str):
    ws = await scan_env.ws()
    await ws.send_str(message)
    reply = await receive_json(ws)
    assert reply["action"] == "error" and reply["message"]
    ui = str(uuid.uuid4())
    await ws.send_json({"action": "identify_ui", "ui_id": ui})
    assert (await receive_json(ws))["action"] == "identified"
    await ws.close()


async def test_a_binary_frame_gets_an_error(scan_env: ScanEnv):
    ws = await scan_env.ws()
    await ws.send_bytes(b"\x00\x01\x02")
    reply = await receive_json(ws)
    assert reply["action"] == "error"
    await ws.close()


# ---------------------------------------------------------------------------
# Authentication and what an anonymous screen may see
# ---------------------------------------------------------------------------


async def test_an_anonymous_screen_gets_no_inventory_data(scan_env: ScanEnv):
    token = await scan_env.token("Member")
    await _stocked_pasta(scan_env)
    anonymous, anonymous_ui = await scan_env.screen()
    signed_in, signed_in_ui = await scan_env.screen(token=token)
    assert anonymous_ui != signed_in_ui
    # The scanner is linked to the anonymous screen: its results go there.
    await _associate(scan_env, anonymous_ui)

    ok = await scan_env.scan("4000000000042")  # +1 Pasta
    assert ok.status == 200, ok
    new = await scan_env.scan("8710398503969")  # a new product, created
    assert new.status == 200, new
    refused = await scan_env.scan(str(uuid.uuid4()))  # an error, with a message
    assert refused.status == 404
    await scan_env.services.alerts.create({"message": "Freezer door open", "severity": "Warning"}, SYSTEM)

    seen = await drain(signed_in)
    entities = {(m["entity"], m["op"]) for m in seen if m["action"] == "changed"}
    assert ("sku", "updated") in entities
    assert ("item", "updated") in entities
    assert ("item", "created") in entities
    assert ("alert", "created") in entities
    assert any(m["action"] == "alert" and m["message"] == "Freezer door open" for m in seen)
    for message in seen:
        if message["action"] == "changed":
            assert set(message) == {"action", "entity", "id", "op"}, message

    assert await drain(anonymous) == []  # no changes, no alerts, no scan results
    await anonymous.close()
    await signed_in.close()


async def test_moving_everything_and_its_undo_reach_signed_in_screens(scan_env: ScanEnv):
    """Both are stock changes like any other: a screen hears of every place
    they touch, so it shows the move and the undo without a reload."""
    pasta = await _stocked_pasta(scan_env)
    rice = await scan_env.new_item("Rice")
    await scan_env.put(rice, "Pantry", 1)
    await scan_env.put(rice, "Shelf", 1)  # the shelf already holds some
    screen, _ = await scan_env.screen(token=await scan_env.token("Member"))
    member = await scan_env.bearer("Member")
    await drain(screen, 0.05)

    moved = await scan_env.request("POST", f"/api/v1/location/{scan_env.locations['Pantry']}/empty",
                                   headers=member, json_body={"into_location_id": scan_env.locations["Shelf"]})
    assert moved.status == 200, moved
    places = {str(sku.id) for item in (pasta, rice)
              for sku in (await scan_env.services.items.get(item.id, SYSTEM)).skus}
    assert len(places) == 4  # pasta and rice, in the pantry and on the shelf
    assert places <= {m["id"] for m in await drain(screen) if m["action"] == "changed" and m["entity"] == "sku"}

    undone = await scan_env.request("POST", f"/api/v1/stock-change/{moved.json['change_id']}/undo", headers=member)
    assert undone.status == 200, undone
    assert places <= {m["id"] for m in await drain(screen) if m["action"] == "changed" and m["entity"] == "sku"}
    assert await scan_env.quantities(rice) == {"Pantry": 1, "Shelf": 1}
    await screen.close()


async def test_a_signed_in_associated_screen_gets_its_scan_results(scan_env: ScanEnv):
    pasta = await _stocked_pasta(scan_env)
    screen, ui = await scan_env.screen(token=await scan_env.token("Member"))
    await _associate(scan_env, ui)

    body = (await scan_env.scan("4000000000042")).json

    result, _ = await receive_until(
        screen, lambda m: m["action"] == "scan_result" and m.get("result") == "added"
    )
    assert result["ok"] is True
    assert result["message"] == body["message"] == "Added Pasta to Pantry (now 3)"
    assert result["item"]["id"] == str(pasta.id)
    assert result["quantity"] == 3

    refused = await scan_env.scan(str(uuid.uuid4()))
    result, _ = await receive_until(screen, lambda m: m["action"] == "scan_result" and not m["ok"])
    # It names its scanner, so the screen can answer for it ("where does it go?").
    assert result.pop("scanner_id") == str(scan_env.scanner.id)
    assert result == {"action": "scan_result", "ok": False, "message": refused.error["message"],
                      "code": refused.error["code"]}
    await screen.close()


async def test_an_anonymous_screen_still_gets_view_commands_after_scans(scan_env: ScanEnv):
    await _stocked_pasta(scan_env)
    ws, ui = await scan_env.screen()
    await _associate(scan_env, ui)
    assert (await scan_env.scan("4000000000042")).status == 200
    assert (await scan_env.command("show_view", "inventory")).status == 200
    assert await drain(ws) == [{"action": "show_view", "view": "inventory"}]
    await ws.close()


async def _assert_authenticated(env: ScanEnv, ws: aiohttp.ClientWebSocketResponse) -> None:
    """A signed-in screen sees the change a scan makes."""
    await drain(ws, 0.05)
    reply = await env.scan("4000000000042")
    assert reply.status == 200, reply
    message, _ = await receive_until(ws, lambda m: m["action"] == "changed" and m["entity"] == "sku")
    assert message["op"] == "updated"


async def _identify(ws: aiohttp.ClientWebSocketResponse, **extra: Any) -> dict[str, Any]:
    await ws.send_json({"action": "identify_ui", "ui_id": str(uuid.uuid4()), **extra})
    return await receive_json(ws)


async def test_authentication_by_bearer_header(scan_env: ScanEnv):
    await _stocked_pasta(scan_env)
    ws = await scan_env.ws(headers=await scan_env.bearer("Member"))
    assert (await _identify(ws))["authenticated"] is True
    await _assert_authenticated(scan_env, ws)
    await ws.close()


@pytest.mark.parametrize("param", ["token", "api_key", "access_token"])
async def test_credentials_in_the_address_are_refused(scan_env: ScanEnv, param: str):
    ws = await scan_env.ws(params={param: await scan_env.token("Member")})
    error = await receive_json(ws)
    assert error["action"] == "error" and "address" in error["message"], error
    message = await receive_close(ws)
    assert message.data == CLOSE_UNAUTHORIZED
    await eventually(lambda: scan_env.open_sockets() == 0)


async def test_authentication_by_token_in_identify_ui(scan_env: ScanEnv):
    await _stocked_pasta(scan_env)
    ws = await scan_env.ws()
    assert (await _identify(ws, token=await scan_env.token("Member")))["authenticated"] is True
    await _assert_authenticated(scan_env, ws)
    await ws.close()


@pytest.mark.parametrize("where", ["X-API-Key header", "identify_ui"])
async def test_authentication_by_api_key(scan_env: ScanEnv, where: str):
    await _stocked_pasta(scan_env)
    created = await scan_env.services.users.create(
        {"username": "home-automation", "role": "Member", "password": "ha-Secret-1", "with_api_key": True},
        SYSTEM,
    )
    key = created.api_key
    if where == "X-API-Key header":
        ws = await scan_env.ws(headers={"X-API-Key": key})
        reply = await _identify(ws)
    else:
        ws = await scan_env.ws()
        reply = await _identify(ws, token=key)
    assert reply["authenticated"] is True
    await _assert_authenticated(scan_env, ws)
    await ws.close()


async def test_without_credentials_a_screen_is_anonymous(scan_env: ScanEnv):
    await _stocked_pasta(scan_env)
    ws = await scan_env.ws()
    assert (await _identify(ws))["authenticated"] is False
    assert (await scan_env.scan("4000000000042")).status == 200
    assert await drain(ws) == []
    await ws.close()


BAD_TOKENS = {
    "garbage": "not-a-token",
    "a forged JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
    "an API key that does not exist": "sk_" + "A" * 43,
}


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
@pytest.mark.parametrize("where", ["bearer header", "identify_ui"])
async def test_a_bad_token_closes_with_4401(scan_env: ScanEnv, token: str, where: str):
    if where == "bearer header":
        ws = await scan_env.ws(headers={"Authorization": f"Bearer {token}"})
    else:
        ws = await scan_env.ws()
        await ws.send_json({"action": "identify_ui", "ui_id": str(uuid.uuid4()), "token": token})
    message = await receive_close(ws)
    assert message.type == aiohttp.WSMsgType.CLOSE, message
    assert message.data == CLOSE_UNAUTHORIZED
    assert ws.close_code == CLOSE_UNAUTHORIZED
    await eventually(lambda: scan_env.open_sockets() == 0)


async def test_a_deactivated_users_credentials_close_with_4401(scan_env: ScanEnv):
    token = await scan_env.token("Member")
    scanner = await scan_env.new_scanner()
    await scan_env.services.users.deactivate(uuid.UUID(scan_env._people["Member"]), SYSTEM)
    await scan_env.services.users.deactivate(uuid.UUID(scanner.id), SYSTEM)
    for credentials in ({"Authorization": f"Bearer {token}"}, {"X-API-Key": scanner.key}):
        ws = await scan_env.ws(headers=credentials)
        message = await receive_close(ws)
        assert message.data == CLOSE_UNAUTHORIZED, (credentials.keys(), message)


@pytest.mark.parametrize("where", ["bearer header", "identify_ui"])
async def test_a_database_that_cannot_be_read_at_sign_in_gets_a_clear_error(
    scan_env: ScanEnv, where: str, caplog: pytest.LogCaptureFixture
):
    if not scan_env.services.db.is_sqlite:
        pytest.skip("a database file deleted under Stocky is a SQLite fault")
    token = await scan_env.token("Member")
    for name in ("stocky.db", "stocky.db-wal", "stocky.db-shm"):
        (scan_env.services.settings.data_dir / name).unlink(missing_ok=True)
    scan_env.services.db.read_engine.dispose()  # the next read opens the (missing) file
    if where == "bearer header":
        ws = await scan_env.ws(headers={"Authorization": f"Bearer {token}"})
        error = await receive_json(ws)
        assert (await receive_close(ws)).data == TRY_AGAIN_LATER
    else:
        ws = await scan_env.ws()
        error = await _identify(ws, token=token)
        assert (await _identify(ws))["authenticated"] is False  # the socket still answers
        await ws.close()
    assert error["action"] == "error" and error["code"] == "storage_unavailable", error
    assert "database" in error["message"]
    await eventually(lambda: scan_env.open_sockets() == 0)
    assert not [record for record in caplog.records if record.exc_info]


# ---------------------------------------------------------------------------
# Protection: size cap, slow clients, shutdown
# ---------------------------------------------------------------------------


async def test_a_100_kib_frame_closes_the_socket_with_1009(scan_env: ScanEnv):
    bystander, _ = await scan_env.screen()
    ws, ui = await scan_env.screen()
    await ws.send_str(json.dumps({"action": "identify_ui", "ui_id": ui, "pad": "x" * 100 * 1024}))
    message = await receive_close(ws)
    assert message.type == aiohttp.WSMsgType.CLOSE, message
    assert message.data == MESSAGE_TOO_BIG
    await eventually(lambda: not scan_env.services.screens.is_connected(ui))
    # The hub itself is fine.
    await bystander.send_json({"action": "identify_ui", "ui_id": str(uuid.uuid4())})
    assert (await receive_json(bystander))["action"] == "identified"
    await bystander.close()


async def test_a_frame_under_the_cap_is_accepted(scan_env: ScanEnv):
    ws = await scan_env.ws()
    ui = str(uuid.uuid4())
    await ws.send_str(json.dumps({"action": "identify_ui", "ui_id": ui, "pad": "x" * 60 * 1024}))
    assert (await receive_json(ws))["action"] == "identified"
    await ws.close()


# Big, incompressible event ids fill the socket buffers of a client that does
# not read within a few megabytes.
_BIG = os.urandom(24_000).hex()


def _flood_event(i: int) -> Event:
    return Event(entity="flood", id=f"{i}:{_BIG}", op="updated")


def _dropped(env: ScanEnv) -> bool:
    return any("could not keep up" in e.message for e in env.logs(severity="WARN"))


async def _flood_until_dropped(
    env: ScanEnv, normal: aiohttp.ClientWebSocketResponse, limit: int = 3000
) -> int:
    """Publish big events one by one, the normal client reading each, until
    the hub drops the client that never reads. Returns how many were sent."""
    for i in range(limit):
        env.services.bus.publish(_flood_event(i))
        message = await receive_json(normal)
        assert message["action"] == "changed" and message["id"].startswith(f"{i}:")
        if _dropped(env):
            return i + 1
    raise AssertionError(f"no client was dropped after {limit} big events")


@pytest.fixture
def small_send_queue(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(ws_module, "SEND_QUEUE", 8)
    return 8


async def test_a_slow_client_is_dropped_while_a_normal_one_keeps_working(
    scan_env: ScanEnv, small_send_queue: int
):
    key = await scan_env.token("Member")
    normal, _ = await scan_env.screen(token=key)
    slow, _ = await scan_env.screen(token=key)  # from now on it never reads

    sent = await _flood_until_dropped(scan_env, normal)

    # The normal client keeps getting everything, in order.
    scan_env.services.bus.publish(Event(entity="marker", id="after-the-drop", op="created"))
    assert await receive_json(normal) == {
        "action": "changed", "entity": "marker", "id": "after-the-drop", "op": "created"
    }
    assert not normal.closed
    warning = [e for e in scan_env.logs(severity="WARN") if "could not keep up" in e.message]
    assert len(warning) == 1

    # The slow one, once it looks, finds at most what was queued before the
    # drop, never the marker, and then the close 4408.
    received = 0
    async with asyncio.timeout(TIMEOUT):
        while True:
            message = await slow.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            assert data["entity"] == "flood", data
            received += 1
    assert message.type == aiohttp.WSMsgType.CLOSE, message
    assert message.data == CLOSE_TOO_SLOW
    assert received < sent

    # And the normal client still works after all that.
    scan_env.services.bus.publish(Event(entity="marker", id="still-here", op="created"))
    assert (await receive_json(normal))["id"] == "still-here"
    await normal.close()


async def test_a_dropped_slow_client_is_disconnected_without_its_help(
    scan_env: ScanEnv, small_send_queue: int
):
    key = await scan_env.token("Member")
    normal, _ = await scan_env.screen(token=key)
    slow, _ = await scan_env.screen(token=key)
    try:
        await _flood_until_dropped(scan_env, normal)
        # The slow client still does not read: the hub must let go of it by itself.
        await eventually(lambda: scan_env.open_sockets() == 1, timeout=3.0)
    finally:
        # Unstick it either way, so the test server can shut down.
        await receive_close(slow, timeout=TIMEOUT)
        await normal.close()


async def test_sockets_are_closed_with_going_away_on_shutdown(scan_env: ScanEnv):
    signed_in, _ = await scan_env.screen(token=await scan_env.token("Member"))
    anonymous, _ = await scan_env.screen()
    bare = await scan_env.ws()  # never identified
    readers = [asyncio.create_task(receive_close(ws)) for ws in (signed_in, anonymous, bare)]
    await eventually(lambda: scan_env.open_sockets() == 3)

    async with asyncio.timeout(TIMEOUT):
        await scan_env.client.server.close()

    for reader in readers:
        message = await reader
        assert message.type == aiohttp.WSMsgType.CLOSE, message
        assert message.data == GOING_AWAY
    assert scan_env.open_sockets() == 0
    assert signed_in.close_code == GOING_AWAY


async def test_shutdown_closes_a_screen_that_is_not_reading_right_now(scan_env: ScanEnv):
    """The close frame waits in the buffer; the screen finds it when it looks."""
    ws, _ = await scan_env.screen()
    async with asyncio.timeout(TIMEOUT + 6):
        await scan_env.client.server.close()
    message = await receive_close(ws)
    assert message.data == GOING_AWAY


async def test_shutdown_is_not_held_up_by_a_client_that_stopped_reading(scan_env: ScanEnv):
    key = await scan_env.token("Member")
    normal, _ = await scan_env.screen(token=key)
    stuck, _ = await scan_env.screen(token=key)
    # Fill the stuck client's socket buffers without overflowing its queue
    # (256 by default), so it is not dropped: it is merely not reading.
    for i in range(150):
        scan_env.services.bus.publish(_flood_event(i))
        await receive_json(normal)
    assert not _dropped(scan_env)
    reader = asyncio.create_task(receive_close(normal, timeout=10))
    try:
        async with asyncio.timeout(3.0):
            await scan_env.app.shutdown()  # what the runner does on SIGTERM
        message = await reader
        assert message.data == GOING_AWAY
    finally:
        reader.cancel()
        await receive_close(stuck, timeout=TIMEOUT)  # unstick it for the teardown


def _cut(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Drop the connection the hard way, as a tablet going out of Wi-Fi range does."""
    transport = ws._conn.transport  # noqa: SLF001 (no public way to reset a socket)
    assert transport is not None
    transport.abort()


async def _fill_buffers_of(env: ScanEnv, normal: aiohttp.ClientWebSocketResponse, count: int = 150) -> None:
    """Big events until a client that does not read has full socket buffers
    (its queue, 256 by default, does not overflow)."""
    for i in range(count):
        env.services.bus.publish(_flood_event(i))
        await receive_json(normal)
    assert not _dropped(env)


async def test_a_client_that_vanishes_is_forgotten(scan_env: ScanEnv):
    normal, _ = await scan_env.screen(token=await scan_env.token("Member"))
    gone, gone_ui = await scan_env.screen(token=await scan_env.token("Member"))
    _cut(gone)
    await eventually(lambda: scan_env.open_sockets() == 1)
    assert not scan_env.services.screens.is_connected(gone_ui)
    scan_env.services.bus.publish(Event(entity="marker", id="m", op="created"))
    assert (await receive_json(normal))["id"] == "m"
    assert scan_env.logs(severity="ERROR") == []
    await normal.close()


async def test_a_client_that_vanishes_mid_send_is_forgotten_quietly(scan_env: ScanEnv):
    normal, _ = await scan_env.screen(token=await scan_env.token("Member"))
    stuck, stuck_ui = await scan_env.screen(token=await scan_env.token("Member"))
    await _fill_buffers_of(scan_env, normal)  # the hub is now waiting to send to it

    _cut(stuck)

    await eventually(lambda: not scan_env.services.screens.is_connected(stuck_ui), timeout=3.0)
    await eventually(lambda: scan_env.open_sockets() == 1, timeout=3.0)
    assert [e.message for e in scan_env.logs(severity="ERROR")] == []
    await normal.close()


async def test_a_dropped_slow_client_leaves_no_socket_and_no_error_behind(
    scan_env: ScanEnv, small_send_queue: int
):
    normal, _ = await scan_env.screen(token=await scan_env.token("Member"))
    slow, _ = await scan_env.screen(token=await scan_env.token("Member"))
    await _flood_until_dropped(scan_env, normal)
    message = await receive_close(slow)  # it reads at last, and finds the close
    assert message.data == CLOSE_TOO_SLOW
    await eventually(lambda: scan_env.open_sockets() == 1, timeout=3.0)
    assert [e.message for e in scan_env.logs(severity="ERROR")] == []
    await normal.close()
