"""The ``/ws`` socket caps over a real loopback socket: a socket counts as
anonymous until it has signed in, whatever headers it brought, and a
signed-in screen still gets in while strangers fill every anonymous place."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from scan_support import (  # noqa: F401 (fixtures)
    ScanEnv,
    cheap_bcrypt,
    drain,
    receive_close,
    receive_json,
    receive_until,
)
from support.polling import eventually

from stocky.api import keys
from stocky.api.app import create_app
from stocky.core.settings import Settings
from stocky.schemas.actor import SYSTEM
from stocky.services.container import open_services

ANONYMOUS = 4
TOTAL = 6
CLOSE_UNAUTHORIZED = 4401
NOT_SIGNED_IN = {"Authorization": "Basic eA=="}  # a header, but no sign-in

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def env(tmp_path, aiohttp_client, cheap_bcrypt) -> AsyncIterator[ScanEnv]:
    settings = Settings(
        _env_file=None, data_dir=tmp_path, ws_max_sockets=TOTAL, ws_max_anonymous=ANONYMOUS
    )
    async with open_services(settings) as services:
        client = await aiohttp_client(create_app(services))
        try:
            yield ScanEnv(client=client, services=services, scanner=None, locations={})
        finally:
            await client.close()


async def identify(ws: aiohttp.ClientWebSocketResponse, **extra: str) -> dict:
    await ws.send_json({"action": "identify_ui", "ui_id": str(uuid.uuid4()), **extra})
    return await receive_json(ws)


async def refused_status(env: ScanEnv, headers: dict[str, str]) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await env.ws(headers=headers)
    return refused.value.status


async def test_a_header_is_not_a_sign_in_and_an_admin_still_gets_in(env: ScanEnv):
    strangers = [await env.ws(headers=NOT_SIGNED_IN) for _ in range(ANONYMOUS)]
    assert await refused_status(env, NOT_SIGNED_IN) == 503

    # A token that proves nothing is let in only to be checked, and closed.
    forged = await env.ws(headers={"Authorization": "Bearer forged.token.here"})
    assert (await receive_close(forged)).data == CLOSE_UNAUTHORIZED
    await eventually(lambda: env.open_sockets() == ANONYMOUS)
    assert await refused_status(env, NOT_SIGNED_IN) == 503

    # The household's Admin is not locked out by strangers, and hears changes.
    admin = await env.ws(headers=await env.bearer("Admin"))
    assert (await identify(admin))["authenticated"] is True
    garage = await env.services.locations.create({"name": "Garage"}, SYSTEM)
    changed, _ = await receive_until(admin, lambda m: m["action"] == "changed")
    assert (changed["entity"], changed["id"], changed["op"]) == ("location", str(garage.id), "created")
    assert all(m.get("action") != "changed" for m in await drain(strangers[1]))

    # A stranger that signs in (a token in identify_ui) gives its anonymous place back.
    assert (await identify(strangers[0], token=await env.token("Admin")))["authenticated"] is True
    latecomer = await env.ws(headers=NOT_SIGNED_IN)
    assert await refused_status(env, NOT_SIGNED_IN) == 503  # the total is reached now too

    for ws in (*strangers, admin, latecomer):
        await ws.close()
    limits = env.app[keys.SOCKET_LIMITS]  # every place given back, none counted twice
    await eventually(lambda: (limits.open, limits.open_anonymous) == (0, 0))
