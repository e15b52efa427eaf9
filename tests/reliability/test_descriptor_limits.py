"""Descriptors never run out: a real ``stocky serve`` under a lowered
``RLIMIT_NOFILE`` (as systemd's ``LimitNOFILE=`` sets it) keeps answering
``/health`` while a client holds more idle sockets than the process could
open, without filling its log; and ``/ws`` refuses sockets past its caps
(set through the environment, as an administrator would) with 503.
"""

from __future__ import annotations

import asyncio
import socket
import time

import aiohttp
import pytest
from support.kitchens import seed_kitchen

DESCRIPTORS = 256
IDLE_SOCKETS = 400  # well past the 256 descriptors Stocky may open


async def _ws(http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None):
    return await http.ws_connect(f"{url}/ws", headers=headers or {}, timeout=aiohttp.ClientWSTimeout(ws_close=2))


@pytest.mark.timeout(90)
async def test_idle_sockets_past_the_descriptor_limit_leave_health_answering(
    stocky_process, http
):
    seeded = await seed_kitchen(stocky_process.data_dir, scanners=[], items={}, viewers=("tv",))
    stocky_process.env.update(STOCKY_WS_MAX_SOCKETS="3", STOCKY_WS_MAX_ANONYMOUS="2")
    stocky_process.max_descriptors = DESCRIPTORS
    stocky_process.start()
    url = stocky_process.url

    # /ws: two anonymous screens, then the third anonymous one is refused;
    # a signed-in one still fits, and past the total nobody does.
    anonymous = [await _ws(http, url), await _ws(http, url)]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await _ws(http, url)
    assert refused.value.status == 503
    assert refused.value.headers and refused.value.headers["Retry-After"].isdigit()
    key = {"X-API-Key": seeded.keys["tv"]}
    signed_in = await _ws(http, url, key)
    with pytest.raises(aiohttp.WSServerHandshakeError) as full:
        await _ws(http, url, key)
    assert full.value.status == 503
    # A closed socket gives its place back.
    await anonymous.pop().close()
    async with asyncio.timeout(5):
        while True:
            try:
                anonymous.append(await _ws(http, url))
                break
            except aiohttp.WSServerHandshakeError:
                await asyncio.sleep(0.05)
    for ws in (*anonymous, signed_in):
        await ws.close()

    # Idle connections, more than the process has descriptors.
    log_before = stocky_process.log_path.stat().st_size
    began = time.monotonic()
    idle: list[socket.socket] = []
    try:
        for _ in range(IDLE_SOCKETS):
            idle.append(socket.create_connection(("127.0.0.1", stocky_process.port), timeout=5))
        assert stocky_process.open_fds() < DESCRIPTORS
        async with http.get(f"{url}/health", timeout=aiohttp.ClientTimeout(total=10)) as health:
            assert health.status == 200
            assert await health.json() == {"status": "ok"}
        # Stocky serves others as well, not just one lucky request.
        for _ in range(5):
            async with http.get(f"{url}/health", timeout=aiohttp.ClientTimeout(total=10)) as again:
                assert again.status == 200
    finally:
        for sock in idle:
            sock.close()
    assert stocky_process.running
    seconds = time.monotonic() - began
    logged = stocky_process.log_path.stat().st_size - log_before
    # A line saying idle connections were closed, and at most one report a
    # second of a burst of connections that came faster than they could be
    # closed: never a flood.
    reports = stocky_process.log().count("out of system resource")
    assert reports <= seconds + 1, stocky_process.log()[-3000:]
    assert logged < 2048 * (reports + 1), stocky_process.log()[-3000:]
