"""``kill -9`` of ``stocky serve`` in the middle of a stream of scans.

The promise a user relies on: a scan the scanner saw acknowledged (a 2xx)
is in the database after the crash and the restart, the database file is
intact, and the scanners can simply send again whatever got no answer, with
the same ``scan_id``, without anything counting twice.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3

import aiohttp
import pytest
from reliability_support import (
    Kitchen,
    ScanLedger,
    StockyProcess,
    add_scanner_with_cli,
    create_admin,
    integrity,
    journal_scan_ids,
    quantity_of,
    scan_stream,
)
from support.polling import eventually

TEA = "5000112637922"
STREAMS = 4
KILL_AFTER = 120  # acknowledged scans before the power cord is pulled
PASSWORD = "a long admin password"


@pytest.mark.timeout(90)
async def test_kill_9_mid_stream_keeps_every_acknowledged_scan(
    stocky_process: StockyProcess, http: aiohttp.ClientSession, tmp_path
):
    stocky = stocky_process
    create_admin(stocky, "admin", PASSWORD)
    keys = [add_scanner_with_cli(stocky, "Pantry scanner")]  # the documented way
    stocky.start()
    kitchen = Kitchen(stocky.url, http)
    await kitchen.login("admin", PASSWORD)
    await kitchen.new_location("Pantry")
    tea = await kitchen.new_item("Tea", TEA)
    keys += [await kitchen.new_scanner(f"scanner-{n}") for n in range(1, STREAMS)]
    for key in keys:
        await kitchen.set_location(key, "Pantry")

    ledger = ScanLedger()
    streams = [
        asyncio.create_task(scan_stream(kitchen, key, TEA, ledger, limit=2000, prefix=f"s{n}"))
        for n, key in enumerate(keys)
    ]
    async with asyncio.timeout(60):
        await eventually(lambda: len(ledger.acked) >= KILL_AFTER, timeout=50)
        await asyncio.to_thread(stocky.kill)
        await asyncio.gather(*streams)

    assert ledger.refused == []
    assert ledger.acked and ledger.unanswered, "the kill did not land in the middle of the stream"

    # The file as the crash left it (a copy: opening it recovers the WAL).
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for suffix in ("", "-wal"):
        source = stocky.db_path.with_name(stocky.db_path.name + suffix)
        if source.exists():
            shutil.copy(source, crashed / source.name)
    with sqlite3.connect(crashed / stocky.db_path.name) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        on_disk = {
            r[0] for r in copy.execute("SELECT scan_id FROM stock_change WHERE scan_id IS NOT NULL")
        }
    assert ledger.acked <= on_disk, (
        f"{len(ledger.acked - on_disk)} acknowledged scans lost by the crash"
    )

    # Restart: everything acknowledged is there, nothing was invented, and the
    # count agrees with the journal.
    stocky.start()
    after_restart = journal_scan_ids(stocky.db_path)
    assert len(after_restart) == len(set(after_restart))
    assert ledger.acked <= set(after_restart) <= set(ledger.attempted)
    assert (await kitchen.item(tea))["total_quantity"] == len(after_restart)

    # The scanners send again what got no answer, with the same scan ids:
    # what had counted says "duplicate", the rest counts now, once.
    resent = {"added": 0, "duplicate": 0}
    for scan_id in sorted(ledger.unknown):
        answer = await kitchen.scan(ledger.attempted[scan_id], TEA, scan_id)
        assert answer.status == 200, answer
        resent[answer.body["result"]] += 1
    assert resent["duplicate"] == len(set(after_restart) - ledger.acked)
    assert (await kitchen.item(tea))["total_quantity"] == len(ledger.attempted)
    final = journal_scan_ids(stocky.db_path)
    assert sorted(final) == sorted(ledger.attempted)

    code, _ = stocky.terminate()
    assert code == 0, stocky.log()
    assert integrity(stocky.db_path) == ["ok"]
    assert quantity_of(stocky.db_path, TEA) == len(ledger.attempted)
