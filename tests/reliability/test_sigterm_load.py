"""SIGTERM (``systemctl stop``, a shutdown) while scans pour in.

``stocky serve`` must exit 0 within 5 s (systemd's patience is limited and
a kiosk that hangs on power-off is broken), and every scan it acknowledged
before it went must be in the database.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from reliability_support import (
    Kitchen,
    ScanLedger,
    StockyProcess,
    create_admin,
    integrity,
    journal_scan_ids,
    quantity_of,
    scan_stream,
)
from support.polling import eventually

MILK = "4006381333931"
STREAMS = 10
STOP_AFTER = 100
PASSWORD = "a long admin password"


@pytest.mark.timeout(90)
async def test_sigterm_under_load_exits_0_within_5_s_and_keeps_acknowledged_scans(
    stocky_process: StockyProcess, http: aiohttp.ClientSession, record_property
):
    stocky = stocky_process
    create_admin(stocky, "admin", PASSWORD)
    stocky.start()
    kitchen = Kitchen(stocky.url, http)
    await kitchen.login("admin", PASSWORD)
    await kitchen.new_location("Fridge", "Refrigerated")
    keys = [await kitchen.new_scanner(f"scanner-{n}") for n in range(STREAMS)]
    for key in keys:
        await kitchen.set_location(key, "Fridge")
    # A new barcode: its product lookup is under way (and failing: no network)
    # while Stocky is told to stop.
    first = await kitchen.scan(keys[0], MILK, "first")
    assert first.status == 200 and first.body["created"], first

    ledger = ScanLedger()
    ledger.attempted["first"] = keys[0]
    ledger.acked.add("first")
    streams = [
        asyncio.create_task(scan_stream(kitchen, key, MILK, ledger, limit=2000, prefix=f"s{n}"))
        for n, key in enumerate(keys)
    ]
    async with asyncio.timeout(60):
        await eventually(lambda: len(ledger.acked) >= STOP_AFTER, timeout=50)
        code, seconds = await asyncio.to_thread(stocky.terminate)
        await asyncio.gather(*streams)

    record_property("stop_seconds", round(seconds, 2))
    record_property("acked_unanswered", (len(ledger.acked), len(ledger.unanswered)))
    assert code == 0, stocky.log()
    assert seconds < 5.0, f"took {seconds:.1f} s to stop"
    assert "Traceback" not in stocky.log(), stocky.log()
    assert ledger.refused == [], ledger.refused[:5]
    assert len(ledger.acked) >= STOP_AFTER

    on_disk = journal_scan_ids(stocky.db_path)
    assert ledger.acked <= set(on_disk), (
        f"{len(ledger.acked - set(on_disk))} acknowledged scans lost"
    )
    assert set(on_disk) <= set(ledger.attempted)
    assert quantity_of(stocky.db_path, MILK) == len(on_disk)
    assert integrity(stocky.db_path) == ["ok"]
