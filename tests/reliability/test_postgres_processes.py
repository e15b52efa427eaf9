"""Two ``stocky serve`` processes on one PostgreSQL database share one event
bus (LISTEN/NOTIFY): a change made through either reaches the screens and
browsers of both within a second, each exactly once, and a ``show_view`` card
scanned at one process reaches a screen connected to the other."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from mosquitto import free_port
from reliability_support import OFFLINE_LOOKUP, StockyProcess, call
from scan_support import drain, receive_until

from stocky.core.settings import Settings
from stocky.schemas.actor import SYSTEM
from stocky.services.container import open_services
from stocky.services.shared_bus import CHANNEL, LISTENER_NAME, SENDER_NAME

pytestmark = pytest.mark.postgresql

MILK = "4006381333931"
WITHIN = 1.0  # seconds: "every screen sees every change within a second"


async def _seed(url: str, data_dir: Path) -> dict[str, str]:
    settings = Settings(_env_file=None, data_dir=data_dir, database_url=url, uda_api_url=OFFLINE_LOOKUP)
    async with open_services(settings) as services:
        shelf = await services.locations.create({"name": "Shelf"}, SYSTEM)
        milk = await services.items.create({"name": "Milk", "upc": MILK}, SYSTEM)
        door = await services.users.create({"username": "door", "role": "Scanner"}, SYSTEM)
        await services.scans.set_state(door.id, {"current_location_id": shelf.id}, SYSTEM)
        eye = await services.users.create(
            {"username": "eye", "role": "Read-only", "password": uuid.uuid4().hex, "with_api_key": True},
            SYSTEM,
        )
    return {"door": door.api_key, "eye": eye.api_key, "milk": str(milk.id)}


@pytest.fixture(scope="module")
def two_processes(pg_server, pg_migrated, tmp_path_factory) -> Iterator[tuple[StockyProcess, StockyProcess, dict]]:
    name = pg_server.create_database(template=pg_migrated)
    url = pg_server.url(name)
    base = tmp_path_factory.mktemp("pg-two")
    kitchen = {**asyncio.run(_seed(url, base / "seed")), "database": name}
    processes = [StockyProcess(base / n, free_port(), DATABASE_URL=url) for n in ("a", "b")]
    try:
        for process in processes:
            process.start()
        yield processes[0], processes[1], kitchen
    finally:
        for process in processes:
            process.stop()
        pg_server.drop_database(name)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def scan(http: aiohttp.ClientSession, stocky: StockyProcess, key: str, msg: str) -> dict:
    answer = await call(http, "POST", f"{stocky.url}/api/v1/scanner/scan",
                        headers={"X-API-Key": key}, json_body={"msg": msg})
    assert answer.status == 200, answer
    return answer.body


def milk_changed(kitchen: dict):
    return lambda m: m.get("action") == "changed" and m.get("entity") == "item" and m.get("id") == kitchen["milk"]


async def test_a_change_through_one_process_reaches_the_other_s_browsers_once(two_processes, http):
    a, b, kitchen = two_processes
    viewer = {"X-API-Key": kitchen["eye"]}
    async with http.ws_connect(f"{a.url}/ws", headers=viewer) as on_a, \
            http.ws_connect(f"{b.url}/ws", headers=viewer) as on_b:
        await asyncio.sleep(0.2)  # both sockets subscribed
        began = time.monotonic()
        await scan(http, a, kitchen["door"], MILK)
        await receive_until(on_b, milk_changed(kitchen), timeout=WITHIN)
        assert time.monotonic() - began < WITHIN
        # And the other way round: B's change reaches A.
        await scan(http, b, kitchen["door"], MILK)
        await receive_until(on_a, milk_changed(kitchen), timeout=WITHIN)

        # Each socket heard each of the two scans exactly once.
        rest_a, rest_b = await drain(on_a, 0.5), await drain(on_b, 0.5)
    heard_a = 1 + sum(map(milk_changed(kitchen), rest_a))  # B's scan, read above
    heard_b = 1 + sum(map(milk_changed(kitchen), rest_b))
    assert (heard_a, heard_b) == (2, 2), (rest_a, rest_b)


async def test_show_view_scanned_at_one_process_reaches_a_screen_on_the_other(two_processes, http):
    a, b, kitchen = two_processes
    ui_id = str(uuid.uuid4())
    async with http.ws_connect(f"{b.url}/ws", headers={"X-API-Key": kitchen["eye"]}) as screen:
        await screen.send_str(json.dumps({"action": "identify_ui", "ui_id": ui_id}))
        await receive_until(screen, lambda m: m.get("action") == "identified")
        await scan(http, a, kitchen["door"], json.dumps({"command": "associate_ui", "payload": ui_id}))
        await scan(http, a, kitchen["door"], json.dumps({"command": "show_view", "payload": "inventory"}))
        shown, _ = await receive_until(screen, lambda m: m.get("action") == "show_view", timeout=WITHIN)
        assert shown == {"action": "show_view", "view": "inventory"}
        await scan(http, a, kitchen["door"], MILK)
        result, _ = await receive_until(
            screen, lambda m: m.get("action") == "scan_result" and m.get("item"), timeout=WITHIN
        )
        assert result["ok"] is True and result["item"]["id"] == kitchen["milk"]


async def test_dropped_connections_come_back(two_processes, http, pg_server):
    a, b, kitchen = two_processes
    await scan(http, a, kitchen["door"], MILK)  # A's sender is connected
    dropped = pg_server.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE application_name IN ('{LISTENER_NAME}', '{SENDER_NAME}')"
    )
    assert int(dropped.split()[1]) >= 3, dropped  # both listeners and A's sender at least
    async with http.ws_connect(f"{b.url}/ws", headers={"X-API-Key": kitchen["eye"]}) as on_b:
        await asyncio.sleep(0.2)

        async def reaches_b() -> bool:
            await scan(http, a, kitchen["door"], MILK)
            try:
                await receive_until(on_b, milk_changed(kitchen), timeout=WITHIN)
            except TimeoutError:
                return False
            return True

        # Back within the first retry (half a second) and a change's second.
        assert await reaches_b() or await reaches_b()


async def test_malformed_notifications_are_ignored(two_processes, http, pg_server):
    a, b, kitchen = two_processes
    deep = "[" * 5000  # nested deeper than the JSON parser recurses: must not end the listener
    for payload in ("not json", "[]", '{"o": "elsewhere", "e": [1]}', '{"o": "elsewhere", "u": 5}', deep):
        pg_server.sql(f"SELECT pg_notify('{CHANNEL}', '{payload}')", kitchen["database"])
    async with http.ws_connect(f"{b.url}/ws", headers={"X-API-Key": kitchen["eye"]}) as on_b:
        await asyncio.sleep(0.2)
        await scan(http, a, kitchen["door"], MILK)
        await receive_until(on_b, milk_changed(kitchen), timeout=WITHIN)
    assert "Ignored a malformed message from another Stocky process" in b.log()
