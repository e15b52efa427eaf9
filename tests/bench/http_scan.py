"""B1 (scans over HTTP against ``stocky serve``, beside a trivial aiohttp
handler and a bare SQLite transaction) and B2 (the same against the kiosk's
qasync loop, beside ``stocky serve``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.bench import sqlite_floor
from tests.bench.common import (
    BenchResult,
    Kitchen,
    Row,
    Server,
    measure_http,
    prepare_kitchen,
    run_async,
    scan_bodies,
    stocky_server,
    trivial_server,
)

P99_TARGET_MS = 50.0
HUMAN_RATE = 1.0  # scans per second per scanner in the open-loop run
THROUGHPUT_SHARE = 0.5


def _load(kitchen: Kitchen, concurrency: int, cfg: dict[str, Any], *, with_keys: bool = True) -> dict[str, Any]:
    return {
        "path": "/api/v1/scanner/scan",
        "keys": kitchen.scanner_keys[:concurrency] if with_keys else [""],
        "bodies": scan_bodies(kitchen.barcodes),
        "concurrency": concurrency,
        "warmup_s": cfg["warmup_s"],
        "duration_s": cfg["duration_s"],
    }


def _pair(server: Server, kitchen: Kitchen, cfg: dict[str, Any], *, with_keys: bool = True) -> dict[Any, dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = {}
    for concurrency in cfg["concurrency"]:
        result = measure_http(server, _load(kitchen, concurrency, cfg, with_keys=with_keys))
        result["rss_mb_after"] = server.rss_mb()
        out[concurrency] = result
    return out


def _human_pace(server: Server, kitchen: Kitchen, cfg: dict[str, Any], *, with_keys: bool = True) -> dict[str, Any]:
    """20 scanners at a person's pace (one scan a second each, at random):
    the kitchen's real load, where the closed loop above is a stress test."""
    load = _load(kitchen, max(cfg["concurrency"]), cfg, with_keys=with_keys)
    load["rate_per_client"] = HUMAN_RATE
    load["duration_s"] = max(cfg["duration_s"], 5.0)
    return measure_http(server, load)


def _check(results: dict[int, dict[str, Any]], what: str) -> list[str]:
    problems = []
    for concurrency, result in results.items():
        bad = {k: v for k, v in result["statuses"].items() if k != "200"}
        if bad or result["errors"]:
            problems.append(f"{what} c={concurrency}: non-200 answers {bad} {result['errors'][:2]}")
    return problems


def _ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or floor in (None, 0):
        return None
    return value / floor


def b1(cfg: dict[str, Any], work: Path) -> BenchResult:
    out = BenchResult("B1", "Scan over HTTP: stocky serve vs a trivial aiohttp handler and a bare SQLite transaction")
    kitchen = run_async(prepare_kitchen(work / "b1-data", scanners=max(cfg["concurrency"]), link_to_screen=False))

    with trivial_server(work / "trivial.log") as floor_server:
        trivial = _pair(floor_server, kitchen, cfg, with_keys=False)
        trivial_paced = _human_pace(floor_server, kitchen, cfg, with_keys=False)
    with stocky_server("serve", Path(kitchen.data_dir), work / "b1-serve.log") as serve:
        stocky = _pair(serve, kitchen, cfg)
        stocky_paced = _human_pace(serve, kitchen, cfg)
    sqlite_blocking = sqlite_floor.blocking(work / "floor-sqlite3.db", cfg["duration_s"])
    sqlite_async = sqlite_floor.through_aiosqlite(work / "floor-aiosqlite.db", cfg["duration_s"])

    for concurrency in cfg["concurrency"]:
        s, t = stocky[concurrency], trivial[concurrency]
        who = "1 scanner" if concurrency == 1 else f"{concurrency} scanners"
        ratio = _ratio(s["throughput"], t["throughput"])
        out.rows.append(Row(
            "B1", f"scans/s, {who}", s["throughput"], "/s", t["throughput"], "trivial aiohttp handler",
            ratio, "scan/floor", f"≥ {THROUGHPUT_SHARE:g} × floor",
            None if ratio is None else ratio >= THROUGHPUT_SHARE,
        ))
        for q in ("p50", "p99"):
            met = None
            target = ""
            if q == "p99" and concurrency == max(cfg["concurrency"]):
                target = f"< {P99_TARGET_MS:g} ms"
                met = s["p99_ms"] < P99_TARGET_MS
            out.rows.append(Row(
                "B1", f"{q} latency, {who}", s[f"{q}_ms"], "ms", t[f"{q}_ms"], "trivial aiohttp handler",
                _ratio(s[f"{q}_ms"], t[f"{q}_ms"]), "scan/floor", target, met,
            ))
        out.rows.append(Row(
            "B1", f"server CPU per request, {who}", s["server_cpu_ms_per_request"], "ms",
            t["server_cpu_ms_per_request"], "trivial aiohttp handler",
            _ratio(s["server_cpu_ms_per_request"], t["server_cpu_ms_per_request"]), "scan/floor",
        ))
    top = max(cfg["concurrency"])
    for q in ("p50", "p99"):
        out.rows.append(Row(
            "B1", f"{q} latency, {top} scanners at a person's pace ({HUMAN_RATE:g} scan/s each)",
            stocky_paced[f"{q}_ms"], "ms", trivial_paced[f"{q}_ms"], "trivial aiohttp handler",
            _ratio(stocky_paced[f"{q}_ms"], trivial_paced[f"{q}_ms"]), "scan/floor",
            f"< {P99_TARGET_MS:g} ms" if q == "p99" else "",
            stocky_paced["p99_ms"] < P99_TARGET_MS if q == "p99" else None,
            note=f"{stocky_paced['throughput']:.0f} scans/s offered" if q == "p50" else "",
        ))
    out.rows.append(Row(
        "B1", f"scans/s, {top} scanners, vs the database alone", stocky[top]["throughput"], "/s",
        sqlite_blocking["throughput"], "sqlite3 UPDATE+INSERT txn (WAL, sync=FULL)",
        _ratio(stocky[top]["throughput"], sqlite_blocking["throughput"]), "scan/floor",
    ))
    out.rows.append(Row(
        "B1", "p50 of one transaction, aiosqlite vs sqlite3", sqlite_async["p50_ms"], "ms",
        sqlite_blocking["p50_ms"], "sqlite3 txn", _ratio(sqlite_async["p50_ms"], sqlite_blocking["p50_ms"]),
        "aiosqlite/sqlite3", note=f"aiosqlite {sqlite_async['throughput']:.0f} txn/s",
    ))
    client_share = max(r["client_cpu_share"] or 0 for r in (*trivial.values(), *stocky.values()))
    problems = _check({**trivial, "paced": trivial_paced}, "trivial") + _check(
        {**stocky, "paced": stocky_paced}, "stocky serve")
    out.details = {
        "trivial": trivial, "stocky_serve": stocky,
        "trivial_human_pace": trivial_paced, "stocky_serve_human_pace": stocky_paced,
        "sqlite3": sqlite_blocking, "aiosqlite": sqlite_async,
        "load_generator_max_cpu_share": client_share, "problems": problems,
    }
    return out


def b2(cfg: dict[str, Any], work: Path) -> BenchResult:
    out = BenchResult("B2", "The kiosk's qasync loop vs stocky serve's asyncio loop (same scans)")
    kitchen = run_async(prepare_kitchen(work / "b2-data", scanners=max(cfg["concurrency"])))
    with stocky_server("serve", Path(kitchen.data_dir), work / "b2-serve.log") as serve:
        serve_results = _pair(serve, kitchen, cfg)
    with stocky_server("kiosk", Path(kitchen.data_dir), work / "b2-kiosk.log") as kiosk:
        kiosk_results = _pair(kiosk, kitchen, cfg)

    for concurrency in cfg["concurrency"]:
        k, s = kiosk_results[concurrency], serve_results[concurrency]
        who = "1 scanner" if concurrency == 1 else f"{concurrency} scanners"
        out.rows.append(Row("B2", f"kiosk scans/s, {who}", k["throughput"], "/s", s["throughput"], "stocky serve",
                            _ratio(k["throughput"], s["throughput"]), "kiosk/serve"))
        for q in ("p50", "p99"):
            out.rows.append(Row("B2", f"kiosk {q} latency, {who}", k[f"{q}_ms"], "ms", s[f"{q}_ms"], "stocky serve",
                                _ratio(k[f"{q}_ms"], s[f"{q}_ms"]), "kiosk/serve"))
        out.rows.append(Row(
            "B2", f"kiosk CPU per scan, {who}", k["server_cpu_ms_per_request"], "ms",
            s["server_cpu_ms_per_request"], "stocky serve",
            _ratio(k["server_cpu_ms_per_request"], s["server_cpu_ms_per_request"]), "kiosk/serve",
        ))
    out.details = {
        "stocky_serve": serve_results, "kiosk": kiosk_results,
        "problems": _check(serve_results, "serve") + _check(kiosk_results, "kiosk"),
    }
    return out
