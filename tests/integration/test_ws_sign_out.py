"""A socket lives no longer than the credential it was opened with (DESIGN.md
section 15), over a real loopback server: signing a browser out closes the
sockets identified with its tokens (4401), signing out everywhere closes
every socket of the account, and a token's expiry closes its socket unless
the client identified again with a fresh token first."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from scan_support import (  # noqa: F401 (fixtures)
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

from stocky.core import security
from stocky.schemas.actor import SYSTEM

CLOSE_UNAUTHORIZED = 4401
COOKIE = "stocky_refresh"


async def _person(env: ScanEnv) -> tuple[str, str, str]:
    name, password = f"anna-{uuid.uuid4().hex[:6]}", f"pw-{uuid.uuid4().hex}"
    user = await env.services.users.create({"username": name, "role": "Member", "password": password}, SYSTEM)
    return str(user.id), name, password


async def _browser(env: ScanEnv, name: str, password: str) -> tuple[str, str]:
    """A browser's sign-in: its access token and its refresh cookie."""
    async with env.client.request("POST", "/api/v1/auth/session",
                                  json={"username": name, "password": password}) as reply:
        assert reply.status == 200, await reply.text()
        body = await reply.json()
        cookie = reply.cookies[COOKIE].value
    env.client.session.cookie_jar.clear()
    return body["access_token"], cookie


async def _logout(env: ScanEnv, cookie: str, **body) -> int:
    async with env.client.request("POST", "/api/v1/auth/logout", json=body,
                                  headers={"Cookie": f"{COOKIE}={cookie}"}) as reply:
        status = reply.status
    env.client.session.cookie_jar.clear()
    return status


async def test_signing_a_browser_out_closes_its_socket_and_only_its(scan_env: ScanEnv):
    await stock_pasta(scan_env)
    _, name, password = await _person(scan_env)
    phone_token, phone_cookie = await _browser(scan_env, name, password)
    laptop_token, _ = await _browser(scan_env, name, password)
    phone, _ = await scan_env.screen(token=phone_token)
    laptop, _ = await scan_env.screen(token=laptop_token)
    await sees_changes(scan_env, phone)

    began = time.monotonic()
    assert await _logout(scan_env, phone_cookie) == 204
    closed = await receive_close(phone)
    print(f"closed {(time.monotonic() - began) * 1000:.0f} ms after the sign-out")
    assert closed.data == CLOSE_UNAUTHORIZED, closed
    # The access token the phone still holds is dead too.
    reply = await scan_env.request("GET", "/api/v1/user/me", headers={"Authorization": f"Bearer {phone_token}"})
    assert reply.status == 401, reply
    # The same person's laptop goes on.
    await sees_changes(scan_env, laptop)
    await laptop.close()


async def test_signing_out_everywhere_closes_every_socket_of_the_account(scan_env: ScanEnv):
    await stock_pasta(scan_env)
    _, name, password = await _person(scan_env)
    phone_token, phone_cookie = await _browser(scan_env, name, password)
    laptop_token, laptop_cookie = await _browser(scan_env, name, password)
    login = await scan_env.request("POST", "/api/v1/auth/login", json_body={"username": name, "password": password})
    script_token = login.json["access_token"]
    sockets = [(await scan_env.screen(token=token))[0] for token in (phone_token, laptop_token, script_token)]
    someone_else, _ = await scan_env.screen(token=await scan_env.token("Admin"))

    assert await _logout(scan_env, phone_cookie, everywhere=True) == 204
    for ws in sockets:
        assert (await receive_close(ws)).data == CLOSE_UNAUTHORIZED
    for token in (phone_token, laptop_token, script_token):
        reply = await scan_env.request("GET", "/api/v1/user/me", headers={"Authorization": f"Bearer {token}"})
        assert reply.status == 401, reply
    async with scan_env.client.request("POST", "/api/v1/auth/refresh",
                                       headers={"Cookie": f"{COOKIE}={laptop_cookie}"}) as refresh:
        assert refresh.status == 401
    await sees_changes(scan_env, someone_else)  # another account is untouched
    await someone_else.close()


async def test_a_socket_closes_when_its_token_expires(scan_env: ScanEnv):
    user_id, _, _ = await _person(scan_env)
    version = await scan_env.services.users.token_version(uuid.UUID(user_id))
    short = security.create_access_token(
        scan_env.services.secret_key, uuid.UUID(user_id), version, timedelta(seconds=2))
    ws, _ = await scan_env.screen(token=short)
    closed = await receive_close(ws, timeout=10)
    assert closed.data == CLOSE_UNAUTHORIZED, closed
    assert "expired" in closed.extra, closed  # the reason says what to do
    await eventually(lambda: scan_env.open_sockets() == 0)


async def test_identifying_again_with_a_fresh_token_keeps_the_socket(scan_env: ScanEnv):
    await stock_pasta(scan_env)
    user_id, _, _ = await _person(scan_env)
    secret, uid = scan_env.services.secret_key, uuid.UUID(user_id)
    version = await scan_env.services.users.token_version(uid)
    ws, ui_id = await scan_env.screen(token=security.create_access_token(secret, uid, version, timedelta(seconds=2)))
    fresh = security.create_access_token(secret, uid, version, timedelta(minutes=10))
    await ws.send_json({"action": "identify_ui", "ui_id": ui_id, "token": fresh})
    assert (await receive_json(ws))["action"] == "identified"
    # Well past the first token's end, the socket is open and hears changes.
    assert [m for m in await drain(ws, 3.0) if "__frame__" in m] == []
    await sees_changes(scan_env, ws)
    await ws.close()


async def test_another_accounts_token_cannot_take_a_socket_over(scan_env: ScanEnv):
    user_id, _, _ = await _person(scan_env)
    uid = uuid.UUID(user_id)
    version = await scan_env.services.users.token_version(uid)
    mine = security.create_access_token(scan_env.services.secret_key, uid, version, timedelta(minutes=5))
    ws, ui_id = await scan_env.screen(token=mine)
    await ws.send_json({"action": "identify_ui", "ui_id": ui_id, "token": await scan_env.token("Admin")})
    refused = await receive_json(ws)
    assert refused["action"] == "error" and "someone else" in refused["message"], refused
    await ws.close()
