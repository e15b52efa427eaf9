"""B7: what watching the storage costs (DESIGN.md section 14).

- The start-up check (``stocky/db/guard.py``: header, ``PRAGMA
  quick_check``, schema revision) on the kitchen of B4, beside its floor:
  reading the same file once from start to end, which quick_check cannot
  beat, and beside ``integrity_check``, the full check Stocky does not run
  at start.
- The storage probe (``stocky/db/watch.py``), which the watch thread runs
  twice a second and the writer after every commit.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from tests.bench.common import BenchResult, Row, summary_ms
from tests.bench.search import build

PROBES = 100_000


def _read_through(path: Path) -> float:
    started = time.perf_counter()
    with open(path, "rb") as handle:
        while handle.read(1 << 20):
            pass
    return time.perf_counter() - started


def b7(cfg: dict[str, Any], work: Path) -> BenchResult:
    from stocky.core.settings import Settings
    from stocky.db import guard
    from stocky.db.health import StorageHealth
    from stocky.db.watch import StorageWatch

    items, skus = cfg["search_items"], cfg["search_skus"]
    out = BenchResult("B7", f"Storage checks at {items:,} items, {skus:,} SKUs")
    data = work / "b7-data"
    path = data / "stocky.db"
    data.mkdir(parents=True, exist_ok=True)
    build(path, items, skus)
    settings = Settings(_env_file=None, data_dir=data)

    checks, reads = [], []
    for _ in range(3):
        reads.append(_read_through(path))
        started = time.perf_counter()
        guard.check(settings)
        checks.append(time.perf_counter() - started)
    with sqlite3.connect(path) as db:
        started = time.perf_counter()
        db.execute("PRAGMA integrity_check").fetchall()
        full = time.perf_counter() - started
    check, read = summary_ms(checks), summary_ms(reads)
    out.rows.append(Row(
        "B7", "start-up storage check (quick_check) p50", check["p50_ms"], "ms", read["p50_ms"],
        "read the file once", check["p50_ms"] / read["p50_ms"], "check/read",
        f"< {guard.QUICK_CHECK_SECONDS * 1000:g} ms (the bound)", check["max_ms"] < guard.QUICK_CHECK_SECONDS * 1000,
        note=f"{path.stat().st_size / 1e6:.0f} MB; integrity_check {full * 1000:.0f} ms",
    ))

    watch = StorageWatch(settings, StorageHealth(), lambda reason: None)
    watch.remember()
    started = time.perf_counter()
    for _ in range(PROBES):
        assert watch.probe() is None
    per_probe = (time.perf_counter() - started) / PROBES
    out.rows.append(Row("B7", "storage probe (per commit, twice a second)", per_probe * 1e6, "µs",
                        note="two os.stat calls"))
    out.details = {"check_s": checks, "read_s": reads, "integrity_check_s": full, "probe_s": per_probe}
    return out

