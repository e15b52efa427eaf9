"""B5: cold start and resident memory.

Start: from ``Popen`` of ``stocky kiosk --windowed`` (off screen) to the
first ``GET /health`` answering 200, on a prepared, migrated database (so
the start checks the schema as every start does). Beside it: ``stocky
serve`` and the trivial aiohttp server, started the same way. One start is
made and thrown away first (not in ``--quick``), so every measured start
finds the files in the page cache: "cold" is a new process, not a cold disk.

Memory: the kiosk's resident set (VmRSS from /proc) once it answers, then
after every chunk of scans (known products, scanners each with a location
and linked to the kiosk's screen, as in a kitchen), so growth shows as a
series and not just an end point.
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from tests.bench.common import (
    BenchResult,
    Row,
    Server,
    measure_http,
    prepare_kitchen,
    run_async,
    scan_bodies,
    stocky_server,
    trivial_server,
)

START_TARGET_S = 2.0
MEMORY_TARGET_MB = 200.0
# "Flat": what the resident set may still grow over the last 80 % of the
# scans, once caches have filled during the first 20 %.
FLAT_TOLERANCE_MB = 10.0


def _starts(make: Any, count: int, discard_first: bool) -> dict[str, Any]:
    times, rss = [], []
    for n in range(count + discard_first):
        server: Server = make(n)
        try:
            seconds = server.start()
            time.sleep(0.5)
            if n or not discard_first:
                times.append(seconds)
                rss.append(server.rss_mb())
        finally:
            server.stop()
    return {
        "seconds": times,
        "median_s": statistics.median(times),
        "max_s": max(times),
        "rss_mb": rss,
        "rss_median_mb": statistics.median(rss),
    }


def b5(cfg: dict[str, Any], work: Path) -> BenchResult:
    out = BenchResult("B5", "Cold start to /health, and resident memory under scans")
    kitchen = run_async(prepare_kitchen(work / "b5-data", scanners=max(cfg["memory_concurrency"], 4)))
    data = Path(kitchen.data_dir)
    count, discard = cfg["starts"], cfg.get("discard_first_start", True)

    trivial = _starts(lambda n: trivial_server(work / f"trivial-{n}.log"), count, discard)
    serve = _starts(lambda n: stocky_server("serve", data, work / f"serve-{n}.log"), count, discard)
    kiosk = _starts(lambda n: stocky_server("kiosk", data, work / f"kiosk-{n}.log"), count, discard)

    out.rows.append(Row(
        "B5", "kiosk cold start to /health (median)", kiosk["median_s"], "s", trivial["median_s"],
        "trivial aiohttp server", kiosk["median_s"] / trivial["median_s"], "kiosk/floor",
        f"< {START_TARGET_S:g} s", kiosk["max_s"] < START_TARGET_S, note=f"max {kiosk['max_s']:.2f} s",
    ))
    out.rows.append(Row(
        "B5", "serve cold start to /health (median)", serve["median_s"], "s", trivial["median_s"],
        "trivial aiohttp server", serve["median_s"] / trivial["median_s"], "serve/floor",
        note=f"max {serve['max_s']:.2f} s",
    ))

    memory = _memory(cfg, kitchen, work)
    series = memory["series"]
    settled = series[max(1, len(series) // 5)]["rss_mb"] if len(series) > 1 else series[0]["rss_mb"]
    growth = series[-1]["rss_mb"] - settled
    out.rows.append(Row(
        "B5", "kiosk RSS after start", series[0]["rss_mb"], "MB", trivial["rss_median_mb"],
        "trivial aiohttp server", series[0]["rss_mb"] / trivial["rss_median_mb"], "kiosk/floor",
        f"< {MEMORY_TARGET_MB:g} MB", series[0]["rss_mb"] < MEMORY_TARGET_MB,
        note=f"serve {serve['rss_median_mb']:.0f} MB",
    ))
    out.rows.append(Row(
        "B5", f"kiosk RSS after {series[-1]['scans']:,} scans", series[-1]["rss_mb"], "MB",
        series[0]["rss_mb"], "after start", series[-1]["rss_mb"] / series[0]["rss_mb"], "after/start",
        f"< {MEMORY_TARGET_MB:g} MB", series[-1]["rss_mb"] < MEMORY_TARGET_MB,
    ))
    out.rows.append(Row(
        "B5", "kiosk RSS growth over the last 80 % of scans", growth, "MB",
        target=f"flat (< {FLAT_TOLERANCE_MB:g} MB)", met=growth < FLAT_TOLERANCE_MB,
        note=f"{memory['scans_per_s']:.0f} scans/s while measuring",
    ))
    out.details = {"trivial": trivial, "serve": serve, "kiosk": kiosk, "memory": memory,
                   "problems": memory["problems"]}
    return out


def _memory(cfg: dict[str, Any], kitchen: Any, work: Path) -> dict[str, Any]:
    # A copy of the kitchen, so the starts above do not count.
    data = work / "b5-memory-data"
    shutil.copytree(kitchen.data_dir, data)
    total, chunks = cfg["memory_scans"], cfg["memory_chunks"]
    concurrency = cfg["memory_concurrency"]
    per_chunk = max(1, total // chunks)
    problems: list[str] = []
    with stocky_server("kiosk", data, work / "kiosk-memory.log") as kiosk:
        time.sleep(1.0)
        series = [{"scans": 0, "rss_mb": kiosk.rss_mb(), "cpu_s": kiosk.cpu_seconds()}]
        done, started = 0, time.perf_counter()
        while done < total:
            result = measure_http(kiosk, {
                "path": "/api/v1/scanner/scan",
                "keys": kitchen.scanner_keys[:concurrency],
                "bodies": scan_bodies(kitchen.barcodes),
                "concurrency": concurrency,
                "requests": min(per_chunk, total - done),
            })
            done += result["total_requests"]
            bad = {k: v for k, v in result["statuses"].items() if k != "200"}
            if bad:
                problems.append(f"chunk ending at {done}: answers {bad}")
            series.append({"scans": done, "rss_mb": kiosk.rss_mb(), "cpu_s": kiosk.cpu_seconds(),
                           "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"]})
        elapsed = time.perf_counter() - started
    return {"series": series, "scans_per_s": done / elapsed if elapsed else 0, "problems": problems}
