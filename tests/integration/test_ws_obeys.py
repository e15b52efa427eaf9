"""``/ws`` obeys the permission table and keeps obeying it (DESIGN.md
section 6), over a real loopback server: a socket is closed (4401) once its
user may no longer listen, each event reaches only accounts that may read
it, and hostile frames get an error message while the hub carries on."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from scan_support import (  # noqa: F401 (fixtures)
    PASTA,
    QUIET,
    ScanEnv,
    cheap_bcrypt,
    drain,
    receive_close,
    receive_json,
    receive_until,
    scan_env,
    sees_changes,
    stock_pasta,
    stocky_info_logs,
)
from support.polling import eventually

from stocky.schemas.actor import SYSTEM

CLOSE_UNAUTHORIZED = 4401


async def _member(env: ScanEnv, role: str = "Member") -> tuple[str, str, str]:
    """A new person: their id, a bearer token and an API key of their own."""
    name, password = f"{role.lower()}-{uuid.uuid4().hex[:6]}", f"pw-{uuid.uuid4().hex}"
    user = await env.services.users.create(
        {"username": name, "role": role, "password": password, "with_api_key": True}, SYSTEM
    )
    reply = await env.request("POST", "/api/v1/auth/login", json_body={"username": name, "password": password})
    assert reply.status == 200, reply
    return str(user.id), reply.json["access_token"], user.api_key


# -- revocation --------------------------------------------------------------

CHANGES = {
    "deactivated": lambda users, id_: users.update(id_, {"is_active": False}, SYSTEM),
    "deleted": lambda users, id_: users.delete(id_, SYSTEM),
    "password changed": lambda users, id_: users.update(id_, {"password": "a-new-Secret-9"}, SYSTEM),
    "made a Scanner": lambda users, id_: users.update(id_, {"role": "Scanner"}, SYSTEM),
}


@pytest.mark.parametrize("credential", ["token", "api key"])
@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
async def test_a_socket_is_closed_when_its_user_may_no_longer_listen(
    scan_env: ScanEnv, change: str, credential: str
):
    await stock_pasta(scan_env)
    user_id, token, key = await _member(scan_env)
    ws, _ = await scan_env.screen(token=token if credential == "token" else key)
    await sees_changes(scan_env, ws)
    await drain(ws, 0.05)

    began = time.monotonic()
    await CHANGES[change](scan_env.services.users, uuid.UUID(user_id))
    if change == "password changed" and credential == "api key":
        # A new password ends sign-in tokens, not the account's API key.
        await sees_changes(scan_env, ws)
        await ws.close()
        return
    message = await receive_close(ws)
    took = time.monotonic() - began
    assert message.data == CLOSE_UNAUTHORIZED, message
    print(f"closed {took * 1000:.0f} ms after the change ({change}, {credential})")
    await eventually(lambda: scan_env.open_sockets() == 0)


async def test_a_role_that_may_still_read_keeps_the_socket_and_its_events(scan_env: ScanEnv):
    await stock_pasta(scan_env)
    user_id, token, _ = await _member(scan_env)
    ws, _ = await scan_env.screen(token=token)
    await scan_env.services.users.update(uuid.UUID(user_id), {"role": "Read-only"}, SYSTEM)
    await sees_changes(scan_env, ws)
    assert not ws.closed
    await ws.close()


async def test_another_users_change_leaves_the_socket_alone(scan_env: ScanEnv):
    await stock_pasta(scan_env)
    _, token, _ = await _member(scan_env)
    other_id, _, _ = await _member(scan_env)
    ws, _ = await scan_env.screen(token=token)
    await scan_env.services.users.update(uuid.UUID(other_id), {"is_active": False}, SYSTEM)
    await sees_changes(scan_env, ws)
    await ws.close()


# -- what each account may see -------------------------------------------------


async def test_a_scanner_key_gets_commands_but_no_inventory_data(scan_env: ScanEnv):
    await stock_pasta(scan_env)
    ws, ui = await scan_env.screen(token=scan_env.scanner.key)
    assert (await scan_env.scan(json.dumps({"command": "associate_ui", "payload": ui}))).status == 200
    assert (await scan_env.scan(PASTA)).status == 200  # +1, a changed sku and item, a scan result
    assert (await scan_env.scan(str(uuid.uuid4()))).status == 404  # a refused scan's result
    await scan_env.services.alerts.create({"message": "Freezer door open", "severity": "Warning"}, SYSTEM)
    assert (await scan_env.command("show_view", "log")).status == 200

    seen = await drain(ws)
    assert seen == [{"action": "show_view", "view": "log"}]  # and nothing else
    await ws.close()


async def test_scan_results_reach_only_a_screen_whose_user_may_read_them(scan_env: ScanEnv):
    await stock_pasta(scan_env)
    _, token, _ = await _member(scan_env, "Read-only")
    reader, reader_ui = await scan_env.screen(token=token)
    assert (await scan_env.scan(json.dumps({"command": "associate_ui", "payload": reader_ui}))).status == 200
    assert (await scan_env.scan(PASTA)).status == 200
    result, _ = await receive_until(reader, lambda m: m["action"] == "scan_result" and m.get("result") == "added")
    assert result["ok"] is True and result["quantity"] == 3
    await reader.close()


async def test_user_events_reach_admins_only(scan_env: ScanEnv):
    _, member_token, _ = await _member(scan_env)
    _, admin_token, _ = await _member(scan_env, "Admin")
    member, _ = await scan_env.screen(token=member_token)
    admin, _ = await scan_env.screen(token=admin_token)
    await scan_env.new_scanner("pantry-scanner")
    message, _ = await receive_until(admin, lambda m: m["action"] == "changed" and m["entity"] == "user")
    assert message["op"] == "created"
    assert [m for m in await drain(member, QUIET) if m.get("entity") == "user"] == []
    await member.close()
    await admin.close()


# -- hostile frames --------------------------------------------------------------

HOSTILE = {
    "JSON nested 1000 deep": "[" * 1000 + "]" * 1000,
    "JSON nested 30000 deep": "[" * 30000 + "]" * 30000,
    "a lone surrogate as ui_id": '{"action": "identify_ui", "ui_id": "\\ud800"}',
    "a number as ui_id": '{"action": "identify_ui", "ui_id": 12345}',
    "an object as ui_id": '{"action": "identify_ui", "ui_id": {"hex": "x"}}',
    "a list as action": '{"action": ["identify_ui"], "ui_id": "x"}',
    "a number as token": json.dumps({"action": "identify_ui", "ui_id": str(uuid.uuid4()), "token": 7}),
    "a null byte": '{"action": "identify_ui\\u0000", "ui_id": "x"}',
    "not JSON at all": "\x00\x01 not json",
}


@pytest.mark.parametrize("frame", HOSTILE.values(), ids=list(HOSTILE))
async def test_a_hostile_frame_gets_an_error_and_the_socket_carries_on(scan_env: ScanEnv, frame: str):
    ws = await scan_env.ws()
    await ws.send_str(frame)
    reply = await receive_json(ws)
    assert reply["action"] == "error" and reply["message"], reply
    ui = str(uuid.uuid4())
    await ws.send_json({"action": "identify_ui", "ui_id": ui})
    assert (await receive_json(ws)) == {"action": "identified", "ui_id": ui, "authenticated": False}
    assert scan_env.logs(severity="ERROR") == []
    await ws.close()


@pytest.mark.parametrize("token", ["\ud800", "sk_" + "\udfff" * 43, "é" * 10, "x" * 100_00])
async def test_a_hostile_token_closes_with_4401_not_a_crash(scan_env: ScanEnv, token: str):
    ws = await scan_env.ws()
    # Escaped, as a browser's JSON.stringify sends a lone surrogate.
    await ws.send_str(json.dumps({"action": "identify_ui", "ui_id": str(uuid.uuid4()), "token": token}))
    message = await receive_close(ws)
    assert message.data == CLOSE_UNAUTHORIZED, message
    assert scan_env.logs(severity="ERROR") == []
    bystander, _ = await scan_env.screen()  # the hub itself is fine
    await bystander.close()
