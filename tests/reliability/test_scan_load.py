"""Twenty scanners scanning at once over HTTP into a real ``stocky serve``:
every count is exact, and no scan is answered with a server error.

Half the scans go to one shared product that none of the scanners has seen
before (so twenty first scans race to create it), half to each scanner's own
product. What a user would notice if this broke: a count that is off by a
few after a busy evening, two items for one barcode, or a scanner that
beeps an error under load.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import aiohttp
import pytest
from reliability_support import (
    Kitchen,
    StockyProcess,
    create_admin,
    percentile,
    read_db,
)

SCANNERS = 20
SCANS_EACH = 50
SHARED_UPC = "4006381333931"  # unknown to Stocky until the first scan


def own_upc(n: int) -> str:
    return f"20000000{n:04d}"  # 12 digits, stored as the 13-digit EAN form


@pytest.mark.timeout(120)
async def test_20_scanners_x_50_scans_all_count_exactly_and_none_fails(
    stocky_process: StockyProcess, http: aiohttp.ClientSession, record_property
):
    stocky = stocky_process
    create_admin(stocky, "admin", "a long admin password")
    stocky.start()
    kitchen = Kitchen(stocky.url, http)
    await kitchen.login("admin", "a long admin password")
    await kitchen.new_location("Shelf")
    names = [f"scanner-{n:02d}" for n in range(SCANNERS)]
    own_items = {}
    for n, name in enumerate(names):
        await kitchen.new_scanner(name)
        await kitchen.set_location(kitchen.scanner_keys[name], "Shelf")
        own_items[name] = await kitchen.new_item(f"Own thing {n}", own_upc(n))

    statuses: Counter[int] = Counter()
    results: Counter[str] = Counter()
    latencies: list[float] = []

    async def scanner(n: int, name: str) -> None:
        key = kitchen.scanner_keys[name]
        for i in range(SCANS_EACH):
            began = time.perf_counter()
            answer = await kitchen.scan(key, SHARED_UPC if i % 2 == 0 else own_upc(n))
            latencies.append(time.perf_counter() - began)
            statuses[answer.status] += 1
            if answer.status == 200:
                results[answer.body["result"]] += 1

    began = time.perf_counter()
    async with asyncio.timeout(90):
        await asyncio.gather(*(scanner(n, name) for n, name in enumerate(names)))
    elapsed = time.perf_counter() - began
    record_property("scans_per_second", round(SCANNERS * SCANS_EACH / elapsed))
    record_property("latency_p50_ms", round(percentile(latencies, 0.5) * 1000, 1))
    record_property("latency_p99_ms", round(percentile(latencies, 0.99) * 1000, 1))

    # Every scan answered 200 "added": no 5xx, no 409 from a lost race.
    assert statuses == {200: SCANNERS * SCANS_EACH}, statuses
    assert results == {"added": SCANNERS * SCANS_EACH}, results

    # The counts, as the inventory shows them.
    shared = await kitchen.ok("GET", f"/item?search={SHARED_UPC}&stock=all")
    assert shared["total"] == 1, shared  # twenty racing first scans made one item
    (shared_item,) = shared["data"]
    assert shared_item["total_quantity"] == SCANNERS * SCANS_EACH // 2
    for name, item_id in own_items.items():
        detail = await kitchen.item(item_id)
        assert detail["total_quantity"] == SCANS_EACH // 2, (name, detail)
        assert [s["location_name"] for s in detail["skus"]] == ["Shelf"]

    # The journal: one row per scan, each scanner's 50, and the shared
    # product's running count went 1, 2, ..., 500 with no value seen twice.
    with read_db(stocky.db_path) as db:
        per_user = dict(
            db.execute(
                "SELECT user_id, COUNT(*) FROM stock_change WHERE source = 'scan' GROUP BY user_id"
            )
        )
        after = [
            row[0]
            for row in db.execute(
                "SELECT quantity_after FROM stock_change WHERE item_id = ?", (shared_item["id"],)
            )
        ]
    assert per_user == {kitchen.scanner_ids[name]: SCANS_EACH for name in names}
    assert sorted(after) == list(range(1, SCANNERS * SCANS_EACH // 2 + 1))

    status = await kitchen.ok("GET", "/scanner/status")
    assert all(s["last_scan_timestamp"] for s in status["data"]), status
    assert stocky.running
