"""``stocky bridge``: a real mosquitto in front, a live Stocky (or a stand-in
HTTP backend where a failure must be staged) behind."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from aiohttp import web
from mosquitto import Mosquitto, free_port, require_mosquitto
from support.kitchens import OFFLINE_LOOKUP, add_locations
from support.polling import eventually
from test_mqtt import (
    MILK,
    TEA,
    TOPIC,
    publish,
    quantity_is,
    scan_message,
    set_location,
)

from stocky.core.settings import Settings
from stocky.inputs.bridge import Bridge
from stocky.runtime import Runtime
from stocky.schemas.actor import SYSTEM
from stocky.services.container import open_services

FAST = {"backoff_initial": 0.05, "backoff_max": 0.5, "retry_initial": 0.05, "retry_max": 0.2}


def bridge_records(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "stocky.bridge" and r.levelno == level
    ]


@pytest.fixture
def settings(clean_env, tmp_path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, uda_api_url=OFFLINE_LOOKUP)


@pytest.fixture
def broker(tmp_path):
    with Mosquitto(require_mosquitto(), tmp_path / "broker") as running:
        yield running


@pytest.fixture(autouse=True)
def _log_levels(caplog):
    caplog.set_level(logging.DEBUG, logger="stocky")


@pytest.fixture
async def run_bridge():
    """Run bridges in the test's loop; each one is stopped after the test."""
    running: list[tuple[Bridge, asyncio.Task[None]]] = []

    async def start(broker_url: str, backend: str, **options: Any) -> Bridge:
        bridge = Bridge(broker_url, TOPIC, backend, **{**FAST, **options})
        running.append((bridge, asyncio.create_task(bridge.run())))
        await bridge.wait_connected(10)
        return bridge

    yield start
    for bridge, task in running:
        await bridge.stop()
        await asyncio.wait_for(task, 5)


@pytest.fixture
async def stocky(settings):
    runtime = Runtime(settings, host="127.0.0.1", port=0)
    await runtime.start()
    yield runtime
    await runtime.stop()


async def kitchen_in(services) -> tuple[str, Any]:
    scanner = await services.users.create({"username": "Kitchen", "role": "Scanner"}, SYSTEM)
    rooms = await add_locations(services, {"Pantry": "Ambient"})
    return scanner.api_key, rooms["Pantry"]


class FakeBackend:
    """Answers scans with the statuses it is given, then 200; remembers every request."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[dict[str, Any]] = []
        self.app = web.Application()
        self.app.router.add_post("/api/v1/scanner/scan", self.scan)

    async def scan(self, request: web.Request) -> web.Response:
        self.requests.append(
            {
                "key": request.headers.get("X-API-Key"),
                "query": dict(request.query),
                "body": await request.json(),
            }
        )
        status = self.statuses.pop(0) if self.statuses else 200
        if status >= 400:
            return web.json_response({"error": {"code": "x", "message": f"staged {status}"}}, status=status)
        return web.json_response({"result": "added", "message": "Added something"})


@pytest.fixture
async def fake_backend(aiohttp_server):
    async def start(statuses: list[int] | None = None) -> tuple[FakeBackend, str]:
        backend = FakeBackend(statuses)
        server = await aiohttp_server(backend.app, host="127.0.0.1")
        return backend, str(server.make_url("")).rstrip("/")

    return start


# -- against a live Stocky ----------------------------------------------------------


async def test_bridge_forwards_scans_to_a_live_stocky(broker, stocky, run_bridge, caplog):
    services = stocky.services
    key, pantry = await kitchen_in(services)
    await run_bridge(broker.url, f"http://127.0.0.1:{stocky.bound_port}")

    await publish(
        broker.port,
        set_location(key, pantry.id),
        scan_message(key, MILK, "b-1"),
        scan_message(key, MILK, "b-1"),  # delivered twice, counted once
        scan_message(key, MILK, "b-2"),
        scan_message(key, MILK),  # no scan id of its own
    )
    await eventually(quantity_is(services, MILK, 3), timeout=10.0)
    milk = await services.items.by_upc(MILK, SYSTEM)
    detail = await services.items.get(milk.id, SYSTEM)
    assert [(s.location_name, s.quantity) for s in detail.skus] == [("Pantry", 3)]
    assert any("Added" in m and "Pantry (now 3)" in m for m in bridge_records(caplog, logging.INFO))

    # A 4xx (unknown key) is dropped, not retried, and the bridge carries on.
    stranger = "sk_" + "B" * 43
    await publish(
        broker.port,
        scan_message(stranger, TEA, "s-1"),
        b"not json at all",
        scan_message(key, TEA, "t-1"),
    )
    await eventually(quantity_is(services, TEA, 1), timeout=10.0)
    refusals = [w for w in bridge_records(caplog) if "refused" in w]
    assert len(refusals) == 1 and "HTTP 401" in refusals[0], refusals
    assert not [w for w in bridge_records(caplog) if "retrying" in w]
    assert any("not JSON" in w for w in bridge_records(caplog))
    assert stranger not in caplog.text and key not in caplog.text


async def test_bridge_retries_until_stocky_is_up(broker, settings, run_bridge, caplog):
    async with open_services(settings) as services:
        key, pantry = await kitchen_in(services)
        await services.scans.set_state(
            (await services.users.by_api_key(key)).id, {"current_location_id": pantry.id}, SYSTEM
        )
    port = free_port()
    await run_bridge(broker.url, f"http://127.0.0.1:{port}", attempts=50, retry_max=0.2)

    await publish(broker.port, scan_message(key, MILK, "early-1"))
    await eventually(lambda: any("retrying" in w for w in bridge_records(caplog)), timeout=10.0)
    runtime = Runtime(settings, host="127.0.0.1", port=port)
    await runtime.start()
    try:
        await eventually(quantity_is(runtime.services, MILK, 1), timeout=10.0)
    finally:
        await runtime.stop()


# -- failures staged by a stand-in backend -----------------------------------------


async def test_5xx_is_retried_with_the_same_scan_id_and_4xx_is_not(
    broker, fake_backend, run_bridge, caplog
):
    backend, url = await fake_backend([503, 502, 200, 404, 422])
    await run_bridge(broker.url, url)

    await publish(broker.port, scan_message("sk_kitchen", "12345"))
    await eventually(lambda: len(backend.requests) == 3, timeout=10.0)
    bodies = [r["body"] for r in backend.requests]
    assert {b["msg"] for b in bodies} == {"12345"}
    # The bridge gave the scan an id so that the retries cannot count it twice.
    assert len({b["scan_id"] for b in bodies}) == 1 and bodies[0]["scan_id"]
    assert all(r["key"] == "sk_kitchen" and r["query"] == {} for r in backend.requests)

    await publish(
        broker.port,
        scan_message("sk_kitchen", "404-me", "own-id"),
        scan_message("sk_kitchen", "422-me", "own-id-2"),
        scan_message("sk_kitchen", "fine", "own-id-3"),
    )
    await eventually(lambda: len(backend.requests) == 6, timeout=10.0)
    await asyncio.sleep(0.3)  # no retry of the 4xx shows up late
    assert [r["body"] for r in backend.requests[3:]] == [
        {"msg": "404-me", "scan_id": "own-id"},
        {"msg": "422-me", "scan_id": "own-id-2"},
        {"msg": "fine", "scan_id": "own-id-3"},
    ]
    assert sum("retrying" in w for w in bridge_records(caplog)) == 2
    assert sum("refused" in w for w in bridge_records(caplog)) == 2


async def test_a_scan_is_dropped_after_the_last_attempt_and_the_next_one_goes_through(
    broker, fake_backend, run_bridge, caplog
):
    backend, url = await fake_backend([500, 500, 500])
    await run_bridge(broker.url, url, attempts=3)

    await publish(broker.port, scan_message("sk_kitchen", "doomed"), scan_message("sk_kitchen", "next"))
    await eventually(lambda: len(backend.requests) == 4, timeout=10.0)
    assert [r["body"]["msg"] for r in backend.requests] == ["doomed"] * 3 + ["next"]
    errors = bridge_records(caplog, logging.ERROR)
    assert len(errors) == 1 and "after 3 attempts" in errors[0] and "sk_kit…" in errors[0]


async def test_bridge_survives_a_broker_restart(broker, fake_backend, run_bridge):
    backend, url = await fake_backend()
    bridge = await run_bridge(broker.url, url)
    await publish(broker.port, scan_message("sk_kitchen", "before"))
    await eventually(lambda: len(backend.requests) == 1, timeout=10.0)

    await asyncio.to_thread(broker.restart)
    await eventually(lambda: bridge.subscriber.sessions == 2, timeout=10.0)
    await bridge.wait_connected(10)
    await publish(broker.port, scan_message("sk_kitchen", "after"))
    await eventually(lambda: len(backend.requests) == 2, timeout=10.0)
    assert [r["body"]["msg"] for r in backend.requests] == ["before", "after"]


async def test_stop_ends_run_quickly(broker, fake_backend):
    _, url = await fake_backend()
    bridge = Bridge(broker.url, TOPIC, url, **FAST)
    task = asyncio.create_task(bridge.run())
    await bridge.wait_connected(10)
    began = time.monotonic()
    await bridge.stop()
    await asyncio.wait_for(task, 2)
    assert time.monotonic() - began < 2
    assert task.exception() is None


# -- the command --------------------------------------------------------------------


class BridgeCommand:
    """``stocky bridge`` as a process of its own, its log read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen: list[str] = []

    @classmethod
    async def start(cls, broker_url: str, backend_url: str, cwd) -> BridgeCommand:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKY_")}
        env["STOCKY_MQTT_TOPIC"] = TOPIC
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "stocky", "bridge", "--broker", broker_url, "--backend", backend_url,
            cwd=cwd,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        command = cls(process)
        await asyncio.wait_for(command.read_until("listening for scans"), 20)
        return command

    async def read_until(self, text: str) -> None:
        assert self.process.stderr is not None
        while not any(text in line for line in self.seen):
            line = await self.process.stderr.readline()
            if not line:
                pytest.fail("stocky bridge ended early:\n" + "".join(self.seen))
            self.seen.append(line.decode(errors="replace"))

    async def stop(self) -> str:
        """SIGTERM; the whole output once it has exited."""
        self.process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(self.process.communicate(), 10)
        return "".join(self.seen) + rest.decode(errors="replace")

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def test_stocky_bridge_command_forwards_and_exits_cleanly_on_sigterm(
    broker, fake_backend, tmp_path
):
    backend, url = await fake_backend()
    command = await BridgeCommand.start(broker.url, url, tmp_path)
    try:
        await publish(broker.port, scan_message("sk_kitchen", "from-the-command", "c-1"))
        await eventually(lambda: len(backend.requests) == 1, timeout=10.0)
        assert backend.requests[0]["body"] == {"msg": "from-the-command", "scan_id": "c-1"}

        output = await command.stop()
        assert command.process.returncode == 0, output
        assert "Traceback" not in output
        assert "Bridge stopped" in output
    finally:
        await command.kill()


async def test_scans_published_while_the_bridge_restarts_are_forwarded_after(
    broker, fake_backend, tmp_path
):
    """The command keeps its MQTT client id in the data directory, so the
    broker holds what arrives while the bridge is down (QoS 1)."""
    backend, url = await fake_backend()
    command = await BridgeCommand.start(broker.url, url, tmp_path)
    try:
        await publish(broker.port, scan_message("sk_kitchen", "before", "r-1"))
        await eventually(lambda: len(backend.requests) == 1, timeout=10.0)
        assert (await command.stop()) and command.process.returncode == 0
        kept = (tmp_path / "data" / "bridge_mqtt_client_id").read_text().strip()
        assert kept.startswith("stocky-bridge-")

        await publish(broker.port, scan_message("sk_kitchen", "while-down", "r-2"))
        command = await BridgeCommand.start(broker.url, url, tmp_path)
        await eventually(lambda: len(backend.requests) == 2, timeout=10.0)
        assert [r["body"]["msg"] for r in backend.requests] == ["before", "while-down"]
        assert (tmp_path / "data" / "bridge_mqtt_client_id").read_text().strip() == kept
        await command.stop()
    finally:
        await command.kill()


def test_stocky_bridge_without_a_broker_says_what_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKY_")}
    done = subprocess.run(
        [sys.executable, "-m", "stocky", "bridge"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode == 1
    assert "STOCKY_MQTT_URL" in done.stderr and "Traceback" not in done.stderr
