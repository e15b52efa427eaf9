"""Scans over MQTT through a real mosquitto broker (DESIGN.md sections 1 and 4).

The subscriber runs inside the test's event loop on real services over a real
SQLite file; a separate aiomqtt client plays the scanner.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt
import pytest
from mosquitto import Mosquitto, free_port, require_mosquitto
from support.kitchens import OFFLINE_LOOKUP
from support.polling import eventually

from stocky.core.errors import InvalidInput
from stocky.core.settings import Settings
from stocky.inputs.mqtt import (
    MAX_MESSAGE_BYTES,
    BadMessage,
    MqttScanInput,
    MqttSubscriber,
    ScanMessage,
    decode_message,
    parse_broker_url,
)
from stocky.schemas.actor import SYSTEM
from stocky.schemas.location import LocationOut
from stocky.schemas.user import UserCreated
from stocky.services.container import Services

TOPIC = "stocky/scan"
MILK = "4006381333931"
TEA = "5000112637922"
FAST = {"backoff_initial": 0.05, "backoff_max": 0.5}


# -- helpers ----------------------------------------------------------------


def scan_message(key: str, msg: str, scan_id: str | None = None, **extra: Any) -> bytes:
    body: dict[str, Any] = {"id": key, "msg": msg, **extra}
    if scan_id is not None:
        body["scan_id"] = scan_id
    return json.dumps(body).encode()


def set_location(key: str, location_id: Any) -> bytes:
    return scan_message(key, json.dumps({"command": "set_location", "payload": str(location_id)}))


async def publish(port: int, *payloads: bytes, topic: str = TOPIC) -> None:
    """Publish with QoS 1, in order, each acknowledged by the broker."""
    async with aiomqtt.Client("127.0.0.1", port, timeout=10) as client:
        for payload in payloads:
            await client.publish(topic, payload, qos=1)


def quantity_is(services: Services, upc: str, expected: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        item = await services.items.by_upc(upc, SYSTEM)
        return (item.total_quantity if item else 0) == expected

    return probe


def mqtt_records(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "stocky.mqtt" and r.levelno == level
    ]


@dataclass
class Kitchen:
    services: Services
    scanner: UserCreated
    pantry: LocationOut

    @property
    def key(self) -> str:
        assert self.scanner.api_key
        return self.scanner.api_key


# -- fixtures ---------------------------------------------------------------


@pytest.fixture
def settings(clean_env, tmp_path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, uda_api_url=OFFLINE_LOOKUP)


@pytest.fixture
def mosquitto_binary() -> str:
    return require_mosquitto()


@pytest.fixture
def broker(mosquitto_binary, tmp_path):
    with Mosquitto(mosquitto_binary, tmp_path / "broker") as running:
        yield running


@pytest.fixture
async def kitchen(services, locations) -> Kitchen:
    scanner = await services.users.create({"username": "Kitchen", "role": "Scanner"}, SYSTEM)
    return Kitchen(services=services, scanner=scanner, pantry=locations["Pantry"])


@pytest.fixture
async def start_input(services):
    """Start an MQTT input; every one started is stopped after the test."""
    started: list[MqttScanInput] = []

    async def start(url: str, **options: Any) -> MqttScanInput:
        scan_input = MqttScanInput(services, url, TOPIC, **{**FAST, **options})
        started.append(scan_input)
        await scan_input.start()
        return scan_input

    yield start
    for scan_input in started:
        await scan_input.stop()


@pytest.fixture(autouse=True)
def _log_levels(caplog):
    caplog.set_level(logging.DEBUG, logger="stocky")


# -- scans ------------------------------------------------------------------


async def test_scans_over_mqtt_change_stock(broker, kitchen, start_input):
    scan_input = await start_input(broker.url)
    await scan_input.wait_connected(10)

    await publish(
        broker.port,
        set_location(kitchen.key, kitchen.pantry.id),
        scan_message(kitchen.key, MILK, "s-1"),
        scan_message(kitchen.key, MILK, "s-2"),
        scan_message(kitchen.key, MILK),
    )

    await eventually(quantity_is(kitchen.services, MILK, 3), timeout=10.0)
    milk = await kitchen.services.items.by_upc(MILK, SYSTEM)
    detail = await kitchen.services.items.get(milk.id, SYSTEM)
    assert [(s.location_name, s.quantity) for s in detail.skus] == [("Pantry", 3)]
    states = {s.username: s for s in await kitchen.services.scans.states(SYSTEM)}
    assert str(states["Kitchen"].current_location_id) == str(kitchen.pantry.id)
    assert states["Kitchen"].last_scan_timestamp is not None
    # The scan shows in the kitchen's log under the scanner's name.
    assert any(
        e.source == "Kitchen" and "Pantry (now 3)" in e.message
        for e in kitchen.services.logs.query(limit=50)
    )


async def test_the_same_scan_id_delivered_twice_counts_once(broker, kitchen, start_input):
    await kitchen.services.scans.set_state(kitchen.scanner.id, {"current_location_id": kitchen.pantry.id}, SYSTEM)
    scan_input = await start_input(broker.url)
    await scan_input.wait_connected(10)

    await publish(
        broker.port,
        scan_message(kitchen.key, TEA, "tea-1"),
        scan_message(kitchen.key, TEA, "tea-1"),  # a QoS 1 redelivery
        scan_message(kitchen.key, TEA, "tea-2"),
        scan_message(kitchen.key, MILK, "milk-1"),  # a marker: everything before is handled
    )

    await eventually(quantity_is(kitchen.services, MILK, 1), timeout=10.0)
    assert await quantity_is(kitchen.services, TEA, 2)()
    tea = await kitchen.services.items.by_upc(TEA, SYSTEM)
    assert sorted(row.delta for row in await kitchen.services.items.history(tea.id, SYSTEM)) == [1, 1]


async def test_bad_messages_are_dropped_and_the_subscriber_keeps_working(
    broker, kitchen, start_input, caplog
):
    await kitchen.services.scans.set_state(kitchen.scanner.id, {"current_location_id": kitchen.pantry.id}, SYSTEM)
    scan_input = await start_input(broker.url)
    await scan_input.wait_connected(10)
    key = kitchen.key
    too_long = scan_message(key, TEA, "long-1", padding="x" * MAX_MESSAGE_BYTES)
    assert len(too_long) > MAX_MESSAGE_BYTES

    await publish(
        broker.port,
        TEA.encode(),  # not JSON
        b'{"id": "' + key.encode() + b'", "msg": "\xff\xfe' + TEA.encode() + b'"}',  # not UTF-8
        json.dumps([key, TEA]).encode(),  # not an object
        json.dumps({"msg": TEA}).encode(),  # no key
        json.dumps({"id": key, "msg": 4006381333931}).encode(),  # msg not a string
        json.dumps({"id": key, "msg": TEA, "scan_id": ["x"]}).encode(),  # odd scan_id
        scan_message("sk_" + "A" * 43, TEA, "unknown-key"),  # unknown key
        too_long,
        scan_message(key, str(uuid.uuid4())),  # refused by the scan rules: 404
        b"",  # empty
        scan_message(key, MILK, "good"),
    )

    await eventually(quantity_is(kitchen.services, MILK, 1), timeout=10.0)
    assert await kitchen.services.items.by_upc(TEA, SYSTEM) is None  # nothing bad got through
    warnings = mqtt_records(caplog)
    for reason in (
        "not JSON",
        "not valid UTF-8",
        "not a JSON object",
        '"id"',
        '"msg"',
        '"scan_id"',
        "API key is not valid",
        f"longer than {MAX_MESSAGE_BYTES} bytes",
    ):
        assert any(reason in w for w in warnings), (reason, warnings)
    assert any("Nothing in Stocky has the id" in r for r in mqtt_records(caplog, logging.INFO))
    # The kitchen's log tells about the drops; no log anywhere holds the key.
    assert kitchen.services.logs.query(severity="WARN", search="dropped")
    assert key not in caplog.text
    assert all(key not in e.message for e in kitchen.services.logs.query(limit=1000))
    assert key[:6] in caplog.text  # the hint that tells scanners apart

    # Still subscribed and working after all that.
    assert scan_input.connected
    await publish(broker.port, scan_message(key, MILK, "good-2"))
    await eventually(quantity_is(kitchen.services, MILK, 2), timeout=10.0)


# -- the broker comes and goes ------------------------------------------------


async def test_subscriber_recovers_when_the_broker_restarts(broker, kitchen, start_input, caplog):
    scan_input = await start_input(broker.url)
    await scan_input.wait_connected(10)
    await publish(
        broker.port,
        set_location(kitchen.key, kitchen.pantry.id),
        scan_message(kitchen.key, MILK, "before-1"),
        scan_message(kitchen.key, MILK, "before-2"),
    )
    await eventually(quantity_is(kitchen.services, MILK, 2), timeout=10.0)

    await asyncio.to_thread(broker.stop)
    await eventually(lambda: not scan_input.connected, timeout=10.0)
    await asyncio.sleep(1.0)  # several reconnection attempts fail meanwhile
    await asyncio.to_thread(broker.start)  # same port
    await scan_input.wait_connected(10)

    await publish(
        broker.port,
        scan_message(kitchen.key, MILK, "after-1"),
        scan_message(kitchen.key, MILK, "after-2"),
        scan_message(kitchen.key, MILK, "after-3"),
    )
    await eventually(quantity_is(kitchen.services, MILK, 5), timeout=10.0)

    outage = [w for w in mqtt_records(caplog) if "unreachable" in w]
    retries = [d for d in mqtt_records(caplog, logging.DEBUG) if "unreachable" in d]
    assert len(outage) == 1, outage  # one warning per outage, not one per attempt
    assert len(retries) >= 2
    assert sum("listening for scans" in i for i in mqtt_records(caplog, logging.INFO)) == 2


async def test_subscriber_waits_for_a_broker_that_starts_later(
    mosquitto_binary, tmp_path, kitchen, start_input
):
    broker = Mosquitto(mosquitto_binary, tmp_path / "late-broker")
    try:
        scan_input = await start_input(broker.url)
        await asyncio.sleep(0.5)
        assert not scan_input.connected
        await asyncio.to_thread(broker.start)
        await scan_input.wait_connected(10)
        await publish(
            broker.port,
            set_location(kitchen.key, kitchen.pantry.id),
            scan_message(kitchen.key, MILK, "late-1"),
        )
        await eventually(quantity_is(kitchen.services, MILK, 1), timeout=10.0)
    finally:
        await asyncio.to_thread(broker.stop)


async def test_a_named_session_gets_the_scans_sent_while_stocky_was_away(
    broker, kitchen, start_input
):
    await kitchen.services.scans.set_state(kitchen.scanner.id, {"current_location_id": kitchen.pantry.id}, SYSTEM)
    first = await start_input(broker.url, client_id="stocky-kitchen")
    await first.wait_connected(10)
    await first.stop()  # Stocky restarts; the broker keeps its session

    await publish(
        broker.port,
        scan_message(kitchen.key, MILK, "away-1"),
        scan_message(kitchen.key, MILK, "away-2"),
    )
    second = await start_input(broker.url, client_id="stocky-kitchen")
    await second.wait_connected(10)
    await eventually(quantity_is(kitchen.services, MILK, 2), timeout=10.0)


async def test_broker_credentials_from_the_url(mosquitto_binary, tmp_path, kitchen, start_input, caplog):
    users = {"stocky": "s3cret:pass/word"}
    broker = Mosquitto(mosquitto_binary, tmp_path / "auth-broker", users=users)
    await asyncio.to_thread(broker.start)
    try:
        good_url = broker.url_for("stocky").replace("s3cret:pass/word", "s3cret%3Apass%2Fword")
        scan_input = await start_input(good_url)
        await scan_input.wait_connected(10)
        await kitchen.services.scans.set_state(
            kitchen.scanner.id, {"current_location_id": kitchen.pantry.id}, SYSTEM
        )
        async with aiomqtt.Client(
            "127.0.0.1", broker.port, username="stocky", password=users["stocky"]
        ) as publisher:
            await publisher.publish(TOPIC, scan_message(kitchen.key, MILK, "auth-1"), qos=1)
        await eventually(quantity_is(kitchen.services, MILK, 1), timeout=10.0)

        refused = await start_input(f"mqtt://stocky:wrong-password@127.0.0.1:{broker.port}")
        await eventually(lambda: any("unreachable" in w for w in mqtt_records(caplog)), timeout=10.0)
        assert not refused.connected
        assert "wrong-password" not in caplog.text
        assert users["stocky"] not in caplog.text
    finally:
        await asyncio.to_thread(broker.stop)


async def test_the_incoming_queue_is_bounded(broker, caplog):
    """A scan that takes forever must not let waiting messages eat the memory."""
    handled: list[str] = []
    release = asyncio.Event()

    async def slow(message: ScanMessage) -> None:
        handled.append(message.msg)
        await release.wait()

    subscriber = MqttSubscriber(broker.url, TOPIC, slow, queue_size=2, **FAST)
    task = asyncio.create_task(subscriber.run())
    try:
        await subscriber.wait_connected(10)
        await publish(broker.port, *(scan_message("sk_test", f"code-{n}") for n in range(10)))
        await eventually(lambda: subscriber.dropped == 7, timeout=10.0)
        assert sum("dropping new ones" in w for w in mqtt_records(caplog)) == 1
        release.set()
        await eventually(lambda: len(handled) == 3, timeout=10.0)
        await asyncio.sleep(0.2)
        assert handled == ["code-0", "code-1", "code-2"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# -- stopping -------------------------------------------------------------------


async def test_stop_is_quick_while_connected_and_while_retrying(broker, services, recwarn):
    connected = MqttScanInput(services, broker.url, TOPIC, **FAST)
    await connected.start()
    await connected.wait_connected(10)
    retrying = MqttScanInput(services, f"mqtt://127.0.0.1:{free_port()}", TOPIC, **FAST)
    await retrying.start()
    await asyncio.sleep(0.3)

    began = time.monotonic()
    await connected.stop()
    await retrying.stop()
    assert time.monotonic() - began < 2.0
    assert not connected.connected
    await connected.stop()  # a second stop does nothing
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# -- the rules for URLs and messages ----------------------------------------------


@pytest.mark.parametrize(
    ("url", "host", "port", "username", "password", "tls"),
    [
        ("mqtt://broker.lan", "broker.lan", 1883, None, None, False),
        ("mqtt://user:p%40ss@10.0.0.2:1884", "10.0.0.2", 1884, "user", "p@ss", False),
        ("mqtts://user@broker.lan", "broker.lan", 8883, "user", None, True),
        ("MQTTS://broker.lan:443", "broker.lan", 443, None, None, True),
    ],
)
def test_broker_urls(url, host, port, username, password, tls):
    address = parse_broker_url(url)
    assert (address.host, address.port, address.username, address.password, address.tls) == (
        host, port, username, password, tls,
    )
    assert "@" not in address.display


@pytest.mark.parametrize(
    "url", ["broker.lan:1883", "http://broker.lan", "mqtt://", "mqtt://host:notaport", ""]
)
def test_bad_broker_urls_are_refused_with_a_clear_message(url):
    with pytest.raises(InvalidInput, match="mqtt://"):
        parse_broker_url(url)


def test_message_rules():
    assert decode_message(b'{"id": " sk_abc ", "msg": "123", "scan_id": 7}').scan_id == "7"
    assert decode_message(b'{"id": "sk_abc", "msg": "123", "extra": 1}').api_key == "sk_abc"
    with pytest.raises(BadMessage):
        decode_message(b'{"id": "sk_abc", "msg": "123", "scan_id": true}')
    with pytest.raises(BadMessage):
        decode_message(b'{"id": "sk_abc", "msg": "123", "scan_id": ""}')
    with pytest.raises(BadMessage) as bad:
        decode_message(b'{"id": "sk_abcdefgh", "msg": null}')
    assert bad.value.key_hint == "sk_abc…"
