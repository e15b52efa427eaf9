"""The floor under a scan's database work: one row UPDATE and one INSERT in
a transaction, with Stocky's own pragmas (WAL, synchronous=FULL,
busy_timeout, foreign keys) and ``BEGIN IMMEDIATE``, on a file in the same
directory tree as the benchmarked database. Measured twice: with the
blocking ``sqlite3`` module (what the disk and SQLite cost) and through
``aiosqlite`` on an event loop (plus the hop to its thread, as Stocky does)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from tests.bench.common import summary_ms

SCHEMA = (
    "CREATE TABLE sku (id TEXT PRIMARY KEY, quantity INTEGER NOT NULL CHECK (quantity >= 0))",
    "CREATE TABLE journal (id TEXT PRIMARY KEY, sku_id TEXT NOT NULL REFERENCES sku(id), "
    "delta INTEGER NOT NULL, quantity_after INTEGER NOT NULL, timestamp TEXT NOT NULL)",
)
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)
UPDATE = "UPDATE sku SET quantity = quantity + 1 WHERE id = ? AND quantity + 1 >= 0 RETURNING quantity"
INSERT = "INSERT INTO journal (id, sku_id, delta, quantity_after, timestamp) VALUES (?, ?, 1, ?, ?)"
SKUS = 200


def _create(path: Path) -> list[str]:
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    for statement in SCHEMA:
        conn.execute(statement)
    ids = [str(uuid.uuid4()) for _ in range(SKUS)]
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO sku VALUES (?, 0)", [(i,) for i in ids])
    conn.execute("COMMIT")
    conn.close()
    return ids


def blocking(path: Path, duration: float, warmup: float = 0.5) -> dict[str, Any]:
    ids = _create(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    latencies: list[float] = []
    n = 0
    start = time.perf_counter()
    measure_from = start + warmup
    end = measure_from + duration
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        sku = ids[n % len(ids)]
        n += 1
        conn.execute("BEGIN IMMEDIATE")
        (after,) = conn.execute(UPDATE, (sku,)).fetchone()
        conn.execute(INSERT, (str(uuid.uuid4()), sku, after, "2026-01-01T00:00:00"))
        conn.execute("COMMIT")
        t1 = time.perf_counter()
        if t0 >= measure_from:
            latencies.append(t1 - t0)
    conn.close()
    return {"throughput": len(latencies) / duration, **summary_ms(latencies)}


async def _through_aiosqlite(path: Path, duration: float, warmup: float) -> dict[str, Any]:
    import aiosqlite

    ids = _create(path)
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        latencies: list[float] = []
        n = 0
        start = time.perf_counter()
        measure_from = start + warmup
        end = measure_from + duration
        while True:
            t0 = time.perf_counter()
            if t0 >= end:
                break
            sku = ids[n % len(ids)]
            n += 1
            await conn.execute("BEGIN IMMEDIATE")
            async with conn.execute(UPDATE, (sku,)) as cursor:
                (after,) = await cursor.fetchone()
            await conn.execute(INSERT, (str(uuid.uuid4()), sku, after, "2026-01-01T00:00:00"))
            await conn.execute("COMMIT")
            t1 = time.perf_counter()
            if t0 >= measure_from:
                latencies.append(t1 - t0)
    return {"throughput": len(latencies) / duration, **summary_ms(latencies)}


def through_aiosqlite(path: Path, duration: float, warmup: float = 0.5) -> dict[str, Any]:
    return asyncio.run(_through_aiosqlite(path, duration, warmup))
