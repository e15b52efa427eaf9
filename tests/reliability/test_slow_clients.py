"""Slow clients (slowloris): 200 connections to a real ``stocky serve`` that
send their request headers one byte at a time and never finish.

What a user would notice: the kitchen screen, the web UI or a scanner
waiting on a server busy with connections that never say what they want.
Measured here: a normal client's latency (a new connection per request,
alternating ``GET /health`` and an inventory search) while the 200 trickle; the
server's open file descriptors and memory during the attack; and whether
the server ever lets go of a connection that has not finished its headers.

aiohttp closes a connection that has not finished its headers only when its
``keepalive_timeout`` runs out, counted from the connection's start; left at
aiohttp's default of 3630 s, a trickling connection would hold its socket for
an hour, and enough of them (1024 on a default systemd service) would exhaust
the descriptors. Stocky sets it to STOCKY_HTTP_HEADER_TIMEOUT; the last test
pins that down.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from reliability_support import API, StockyProcess, percentile
from support.kitchens import seed_kitchen

SLOW = 200
NORMAL_REQUESTS = 20
TRICKLE_EVERY = 0.5  # seconds between two bytes of one slow client
TEA = "5000112637922"
HEADER_DEADLINE = 2  # what the fixed Stocky is configured with in the last test
# Never a complete header block: a request line, then headers without end.
SLOW_REQUEST = b"GET /health HTTP/1.1\r\nHost: stocky\r\n" + b"X-Slow: a\r\n" * 1000


class Slowloris:
    """``count`` connections trickling ``SLOW_REQUEST``; each stops by itself
    after ``seconds``, or when the server hangs up (``closed_by_server``)."""

    def __init__(self, port: int, count: int, seconds: float) -> None:
        self.port = port
        self.count = count
        self.seconds = seconds
        self.connected = 0
        self.closed_by_server = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._one(n)) for n in range(self.count)]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while self.connected < self.count and loop.time() < deadline:
            await asyncio.sleep(0.02)
        assert self.connected == self.count, f"only {self.connected} slow connections got in"

    async def _one(self, n: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.connected += 1
        # Whatever the server says (an error page, EOF) means it let go.
        hears = asyncio.create_task(reader.read(1024))
        loop = asyncio.get_running_loop()
        stop = loop.time() + self.seconds
        await asyncio.sleep((n % 25) * TRICKLE_EVERY / 25)  # spread the bytes out
        try:
            for byte in SLOW_REQUEST:
                if hears.done() or loop.time() > stop:
                    break
                writer.write(bytes([byte]))
                await asyncio.sleep(TRICKLE_EVERY)
        except (ConnectionError, OSError):
            pass
        finally:
            if hears.done():
                self.closed_by_server += 1
                if not hears.cancelled():
                    hears.exception()  # a reset is an answer too; read, so asyncio won't warn
            hears.cancel()
            writer.close()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def normal_latencies(stocky: StockyProcess, key: str) -> list[float]:
    """``NORMAL_REQUESTS`` requests, each on a new connection, one after the
    other: ``/health`` and a search of the inventory (a Read-only key)."""
    latencies = []
    connector = aiohttp.TCPConnector(force_close=True)
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        for n in range(NORMAL_REQUESTS):
            began = time.perf_counter()
            if n % 2:
                request = http.get(f"{stocky.url}{API}/item?search=tea", headers={"X-API-Key": key})
            else:
                request = http.get(f"{stocky.url}/health")
            async with request as response:
                await response.read()
                assert response.status == 200, await response.text()
            latencies.append(time.perf_counter() - began)
            await asyncio.sleep(0.05)
    return latencies


async def started(stocky: StockyProcess) -> str:
    seeded = await seed_kitchen(stocky.data_dir, scanners=[], items={TEA: "Tea"}, viewers=("web",))
    stocky.start()
    return seeded.keys["web"]


@pytest.mark.timeout(60)
async def test_200_slow_clients_do_not_delay_a_normal_client_and_cost_one_socket_each(
    stocky_process: StockyProcess, record_property
):
    stocky = stocky_process
    key = await started(stocky)
    await normal_latencies(stocky, key)  # warm up
    fds_before, rss_before = stocky.open_fds(), stocky.rss_bytes()

    attack = Slowloris(stocky.port, SLOW, seconds=30)
    await attack.start()
    try:
        await asyncio.sleep(1.0)  # every slow client is mid-headers now
        latencies = await normal_latencies(stocky, key)
        fds_during, rss_during = stocky.open_fds(), stocky.rss_bytes()
    finally:
        await attack.stop()

    record_property("normal_p95_ms", round(percentile(latencies, 0.95) * 1000, 1))
    record_property("fds_before_during", (fds_before, fds_during))
    record_property("rss_growth_mb", round((rss_during - rss_before) / 1e6, 1))
    assert percentile(latencies, 0.95) < 0.100, [round(x * 1000) for x in sorted(latencies)]
    # Each slow connection holds one socket and nothing else; memory stays small.
    assert fds_during <= fds_before + SLOW + 10
    assert rss_during - rss_before < 32 * 1024 * 1024
    assert stocky.running


@pytest.mark.timeout(60)
async def test_slow_clients_are_dropped_after_the_header_deadline(
    stocky_process: StockyProcess, record_property
):
    stocky = stocky_process
    stocky.env["STOCKY_HTTP_HEADER_TIMEOUT"] = str(HEADER_DEADLINE)
    key = await started(stocky)
    await normal_latencies(stocky, key)
    fds_before = stocky.open_fds()

    attack = Slowloris(stocky.port, SLOW, seconds=HEADER_DEADLINE + 6)
    began = time.monotonic()
    await attack.start()
    try:
        # Still trickling, but past the deadline: the server has hung up on
        # every one of them and given their sockets back.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HEADER_DEADLINE + 4
        while attack.closed_by_server < SLOW and loop.time() < deadline:
            await asyncio.sleep(0.1)
        dropped_after = time.monotonic() - began
        fds_after = stocky.open_fds()
        latencies = await normal_latencies(stocky, key)
    finally:
        await attack.stop()
    record_property("closed_by_server", attack.closed_by_server)
    record_property("dropped_after_s", round(dropped_after, 1))
    record_property("fds_before_after", (fds_before, fds_after))
    assert attack.closed_by_server == SLOW, (
        f"{SLOW - attack.closed_by_server} slow clients still connected"
    )
    assert fds_after <= fds_before + 10
    assert percentile(latencies, 0.95) < 0.100


@pytest.mark.timeout(60)
async def test_a_body_that_trickles_in_gets_408_and_changes_nothing(
    stocky_process: StockyProcess, record_property
):
    """Headers complete, then the body byte by byte: the handler must not
    wait for ever. It answers 408 once the deadline has passed, lets go of the
    connection, and the half-sent scan counts nothing."""
    stocky = stocky_process
    stocky.env["STOCKY_HTTP_HEADER_TIMEOUT"] = str(HEADER_DEADLINE)
    seeded = await seed_kitchen(stocky.data_dir, scanners=["kitchen"], items={TEA: "Tea"}, viewers=("web",))
    stocky.start()
    body = b'{"msg": "' + TEA.encode() + b'"}'
    reader, writer = await asyncio.open_connection("127.0.0.1", stocky.port)
    writer.write(
        f"POST {API}/scanner/scan HTTP/1.1\r\nHost: stocky\r\nX-API-Key: {seeded.keys['kitchen']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    )
    began = time.monotonic()
    answer = b""
    for byte in body[:-1]:  # never the last byte
        writer.write(bytes([byte]))
        await writer.drain()
        try:
            answer = await asyncio.wait_for(reader.read(4096), TRICKLE_EVERY)
        except TimeoutError:
            continue
        break
    answered_after = time.monotonic() - began
    # Then aiohttp reads (and drops) what may still come for its lingering
    # time, 10 s, and hangs up.
    rest = await asyncio.wait_for(reader.read(), 15)
    writer.close()
    record_property("answered_after_s", round(answered_after, 1))
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"request_timeout"' in answer + rest
    assert HEADER_DEADLINE - 0.5 <= answered_after < HEADER_DEADLINE + 3
    async with aiohttp.ClientSession() as http, http.get(
        f"{stocky.url}{API}/item", params={"search": "Tea", "stock": "all"},
        headers={"X-API-Key": seeded.keys["web"]},
    ) as response:
        page = await response.json()
    assert [item["total_quantity"] for item in page["data"]] == [0]
