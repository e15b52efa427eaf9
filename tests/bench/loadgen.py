"""The load generator: closed-loop HTTP clients in a process of their own.

Reads a JSON config on stdin, prints what it measured as JSON on stdout::

    {"url": "http://127.0.0.1:8000", "path": "/api/v1/scanner/scan",
     "keys": ["<api key>", ...],          # one per client, reused round robin
     "bodies": ["{\"msg\": \"...\"}", ...],  # each client walks these from its own offset
     "concurrency": 20, "warmup_s": 2, "duration_s": 10,    # or "requests": 10000
     "rate_per_client": 1.0,              # optional: open loop, scans per second per client
     "spread_addresses": false}           # optional: client n connects from 127.0.1.(n+1)

Each of ``concurrency`` clients sends one request, waits for the whole
answer, and sends the next (a scanner does not scan ahead of its beep).
They share one aiohttp session whose connector keeps ``concurrency``
keep-alive connections open. Only requests that finish inside the measured
window count; the warm-up fills pools and caches first. The process's own
CPU time is reported, so a run where the client itself was the bottleneck
can be told apart.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from collections import Counter
from typing import Any

import aiohttp

from tests.bench.common import percentile


async def run(config: dict[str, Any]) -> dict[str, Any]:
    url = config["url"].rstrip("/") + config.get("path", "/api/v1/scanner/scan")
    keys: list[str] = config.get("keys") or [""]
    bodies = [b.encode() for b in config["bodies"]]
    concurrency = int(config.get("concurrency", 1))
    warmup = float(config.get("warmup_s", 0))
    duration = config.get("duration_s")
    total_wanted = config.get("requests")
    expect = int(config.get("expect_status", 200))
    # Open loop: each client scans at this mean rate (exponential gaps, as
    # people do), instead of as fast as the answers come back.
    rate = config.get("rate_per_client")
    rng = random.Random(11)

    statuses: Counter[int] = Counter()
    samples: list[tuple[float, float]] = []  # (end, latency) of measured requests
    errors: list[str] = []
    sent = 0
    completed = 0  # every answered request, warm-up included
    loop = asyncio.get_running_loop()
    start = loop.time()
    window_start = start + warmup
    window_end = window_start + float(duration) if duration is not None else float("inf")

    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=float(config.get("timeout_s", 30)))
    spread = bool(config.get("spread_addresses"))
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as shared:

        async def client(n: int) -> None:
            if not spread:
                return await requests(n, shared)
            # Each client its own loopback address: as many machines as clients.
            own = aiohttp.TCPConnector(limit=1, local_addr=(f"127.0.1.{n + 1}", 0))
            async with aiohttp.ClientSession(connector=own, timeout=timeout) as session:
                return await requests(n, session)

        async def requests(n: int, session: aiohttp.ClientSession) -> None:
            nonlocal sent, completed
            headers = {"Content-Type": "application/json"}
            if keys[n % len(keys)]:
                headers["X-API-Key"] = keys[n % len(keys)]
            i = n * 7919  # each client walks the bodies from its own place
            next_at = loop.time() + (rng.expovariate(rate) if rate else 0.0)
            while True:
                if rate:
                    await asyncio.sleep(max(0.0, next_at - loop.time()))
                    next_at += rng.expovariate(rate)
                if total_wanted is not None:
                    if sent >= total_wanted:
                        return
                    sent += 1
                elif loop.time() >= window_end:
                    return
                body = bodies[i % len(bodies)]
                i += 1
                t0 = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        status = response.status
                except (TimeoutError, aiohttp.ClientError) as error:
                    status = -1
                    if len(errors) < 5:
                        errors.append(f"{type(error).__name__}: {error}")
                t1 = time.perf_counter()
                completed += 1
                now = loop.time()
                if window_start <= now <= window_end:
                    statuses[status] += 1
                    samples.append((now, t1 - t0))

        cpu0 = os.times()
        started = loop.time()
        await asyncio.gather(*(client(n) for n in range(concurrency)))
        wall = loop.time() - started
        cpu1 = os.times()

    measured = duration if duration is not None else max(wall - warmup, 1e-9)
    latencies_ms = [latency * 1000 for _end, latency in samples]
    ok = statuses.get(expect, 0)
    return {
        "concurrency": concurrency,
        "total_requests": completed,
        "measured_requests": len(samples),
        "ok": ok,
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": errors,
        "window_s": measured,
        "wall_s": wall,
        "throughput": ok / measured if measured else 0.0,
        "p50_ms": percentile(latencies_ms, 50),
        "p90_ms": percentile(latencies_ms, 90),
        "p99_ms": percentile(latencies_ms, 99),
        "max_ms": max(latencies_ms) if latencies_ms else None,
        "mean_ms": sum(latencies_ms) / len(latencies_ms) if latencies_ms else None,
        "client_cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
        "client_cpu_share": ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / wall if wall else None,
    }


def main() -> None:
    config = json.load(sys.stdin)
    result = asyncio.run(run(config))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
