"""Run Stocky's benchmarks and print what they found.

    uv run python -m tests.bench                 # everything, full sizes
    uv run python -m tests.bench --quick         # small sizes: a smoke run of about a minute or two
    uv run python -m tests.bench --only B1,B4    # a subset
    uv run python -m tests.bench --out bench-results/results.json

Every figure is measured beside its floor in the same run, so the ratio
holds on a noisy machine. Each benchmark runs in a fresh Python process of
its own (Qt, event loops and memory do not leak from one into the next);
the servers and the load generator are processes of their own too.
Nothing is asserted: targets are reported as met or missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: uv run python tests/bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.common import REPO, BenchResult, fmt, sanitize_own_environ

BENCHES: dict[str, tuple[str, str]] = {
    "B1": ("tests.bench.http_scan:b1", "scan over HTTP vs trivial handler and SQLite"),
    "B2": ("tests.bench.http_scan:b2", "kiosk (qasync) vs stocky serve"),
    "B3": ("tests.bench.screen:b3", "scan to screen"),
    "B4": ("tests.bench.search:b4", "search at scale (100,000 items; --quick 10,000)"),
    "B5": ("tests.bench.start_memory:b5", "cold start and memory"),
    "B6": ("tests.bench.mqtt:b6", "MQTT publish to committed"),
    "B7": ("tests.bench.storage_guard:b7", "storage checks at start and while running (100,000 items)"),
    "B8": ("tests.bench.web_first_load:b7", "StockyWeb first load, gzipped bytes"),
    "B9": ("tests.bench.login_flood:b9", "sign-in and QR labels during a login flood"),
}

FULL: dict[str, Any] = {
    "duration_s": 15.0,
    "warmup_s": 2.0,
    "concurrency": [1, 20],
    "screen_scans": 300,
    "search_items": 100_000,
    "search_skus": 300_000,
    "search_repeats": 50,
    "view_repeats": 20,
    "starts": 5,
    "discard_first_start": True,
    "memory_scans": 100_000,
    "memory_chunks": 10,
    "memory_concurrency": 4,
    "mqtt_messages": 400,
}
QUICK: dict[str, Any] = {
    **FULL,
    "duration_s": 1.5,
    "warmup_s": 0.5,
    "screen_scans": 20,
    "search_items": 10_000,
    "search_skus": 30_000,
    "search_repeats": 10,
    "view_repeats": 3,
    "starts": 1,
    "discard_first_start": False,
    "memory_scans": 600,
    "memory_chunks": 3,
    "mqtt_messages": 40,
}


def machine() -> dict[str, Any]:
    import sqlite3

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        info["cpu"] = names[0] if names else None
    except OSError:
        pass
    try:
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "stocky", "stocky_touch"],
                               capture_output=True, text=True, cwd=REPO).stdout.strip()
        info["stocky_tree_dirty"] = bool(dirty)
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


def loadavg() -> list[float]:
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return [float(x) for x in f.read().split()[:3]]
    except OSError:
        return []


# -- one benchmark, in its own process -------------------------------------------


def child(name: str, config_path: Path, out_path: Path) -> None:
    sanitize_own_environ()
    config = json.loads(config_path.read_text())
    target, _ = BENCHES[name]
    module_name, function = target.split(":")
    bench = getattr(importlib.import_module(module_name), function)
    work = Path(config["work_dir"]) / name.lower()
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result: BenchResult = bench(config, work)
    result.seconds = time.perf_counter() - started
    out_path.write_text(json.dumps(result.as_dict(), default=str))


def run_one(name: str, config: dict[str, Any], scratch: Path, timeout: float) -> dict[str, Any]:
    config_path = scratch / f"{name}.config.json"
    out_path = scratch / f"{name}.result.json"
    config_path.write_text(json.dumps(config))
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tests.bench.run", "--child", name, str(config_path), str(out_path)],
            cwd=REPO, timeout=timeout, capture_output=True, text=True,
        )
    except subprocess.TimeoutExpired as error:
        tail = (error.stderr or b"")[-3000:]
        tail = tail.decode(errors="replace") if isinstance(tail, bytes) else tail
        return {"bench": name, "title": BENCHES[name][1], "error": f"timed out after {timeout:.0f} s\n{tail}",
                "rows": [], "seconds": time.perf_counter() - started}
    if proc.returncode != 0 or not out_path.exists():
        return {"bench": name, "title": BENCHES[name][1], "rows": [], "seconds": time.perf_counter() - started,
                "error": f"exit {proc.returncode}\n{proc.stderr[-4000:]}"}
    return json.loads(out_path.read_text())


# -- the report ---------------------------------------------------------------------


def markdown(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        f"Run {meta['started']} ({meta['mode']}, {meta['seconds']:.0f} s) on {meta['machine'].get('cpu')}, "
        f"{meta['machine'].get('cpus')} CPUs, Python {meta['machine'].get('python')}, "
        f"SQLite {meta['machine'].get('sqlite')}, commit {meta['machine'].get('commit')}"
        f"{' (stocky/ modified)' if meta['machine'].get('stocky_tree_dirty') else ''}.",
        "",
        "| bench | measure | Stocky | floor | ratio | target | met |",
        "|---|---|---:|---|---:|---|:---:|",
    ]
    for result in results:
        if result.get("error"):
            first = result["error"].strip().splitlines()[:1] or ["failed"]
            lines.append(f"| {result['bench']} | **failed**: {first[0][:120]} | | | | | |")
            continue
        for row in result["rows"]:
            value = f"{fmt(row['value'])} {row['unit']}".strip()
            floor = ""
            if row.get("floor") is not None:
                floor = f"{fmt(row['floor'])} {row['unit']} ({row['floor_label']})"
            elif row.get("floor_label"):
                floor = row["floor_label"]
            ratio = f"{fmt(row['ratio'], 2)}×" if row.get("ratio") is not None else ""
            met = {True: "yes", False: "**no**", None: ""}[row.get("met")]
            measure = row["measure"] + (f" ({row['note']})" if row.get("note") else "")
            lines.append(f"| {row['bench']} | {measure} | {value} | {floor} | {ratio} | {row.get('target', '')} | {met} |")
    loads = ", ".join(
        f"{r['bench']} {r['loadavg_before'][0]:.1f}→{r['loadavg_after'][0]:.1f}"
        for r in results if r.get("loadavg_before") and r.get("loadavg_after")
    )
    if loads:
        lines += ["", f"Load average (1 min) before→after each benchmark: {loads}."]
    problems = [
        f"- {r['bench']}: {p}" for r in results for p in (r.get("details", {}) or {}).get("problems", [])
    ]
    if problems:
        lines += ["", "Problems seen during the run:", *problems]
    return "\n".join(lines) + "\n"


def merge(paths: list[str], out_name: str) -> int:
    """One table from several runs (say B5's long memory run made apart)."""
    by_bench: dict[str, dict[str, Any]] = {}
    metas = []
    for path in paths:
        data = json.loads(Path(path).read_text())
        metas.append(data["meta"])
        for result in data["results"]:
            result.setdefault("run_started", data["meta"]["started"])
            by_bench[result["bench"]] = result
    results = [by_bench[name] for name in BENCHES if name in by_bench]
    meta = {
        **metas[-1],
        "started": " and ".join(m["started"] for m in metas),
        "mode": "+".join(sorted({m["mode"] for m in metas})),
        "seconds": sum(r.get("seconds", 0) for r in results),
        "merged_from": paths,
    }
    table = markdown(results, meta)
    print(table)
    out = Path(out_name)
    if not out.is_absolute():
        out = REPO / out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    out.with_suffix(".md").write_text(table)
    print(f"Wrote {out} and {out.with_suffix('.md')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs (a smoke test)")
    parser.add_argument("--only", help="comma-separated benchmarks to run, e.g. B1,B4 (default: all)")
    parser.add_argument("--skip", help="comma-separated benchmarks to leave out")
    parser.add_argument("--out", default="bench-results/results.json", help="where to write the JSON")
    parser.add_argument("--duration", type=float, help="seconds per load run (B1, B2)")
    parser.add_argument("--items", type=int, help="items for B4 (SKUs: three times as many)")
    parser.add_argument("--memory-scans", type=int, help="scans for B5's memory figure")
    parser.add_argument("--tmp-dir", help="where the databases go (default: the system's temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases and logs")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one benchmark may take")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    parser.add_argument("--merge", nargs="+", metavar="JSON",
                        help="run nothing: merge earlier results (later files win per benchmark) into --out")
    parser.add_argument("--child", nargs=3, metavar=("NAME", "CONFIG", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    if args.list:
        for name, (_, title) in BENCHES.items():
            print(f"{name}  {title}")
        return 0
    if args.merge:
        return merge(args.merge, args.out)

    names = list(BENCHES)
    if args.only:
        names = [n.strip().upper() for n in args.only.split(",") if n.strip()]
    if args.skip:
        skipped = {n.strip().upper() for n in args.skip.split(",")}
        names = [n for n in names if n not in skipped]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; --list shows them")

    config = dict(QUICK if args.quick else FULL)
    if args.duration:
        config["duration_s"] = args.duration
    if args.items:
        config["search_items"], config["search_skus"] = args.items, 3 * args.items
    if args.memory_scans:
        config["memory_scans"] = args.memory_scans

    scratch = Path(tempfile.mkdtemp(prefix="stocky-bench-", dir=args.tmp_dir))
    config["work_dir"] = str(scratch)
    meta: dict[str, Any] = {
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "config": config,
        "machine": machine(),
    }
    print(f"Benchmarks {', '.join(names)} ({meta['mode']}); scratch in {scratch}", flush=True)
    results = []
    started = time.perf_counter()
    for name in names:
        print(f"  {name} {BENCHES[name][1]} ...", end="", flush=True)
        load_before = loadavg()
        result = run_one(name, config, scratch, args.timeout)
        # Others' work on the machine shows here (2 CPUs: a load above 2
        # means the benchmark shared them).
        result["loadavg_before"], result["loadavg_after"] = load_before, loadavg()
        print(f" {result.get('seconds', 0):.0f} s{' FAILED' if result.get('error') else ''}", flush=True)
        if result.get("error"):
            print(result["error"], file=sys.stderr)
        results.append(result)
    meta["seconds"] = time.perf_counter() - started

    table = markdown(results, meta)
    print()
    print(table)
    out = Path(args.out)
    if not out.is_absolute():
        out = REPO / out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    out.with_suffix(".md").write_text(table)
    print(f"Wrote {out} and {out.with_suffix('.md')}")
    if not args.keep:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    else:
        print(f"Kept {scratch}")
    return 1 if any(r.get("error") for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
