"""Storage that changes under a running ``stocky serve`` (DESIGN.md section 14).

The database file replaced (``mv`` over it) or the whole data directory
deleted while scans arrive: from that moment no scan is acknowledged, screens
get an alert, the process exits non-zero for systemd to restart it, and the
restart either refuses with advice (nothing left) or runs on the file put in
place, undamaged by the old WAL. A second Stocky on the same SQLite file,
with a data directory of its own, is refused.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
from mosquitto import free_port
from reliability_support import (
    StockyProcess,
    call,
    journal_scan_ids,
)
from support.kitchens import seed_kitchen

from stocky.db import guard

MILK = "4006381333931"
EXIT_WITHIN = 5.0


async def scan(http: aiohttp.ClientSession, stocky: StockyProcess, key: str) -> tuple[str, int | None]:
    """One scan with a scan_id; the status, or None when nobody answered."""
    scan_id = str(uuid.uuid4())
    try:
        answer = await call(http, "POST", f"{stocky.url}/api/v1/scanner/scan",
                            headers={"X-API-Key": key}, json_body={"msg": MILK, "scan_id": scan_id})
    except aiohttp.ClientError:
        return scan_id, None
    return scan_id, answer.status


async def health_of(http: aiohttp.ClientSession, stocky: StockyProcess) -> int | None:
    try:
        return (await call(http, "GET", f"{stocky.url}/health")).status
    except aiohttp.ClientError:
        return None


async def running_kitchen(stocky: StockyProcess) -> dict[str, str]:
    seeded = await seed_kitchen(stocky.data_dir, scanners=["door"], items={MILK: "Milk"}, viewers=("eye",))
    stocky.start()
    return seeded.keys


async def watch_fault(http: aiohttp.ClientSession, stocky: StockyProcess, keys: dict[str, str],
                      fault) -> tuple[list[str], list[int | None]]:
    """Scan, break the storage with ``fault()``, keep scanning until the
    process is gone. Returns the scan_ids acknowledged before the fault and
    the answers to every scan sent after it."""
    before = []
    for _ in range(5):
        scan_id, status = await scan(http, stocky, keys["door"])
        assert status == 200
        before.append(scan_id)
    async with http.ws_connect(f"{stocky.url}/ws", headers={"X-API-Key": keys["eye"]}) as ws:
        fault()
        after, health = [], []
        deadline = time.monotonic() + EXIT_WITHIN
        while stocky.running and time.monotonic() < deadline:
            after.append((await scan(http, stocky, keys["door"]))[1])
            health.append(await health_of(http, stocky))
            await asyncio.sleep(0.02)
        alerts = []
        while not ws.closed:
            message = await ws.receive(timeout=2)
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            if (body := message.json()).get("action") == "alert":
                alerts.append(body)
    assert stocky.process is not None
    assert stocky.process.wait(1) != 0, stocky.log()
    # /health turns 503 (or nobody answers any more) and never back to 200.
    unhealthy = [status != 200 for status in health]
    assert True in unhealthy and all(unhealthy[unhealthy.index(True):]), health
    assert [a["severity"] for a in alerts] == ["Error"], alerts
    assert "restarts to check its storage" in alerts[0]["message"]
    return before, after


def restart_said(stocky: StockyProcess) -> subprocess.CompletedProcess[str]:
    """What a restart does (systemd's next start), in a few seconds at most."""
    return subprocess.run(
        [sys.executable, "-m", "stocky", "serve", "--host", "127.0.0.1", "--port", str(stocky.port)],
        env=stocky.env, cwd=stocky.data_dir.parent, capture_output=True, text=True, timeout=5 * 60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("gone", ["database file", "data directory"])
async def test_storage_deleted_while_running(stocky_process: StockyProcess, http, gone: str):
    keys = await running_kitchen(stocky_process)
    if gone == "database file":
        delete, said = stocky_process.db_path.unlink, "was deleted while Stocky was running"
    else:
        delete, said = (lambda: shutil.rmtree(stocky_process.data_dir),
                        "was deleted or replaced while Stocky was running")
    _, after = await watch_fault(http, stocky_process, keys, delete)
    assert after and 200 not in after, after
    assert any(status == 503 for status in after) or after == [None], after
    log = stocky_process.log()
    assert log.count(" ERROR ") == 1 and said in log, log

    # The marker is there (or came back), so the restart refuses instead of
    # starting an empty kitchen, and the old WAL cannot join a new file.
    done = restart_said(stocky_process)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert "Stocky will not start an empty kitchen" in done.stderr
    assert "stocky restore FILE" in done.stderr
    assert not stocky_process.db_path.exists()
    assert not Path(f"{stocky_process.db_path}-wal").exists()


async def test_database_replaced_while_running(stocky_process: StockyProcess, http, tmp_path: Path):
    keys = await running_kitchen(stocky_process)
    db = stocky_process.db_path
    copy = tmp_path / "copy.db"

    def replace() -> None:
        stocky_process.cli("backup", str(copy))
        os.replace(copy, db)

    before, after = await watch_fault(http, stocky_process, keys, replace)
    assert after and 200 not in after, after
    assert "replaced by another file while Stocky was running" in stocky_process.log()

    # The restart runs on the file put in place, whole: the old WAL was set aside.
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    assert list(db.parent.glob("stocky.db-wal.orphaned-*"))
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert set(before) <= set(journal_scan_ids(db))
    stocky_process.start()
    scan_id, status = await scan(http, stocky_process, keys["door"])
    assert status == 200 and scan_id in journal_scan_ids(db)


async def test_second_stocky_on_one_sqlite_file_is_refused(stocky_process: StockyProcess, tmp_path: Path):
    await running_kitchen(stocky_process)
    other = StockyProcess(tmp_path / "other-data", free_port(),
                          DATABASE_URL=f"sqlite+aiosqlite:///{stocky_process.db_path}")
    done = restart_said(other)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert "Another Stocky is already running on the database" in done.stderr
    assert not (other.data_dir / guard.MARKER_NAME).exists()
    assert stocky_process.running
