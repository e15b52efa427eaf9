"""MQTT faults: the broker dies and comes back while scanners publish, and
Stocky itself dies while it holds scans the broker handed it.

A scanner publishes QoS 1 scans with a ``scan_id`` and behaves as a
well-made device must: a scan counts as sent once the broker's PUBACK
arrived; anything else is sent again, with the same ``scan_id``, once the
broker is back. What must hold, and what a user would notice otherwise:

- the subscriber recovers by itself (scans work again without a restart);
- every PUBACK'd scan is applied (no scan silently missing from a count);
- nothing is applied twice, though the broker redelivers and publishers
  re-send (no count too high).

Observed (what the tests below pin down):

- With a fixed client id (``STOCKY_MQTT_CLIENT_ID``) and a broker that keeps
  sessions across restarts (``persistence true``), a SIGKILL and a graceful
  restart of mosquitto mid-stream lose nothing. After the SIGKILL the broker
  redelivers what it had last saved as unacknowledged (from a few to
  hundreds of scans Stocky had already applied, depending on when it saved):
  ``scan_id`` is what keeps those from counting twice.
- aiomqtt (paho) PUBACKs a QoS 1 message as soon as it arrives, before
  Stocky has applied it. When the *broker* connection drops, aiomqtt still
  hands out what it had queued, so a broker fault loses nothing there.
- Without a client id (the default) Stocky's session is clean: the broker
  forgets the subscription at every disconnect, and whatever scanners
  publish between the broker's restart and Stocky's re-subscription (0.5 s
  at best, up to 30 s of backoff) is PUBACK'd to them and dropped.
- When *Stocky* is killed, the scans its MQTT client had received (and so
  already PUBACK'd to the broker) but not yet applied are gone for good: the
  broker will not send them again.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
import pytest
from mosquitto import Mosquitto, require_mosquitto
from reliability_support import (
    StockyProcess,
    in_process_stocky,
    read_db,
)
from support.kitchens import seed_kitchen
from support.polling import eventually

from stocky.schemas.actor import SYSTEM

TOPIC = "stocky/scan"
PUBLISHERS = 4
SCANS_EACH = 75
# Seconds between two scans of one publisher. Four publishers stay below what
# Stocky applies per second (a kitchen scans far slower still), so the
# outages hit a steady stream, not a backlog; the stream outlasts both.
PACE = 0.1
CLIENT_ID = "stocky-reliability"


class FaultyMosquitto(Mosquitto):
    """The integration suite's broker, keeping sessions across restarts (saved
    every second, as a broker set up to survive restarts does), and killable."""

    def _write_config(self) -> None:
        super()._write_config()
        store = self.directory / "store"
        store.mkdir(exist_ok=True)
        text = self.config_path.read_text().replace("persistence false\n", "")
        text += f"persistence true\npersistence_location {store}/\nautosave_interval 1\n"
        self.config_path.write_text(text)

    def kill(self) -> None:
        """``kill -9``: no goodbye to the clients, no final save."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(5)


@dataclass
class Publisher:
    name: str
    key: str
    upc: str
    count: int = SCANS_EACH
    pace: float = PACE
    pubacked: set[str] = field(default_factory=set)
    sends: Counter[str] = field(default_factory=Counter)  # scan_id -> times sent
    reconnects: int = 0

    async def run(self, port: int, deadline: float) -> None:
        outbox = deque(f"{self.name}-{n}" for n in range(self.count))
        while outbox and time.monotonic() < deadline:
            client = aiomqtt.Client("127.0.0.1", port, identifier=f"pub-{self.name}", timeout=2)
            try:
                async with client:
                    while outbox:
                        scan_id = outbox[0]
                        payload = json.dumps({"id": self.key, "msg": self.upc, "scan_id": scan_id})
                        self.sends[scan_id] += 1
                        await client.publish(TOPIC, payload, qos=1, timeout=2)
                        self.pubacked.add(scan_id)  # the broker took responsibility
                        outbox.popleft()
                        if self.pace:
                            await asyncio.sleep(self.pace)
            except aiomqtt.MqttError:
                self.reconnects += 1
                await asyncio.sleep(0.1)
            finally:
                _read_disconnect_reason(client)


def _read_disconnect_reason(client: aiomqtt.Client) -> None:
    """aiomqtt leaves the "unexpected disconnection" of a client whose publish
    timed out unread, and asyncio would print it later as never retrieved."""
    future = getattr(client, "_disconnected", None)
    if isinstance(future, asyncio.Future) and future.done() and not future.cancelled():
        future.exception()


def applied(db_path: Path) -> dict[str, list[str]]:
    """The scan ids in the journal, by scanner name."""
    with read_db(db_path) as db:
        rows = db.execute(
            "SELECT u.username, c.scan_id FROM stock_change c JOIN user u ON u.id = c.user_id "
            "WHERE c.scan_id IS NOT NULL"
        ).fetchall()
    found: dict[str, list[str]] = {}
    for name, scan_id in rows:
        found.setdefault(name, []).append(scan_id)
    return found


async def settle(
    count: Callable[[], int], target: int, *, quiet: float = 3.0, timeout: float = 20.0
) -> int:
    """Wait until ``count()`` reaches ``target`` or stops moving for ``quiet`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last, since = -1, loop.time()
    while loop.time() < deadline:
        now = count()
        if now >= target:
            return now
        if now != last:
            last, since = now, loop.time()
        elif loop.time() - since > quiet:
            return now
        await asyncio.sleep(0.1)
    return count()


def missing_scans(publishers: list[Publisher], found: dict[str, list[str]]) -> dict[str, int]:
    return {p.name: len(p.pubacked - set(found.get(p.name, []))) for p in publishers}


@pytest.fixture
def broker(tmp_path):
    with FaultyMosquitto(require_mosquitto(), tmp_path / "broker") as running:
        yield running
    running.kill()


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    "client_id",
    [CLIENT_ID, pytest.param(None, id="default-settings")],
)
async def test_broker_killed_and_restarted_mid_stream_loses_nothing_and_counts_nothing_twice(
    clean_env, tmp_path, broker: FaultyMosquitto, client_id, record_property
):
    async with in_process_stocky(tmp_path / "data", mqtt_url=broker.url, mqtt_client_id=client_id) as runtime:
        services = runtime.services
        assert services is not None

        def subscriptions() -> int:  # what the kitchen's log shows
            return len(services.logs.query(search="listening for scans", limit=1000))

        shelf = await services.locations.create({"name": "Shelf"}, SYSTEM)
        publishers = []
        for n in range(PUBLISHERS):
            scanner = await services.users.create(
                {"username": f"mqtt-{n}", "role": "Scanner"}, SYSTEM
            )
            await services.scans.set_state(scanner.id, {"current_location_id": shelf.id}, SYSTEM)
            upc = f"30000000{n:04d}"
            await services.items.create({"name": f"Thing {n}", "upc": upc}, SYSTEM)
            assert scanner.api_key
            publishers.append(Publisher(f"mqtt-{n}", scanner.api_key, upc))
        await eventually(lambda: subscriptions() == 1, timeout=10)
        await asyncio.sleep(1.5)  # the broker has saved Stocky's session at least once

        total = PUBLISHERS * SCANS_EACH
        pubacked = lambda: sum(len(p.pubacked) for p in publishers)  # noqa: E731
        stream = [
            asyncio.create_task(p.run(broker.port, time.monotonic() + 60)) for p in publishers
        ]
        async with asyncio.timeout(70):
            # Outage 1: SIGKILL, back on the same port after a moment.
            await eventually(lambda: pubacked() >= total * 0.2, timeout=30)
            await asyncio.to_thread(broker.kill)
            await asyncio.sleep(0.5)
            await asyncio.to_thread(broker.start)
            await eventually(lambda: subscriptions() >= 2, timeout=15)  # it recovered by itself
            # Outage 2: a graceful restart (what systemctl restart does).
            await eventually(lambda: pubacked() >= total * 0.6, timeout=30)
            assert pubacked() < total, "the stream ended before the second outage"
            await asyncio.to_thread(broker.restart)
            await eventually(lambda: subscriptions() >= 3, timeout=15)
            await asyncio.gather(*stream)

        assert pubacked() == total, "the publishers could not deliver everything in time"
        assert sum(p.reconnects for p in publishers) >= 2 * PUBLISHERS  # both outages hit them
        record_property(
            "publisher_resends", sum(c - 1 for p in publishers for c in p.sends.values())
        )

        db_path = runtime.settings.data_dir / "stocky.db"
        await settle(lambda: sum(map(len, applied(db_path).values())), total)
        await asyncio.sleep(1.0)  # late redeliveries would land now
        found = applied(db_path)
        record_property("missing", missing_scans(publishers, found))
        record_property(
            "redeliveries_recognised",
            len(services.logs.query(search="Already counted", limit=10_000)),
        )
        assert missing_scans(publishers, found) == {p.name: 0 for p in publishers}
        for p in publishers:
            assert sorted(found[p.name]) == sorted(p.pubacked), p.name  # each once
            item = await services.items.by_upc(p.upc, SYSTEM)
            assert item is not None and item.total_quantity == SCANS_EACH, (p.name, item)


BURST = 300
WATER = "4000000000014"


@pytest.mark.timeout(90)
async def test_stocky_killed_while_holding_mqtt_scans_loses_none_after_restart(
    tmp_path, stocky_process: StockyProcess, record_property
):
    broker = Mosquitto(require_mosquitto(), tmp_path / "plain-broker")
    broker.start()
    try:
        stocky = stocky_process
        stocky.env.update(
            STOCKY_MQTT_URL=broker.url, STOCKY_MQTT_CLIENT_ID=CLIENT_ID, STOCKY_LOG_LEVEL="INFO"
        )
        seeded = await seed_kitchen(stocky.data_dir, scanners=["garage"], items={WATER: "Water"})
        stocky.start()

        def applied_count() -> int:
            return sum(map(len, applied(stocky.db_path).values()))

        def subscribed() -> bool:  # Stocky logs this once the broker granted the subscription
            return "MQTT: listening for scans" in stocky.log()

        await eventually(subscribed, timeout=10, interval=0.05)
        burst = Publisher("burst", seeded.keys["garage"], WATER, count=BURST, pace=0)
        async with asyncio.timeout(60):
            await burst.run(broker.port, time.monotonic() + 30)
            assert len(burst.pubacked) == BURST
            await eventually(lambda: applied_count() >= 20, timeout=20, interval=0.005)
            await asyncio.to_thread(stocky.kill)
            at_kill = applied_count()
            stocky.start()  # the same client id: the broker kept its session
            final = await settle(applied_count, BURST, quiet=2.0, timeout=20)
        record_property("applied_before_kill_after_restart", (at_kill, final))
        assert final == BURST, (
            f"{BURST - final} PUBACK'd scans lost (applied {at_kill} before the kill)"
        )
    finally:
        broker.stop()
