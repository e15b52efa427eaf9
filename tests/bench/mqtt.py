"""B6: a scan published over MQTT until it is committed.

A real mosquitto (tests/integration/mosquitto.py) on a loopback port; Stocky
runs in this process (the runtime ``stocky serve`` runs, with
``STOCKY_MQTT_URL``), so the commit is seen the moment it happens: the
service publishes its events on the bus only after the transaction commits.
A wireless scanner is played by an aiomqtt client publishing with QoS 1.

The floor: the same client publishing to a topic another aiomqtt client
subscribes to: what the broker and the MQTT library cost by themselves.
Measured one message at a time (latency) and as a burst of back-to-back
messages (throughput: Stocky handles them one at a time, in order).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.common import REPO, BenchResult, Row, prepare_kitchen, summary_ms

TOPIC = "stocky/scan"
ECHO = "bench/echo"


def _broker(work: Path) -> Any:
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    from mosquitto import Mosquitto, find_mosquitto

    binary = find_mosquitto()
    if binary is None:
        raise RuntimeError("mosquitto is not installed (Debian/Ubuntu: apt-get install mosquitto)")
    return Mosquitto(binary, work / "mosquitto")


def b6(cfg: dict[str, Any], work: Path) -> BenchResult:
    out = BenchResult("B6", "MQTT: publish to committed, through a local mosquitto")
    broker = _broker(work)
    broker.start()
    try:
        figures = asyncio.run(_scenario(cfg, work, broker.url, broker.port))
    finally:
        broker.stop()
    stocky, floor = figures["stocky"], figures["floor"]
    for q in ("p50", "p99"):
        key = f"{q}_ms"
        out.rows.append(Row(
            "B6", f"publish to committed {q}", stocky[key], "ms", floor[key], "publish to received (broker)",
            stocky[key] / floor[key] if floor[key] else None, "stocky/floor",
        ))
    out.rows.append(Row(
        "B6", f"burst of {figures['burst_n']}: scans committed per second", figures["burst_stocky"], "/s",
        figures["burst_floor"], "messages received per second (broker)",
        figures["burst_stocky"] / figures["burst_floor"] if figures["burst_floor"] else None, "stocky/floor",
    ))
    out.details = figures
    return out


async def _scenario(cfg: dict[str, Any], work: Path, url: str, port: int) -> dict[str, Any]:
    import aiomqtt

    from stocky.core.settings import Settings
    from stocky.runtime import Runtime

    n = cfg["mqtt_messages"]
    kitchen = await prepare_kitchen(work / "b6-data", scanners=1, items=200, link_to_screen=False)
    key = kitchen.scanner_keys[0]
    codes = dict(zip(kitchen.barcodes, kitchen.item_ids, strict=True))
    settings = Settings(_env_file=None, data_dir=Path(kitchen.data_dir), mqtt_url=url)
    runtime = Runtime(settings, host="127.0.0.1", port=0, hid=False)
    await runtime.start()
    committed: dict[str, list[float]] = {}  # item id -> commit times
    arrived: asyncio.Queue[float] = asyncio.Queue()

    def on_event(event: Any) -> None:
        if event.entity == "item" and event.op == "updated" and "total_quantity" in event.data:
            committed.setdefault(event.id, []).append(time.perf_counter())

    unsubscribe = runtime.services.bus.subscribe(on_event)
    try:
        async with aiomqtt.Client("127.0.0.1", port, timeout=10) as scanner, \
                aiomqtt.Client("127.0.0.1", port, timeout=10) as echo:
            await echo.subscribe(ECHO, qos=1)

            async def read_echo() -> None:
                async for _message in echo.messages:
                    arrived.put_nowait(time.perf_counter())

            reader = asyncio.create_task(read_echo())

            def message(code: str) -> bytes:
                return json.dumps({"id": key, "msg": code}).encode()

            async def wait_commits(item_id: str, count: int, timeout: float = 10) -> float:
                deadline = time.monotonic() + timeout
                while len(committed.get(item_id, ())) < count:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"scan of {item_id} not committed within {timeout} s")
                    await asyncio.sleep(0.0005)
                return committed[item_id][count - 1]

            # Until Stocky's subscription is in place, publish and wait.
            first_code = kitchen.barcodes[0]
            for _ in range(40):
                await scanner.publish(TOPIC, message(first_code), qos=1)
                try:
                    await wait_commits(codes[first_code], 1, timeout=0.5)
                    break
                except TimeoutError:
                    continue
            else:
                raise RuntimeError("Stocky never committed a scan sent over MQTT")

            latencies, floor = [], []
            for i in range(n + 5):
                code = kitchen.barcodes[(i * 7) % len(kitchen.barcodes)]
                item_id = codes[code]
                before = len(committed.get(item_id, ()))
                t0 = time.perf_counter()
                await scanner.publish(TOPIC, message(code), qos=1)
                t1 = await wait_commits(item_id, before + 1)
                e0 = time.perf_counter()
                await scanner.publish(ECHO, b"x" * 60, qos=1)
                e1 = await asyncio.wait_for(arrived.get(), 10)
                if i >= 5:
                    latencies.append(t1 - t0)
                    floor.append(e1 - e0)
                await asyncio.sleep(0.005)

            # Bursts: every message published back to back, then wait for the last.
            burst_codes = [kitchen.barcodes[i % len(kitchen.barcodes)] for i in range(n)]
            counts_before = {c: len(committed.get(codes[c], ())) for c in set(burst_codes)}
            expected = {c: counts_before[c] + burst_codes.count(c) for c in set(burst_codes)}
            t0 = time.perf_counter()
            for code in burst_codes:
                await scanner.publish(TOPIC, message(code), qos=1)
            last = 0.0
            for code, count in expected.items():
                last = max(last, await wait_commits(codes[code], count, timeout=120))
            burst_stocky = n / (last - t0)
            t0 = time.perf_counter()
            for _ in range(n):
                await scanner.publish(ECHO, b"x" * 60, qos=1)
            for _ in range(n):
                last = await asyncio.wait_for(arrived.get(), 30)
            burst_floor = n / (last - t0)
            reader.cancel()
    finally:
        unsubscribe()
        await runtime.stop()
    return {
        "stocky": summary_ms(latencies), "floor": summary_ms(floor),
        "burst_n": n, "burst_stocky": burst_stocky, "burst_floor": burst_floor,
    }
