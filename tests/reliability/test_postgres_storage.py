"""A PostgreSQL server that goes away or holds a lock under a running Stocky.

As for SQLite (test_storage_faults.py): a scan answered 200 is in the
journal, and the answers are clear: 503 ``storage_unavailable`` while the
server cannot be reached and 503 ``storage_busy`` with ``Retry-After`` after
a bounded wait for a lock another connection holds; ``/health`` 503 while
writes fail; no traceback in the log; back to normal without a restart.
The server is a real throwaway PostgreSQL (``tests/pg_server.py``), stopped
mid-run; the lock is held by a second real connection.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import aiohttp
import psycopg
import pytest
from reliability_support import API, SCAN, in_process_stocky
from support.kitchens import seed_kitchen
from support.polling import eventually

from stocky.core.events import Event
from stocky.db import migrations
from stocky.db.faults import LOCK_WAIT

pytestmark = pytest.mark.postgresql

MILK = "4006381333931"


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("stocky") and r.exc_info]


async def call(
    http: aiohttp.ClientSession, runtime, method: str, path: str, key: str, **kwargs
) -> tuple[int, dict, str | None]:
    url = f"http://127.0.0.1:{runtime.bound_port}{path}"
    timeout = aiohttp.ClientTimeout(total=LOCK_WAIT * 3)  # waiting for ever fails the test
    async with http.request(method, url, headers={"X-API-Key": key}, timeout=timeout, **kwargs) as reply:
        return reply.status, await reply.json(), reply.headers.get("Retry-After")


def scan(http, runtime, key: str, scan_id: str):
    return call(http, runtime, "POST", SCAN, key, json={"msg": MILK, "scan_id": scan_id})


def journal_scan_ids(url: str) -> list[str]:
    with psycopg.connect(conninfo(url)) as connection:
        rows = connection.execute("SELECT scan_id FROM stock_change WHERE scan_id IS NOT NULL")
        return sorted(row[0] for row in rows)


def conninfo(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_an_unreachable_server_gets_503_without_a_traceback_and_scans_resume(
    own_pg_server, tmp_path, http, caplog
):
    caplog.set_level(logging.INFO, logger="stocky")
    url = own_pg_server.url(own_pg_server.create_database())
    await migrations.upgrade(url)
    data = tmp_path / "data"
    seeded = await seed_kitchen(
        data, scanners=["pantry"], viewers=("monitor",), items={MILK: "Milk"}, database_url=url
    )
    scanner, monitor = seeded.keys["pantry"], seeded.keys["monitor"]
    async with in_process_stocky(data, database_url=url) as runtime:
        assert (await scan(http, runtime, scanner, "before"))[0] == 200

        own_pg_server.halt()
        status, body, _ = await scan(http, runtime, scanner, "while-down")
        assert status == 503 and body["error"]["code"] == "storage_unavailable"
        assert "cannot reach its database" in body["error"]["message"]
        status, body, _ = await call(http, runtime, "GET", f"{API}/item", monitor)
        assert status == 503 and "cannot reach its database" in body["error"]["message"]
        # A signed-in monitor's /health: 503, and its key cannot be checked now.
        assert (await call(http, runtime, "GET", "/health", monitor))[:2] == (503, {"status": "degraded"})
        assert tracebacks(caplog) == []

        own_pg_server.resume()

        async def healthy_again() -> bool:
            # /health is 200 once a write succeeds a moment after the last failure.
            assert (await scan(http, runtime, scanner, f"after-{uuid.uuid4()}"))[0] == 200
            status, body, _ = await call(http, runtime, "GET", "/health", monitor)
            return (status, body.get("database")) == (200, "ok")

        await eventually(healthy_again, interval=0.5, what="/health once the server is back")
    assert tracebacks(caplog) == []
    ids = journal_scan_ids(url)
    assert "before" in ids and "while-down" not in ids


async def test_a_lock_held_elsewhere_gets_503_with_retry_after_then_scans_go_through(
    pg_server, pg_migrated, tmp_path, http, caplog
):
    name = pg_server.create_database(template=pg_migrated)
    url = pg_server.url(name)
    data = tmp_path / "data"
    try:
        seeded = await seed_kitchen(data, scanners=["pantry"], items={MILK: "Milk"}, database_url=url)
        key = seeded.keys["pantry"]
        async with in_process_stocky(data, database_url=url) as runtime:
            assert (await scan(http, runtime, key, "first"))[0] == 200
            # Another program (or another Stocky in a long transaction) holds the row.
            with psycopg.connect(conninfo(url)) as holder:
                holder.execute("SELECT * FROM sku FOR UPDATE")
                busy = await asyncio.gather(*(scan(http, runtime, key, f"locked-{n}") for n in range(3)))
                status, _, _ = await call(http, runtime, "GET", "/health", key)
                holder.rollback()
            assert {status for status, _, _ in busy} == {503}
            assert {body["error"]["code"] for _, body, _ in busy} == {"storage_busy"}
            assert all(retry and int(retry) > 0 for _, _, retry in busy)
            assert "Try again" in busy[0][1]["error"]["message"]
            assert status == 503  # writes are failing

            status, body, _ = await scan(http, runtime, key, "after")
            assert status == 200 and body["quantity"] == 2
        assert journal_scan_ids(url) == ["after", "first"]
        assert tracebacks(caplog) == []
    finally:
        pg_server.drop_database(name)


async def test_a_screen_rechecked_while_the_server_is_away_reconnects_signed_in(
    own_pg_server, tmp_path, http
):
    """An account change heard while the database cannot be read says
    nothing about the account: the screen is closed to reconnect (1013),
    never signed out (4401), and comes back with the same key."""
    url = own_pg_server.url(own_pg_server.create_database())
    await migrations.upgrade(url)
    data = tmp_path / "data"
    seeded = await seed_kitchen(data, scanners=[], viewers=("monitor",), items={}, database_url=url)
    with psycopg.connect(conninfo(url)) as connection:
        (monitor_id,) = connection.execute("SELECT id FROM \"user\" WHERE username = 'monitor'").fetchone()
    headers = {"X-API-Key": seeded.keys["monitor"]}  # a key: a bearer token is a sign-in's
    async with in_process_stocky(data, database_url=url) as runtime:
        ws_url = f"http://127.0.0.1:{runtime.bound_port}/ws"
        async with http.ws_connect(ws_url, headers=headers) as screen:
            await screen.send_json({"action": "identify_ui", "ui_id": str(uuid.uuid4())})
            identified = await asyncio.wait_for(screen.receive_json(), 5)  # its sign-in checked
            assert identified == {"action": "identified", "ui_id": identified["ui_id"], "authenticated": True}
            own_pg_server.halt()
            # The account changed (elsewhere, just before the server went away).
            runtime.services.bus.publish(Event("user", str(monitor_id), "updated"))
            closed = await asyncio.wait_for(screen.receive(), LOCK_WAIT * 3)
            while closed.type == aiohttp.WSMsgType.TEXT:  # messages sent before the close
                closed = await asyncio.wait_for(screen.receive(), LOCK_WAIT * 3)
            assert closed.type == aiohttp.WSMsgType.CLOSE
            assert closed.data == aiohttp.WSCloseCode.TRY_AGAIN_LATER, closed
        own_pg_server.resume()

        async def signed_in_again() -> bool:
            async with http.ws_connect(ws_url, headers=headers) as again:
                await again.send_json({"action": "identify_ui", "ui_id": str(uuid.uuid4())})
                answer = await asyncio.wait_for(again.receive_json(), 5)
                return answer.get("action") == "identified" and answer.get("authenticated") is True

        await eventually(signed_in_again, interval=0.5, what="the screen signed in again")
