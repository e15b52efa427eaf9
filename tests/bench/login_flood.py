"""B9: a real sign-in and a QR label while 30 clients flood ``POST
/auth/login`` with made-up usernames, against ``stocky serve``.

The flood runs in the load generator's process (closed loop: each client
sends its next guess the moment the last is answered, ignoring
``Retry-After``), first from one address, then from 30 (127.0.1.1-30, as
many machines). Meanwhile this process signs the real Admin in and fetches
a location's QR label, one after the other, from an address of its own
(127.0.0.2). The floor is the same two requests with no flood.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from tests.bench.common import (
    REPO,
    BenchResult,
    Kitchen,
    Row,
    clean_environ,
    percentile,
    prepare_kitchen,
    run_async,
    stocky_server,
)

FLOOD_CLIENTS = 30
SIGN_IN_TARGET_MS = 1000.0
QR_TARGET_MS = 200.0
OWN_ADDRESS = "127.0.0.2"


def _flood_config(url: str, seconds: float, spread: bool) -> dict[str, Any]:
    bodies = [
        f'{{"username": "guess-{uuid.uuid4().hex[:12]}", "password": "hunter2-{n}"}}'
        for n in range(5000)
    ]
    return {
        "url": url, "path": "/api/v1/auth/login", "bodies": bodies, "keys": [""],
        "concurrency": FLOOD_CLIENTS, "warmup_s": 0, "duration_s": seconds,
        "expect_status": 401, "spread_addresses": spread,
    }


def _start_flood(config: dict[str, Any]) -> subprocess.Popen[bytes]:
    import json

    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.loadgen"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=clean_environ(),
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(config).encode())
    process.stdin.close()
    return process


async def _real_user(url: str, kitchen: Kitchen, seconds: float, token: str) -> dict[str, Any]:
    """Sign in, then fetch a QR label (with a token from before the flood,
    so labels are measured even while sign-ins are refused), again and again."""
    connector = aiohttp.TCPConnector(local_addr=(OWN_ADDRESS, 0), force_close=True)
    timeout = aiohttp.ClientTimeout(total=30)
    sign_ins: list[float] = []
    labels: list[float] = []
    statuses: dict[str, int] = {}
    login = {"username": kitchen.admin[0], "password": kitchen.admin[1]}
    location = next(iter(kitchen.locations.values()))
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            async with http.post(f"{url}/api/v1/auth/login", json=login) as response:
                await response.read()
            if response.status == 200:
                sign_ins.append(time.perf_counter() - began)
            statuses[f"login {response.status}"] = statuses.get(f"login {response.status}", 0) + 1
            headers = {"Authorization": f"Bearer {token}"}
            began = time.perf_counter()
            async with http.get(f"{url}/api/v1/qr/location/{location}", headers=headers) as response:
                await response.read()
            labels.append(time.perf_counter() - began)
            statuses[f"qr {response.status}"] = statuses.get(f"qr {response.status}", 0) + 1
            await asyncio.sleep(0.2)  # a person, not a benchmark loop
    attempts = sum(n for what, n in statuses.items() if what.startswith("login"))
    return {
        "sign_in_refused": 1 - len(sign_ins) / attempts if attempts else None,
        "sign_in_p50_ms": percentile([s * 1000 for s in sign_ins], 50),
        "sign_in_p95_ms": percentile([s * 1000 for s in sign_ins], 95),
        "qr_p50_ms": percentile([s * 1000 for s in labels], 50),
        "qr_p95_ms": percentile([s * 1000 for s in labels], 95),
        "statuses": statuses,
    }


async def _token(url: str, kitchen: Kitchen) -> str:
    """Signed in from the real user's address before the flood (as a
    household's devices have been): Stocky knows the address."""
    login = {"username": kitchen.admin[0], "password": kitchen.admin[1]}
    connector = aiohttp.TCPConnector(local_addr=(OWN_ADDRESS, 0))
    async with aiohttp.ClientSession(connector=connector) as http, http.post(
        f"{url}/api/v1/auth/login", json=login
    ) as response:
        return (await response.json())["access_token"]


def _measure(url: str, kitchen: Kitchen, seconds: float, spread: bool | None) -> dict[str, Any]:
    token = run_async(_token(url, kitchen))
    flood = None if spread is None else _start_flood(_flood_config(url, seconds + 1.0, spread))
    try:
        if flood is not None:
            time.sleep(1.0)  # the flood is under way before the first real sign-in
        result = run_async(_real_user(url, kitchen, seconds, token))
    finally:
        if flood is not None:
            assert flood.stdout is not None and flood.stderr is not None
            out, err = flood.stdout.read(), flood.stderr.read()
            flood.wait(60)
            if flood.returncode == 0:
                import json

                result["flood"] = json.loads(out)
            else:
                result["flood_error"] = err.decode(errors="replace")[-2000:]
    return result


def b9(cfg: dict[str, Any], work: Path) -> BenchResult:
    result = BenchResult("B9", "sign-in and QR labels during a login flood")
    kitchen = run_async(prepare_kitchen(work / "data", scanners=0, items=5, link_to_screen=False))
    seconds = max(5.0, cfg["duration_s"])
    with stocky_server("serve", work / "data", work / "serve.log") as server:
        url = server.base_url
        quiet = _measure(url, kitchen, seconds, None)
        one = _measure(url, kitchen, seconds, spread=False)
        many = _measure(url, kitchen, seconds, spread=True)
    result.details = {"no flood": quiet, "one address": one, "30 addresses": many}
    for label, measured in (("from one address", one), ("from 30 addresses", many)):
        flood = measured.get("flood", {})
        note = (f"{FLOOD_CLIENTS} clients {label}; flood answers {flood.get('statuses')}, "
                f"real user {measured['statuses']}")
        result.rows.append(Row(
            "B9", f"real sign-in p95 during a flood {label}", measured["sign_in_p95_ms"], "ms",
            floor=quiet["sign_in_p95_ms"], floor_label="no flood",
            ratio=measured["sign_in_p95_ms"] / quiet["sign_in_p95_ms"],
            target=f"< {SIGN_IN_TARGET_MS:.0f} ms",
            met=measured["sign_in_p95_ms"] < SIGN_IN_TARGET_MS, note=note,
        ))
        result.rows.append(Row(
            "B9", f"real sign-ins refused (429) during a flood {label}",
            100 * (measured["sign_in_refused"] or 0), "%", floor=100 * (quiet["sign_in_refused"] or 0),
            floor_label="no flood",
        ))
        result.rows.append(Row(
            "B9", f"QR label p95 during a flood {label}", measured["qr_p95_ms"], "ms",
            floor=quiet["qr_p95_ms"], floor_label="no flood",
            ratio=measured["qr_p95_ms"] / quiet["qr_p95_ms"] if quiet["qr_p95_ms"] else None,
            target=f"< {QR_TARGET_MS:.0f} ms", met=measured["qr_p95_ms"] < QR_TARGET_MS,
        ))
    return result
