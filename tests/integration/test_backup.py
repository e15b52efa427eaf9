"""Backups while scans keep coming, and restores that refuse to clobber a
running Stocky."""

from __future__ import annotations

import asyncio
import sqlite3

import aiohttp
import pytest

from stocky.core.errors import Conflict, InvalidInput
from stocky.core.settings import Settings
from stocky.db.backup import backup, restore
from stocky.runtime import Runtime
from stocky.schemas.actor import SYSTEM


def scanned_ids(path) -> set[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {row[0] for row in db.execute("SELECT scan_id FROM stock_change WHERE scan_id IS NOT NULL")}


async def test_backup_during_a_scan_stream_holds_every_acknowledged_scan(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", uda_api_url="http://127.0.0.1:9/{upc}")
    runtime = Runtime(settings, demo=True, host="127.0.0.1", port=0, hid=False)
    await runtime.start()
    acknowledged: list[str] = []
    snapshot: set[str] = set()
    try:
        services = runtime.services
        pantry = next(loc for loc in (await services.locations.list(SYSTEM)).data if loc.name == "Pantry")
        scanner = await services.users.by_username("Kitchen scanner", SYSTEM)
        await services.scans.set_state(scanner.id, {"current_location_id": str(pantry.id)}, SYSTEM)
        key = runtime.demo_logins.scanner_api_key
        url = f"http://127.0.0.1:{runtime.bound_port}/api/v1/scanner/scan"
        stop = asyncio.Event()

        async def stream(http: aiohttp.ClientSession) -> None:
            number = 0
            while not stop.is_set() and number < 2000:
                scan_id = f"s{number}"
                body = {"msg": "8076800195057", "scan_id": scan_id}
                async with http.post(url, json=body, headers={"X-API-Key": key}) as reply:
                    assert reply.status == 200, await reply.text()
                acknowledged.append(scan_id)
                number += 1

        async with aiohttp.ClientSession() as http:
            streaming = asyncio.create_task(stream(http))
            while len(acknowledged) < 40:
                await asyncio.sleep(0.01)
            snapshot = set(acknowledged)  # every scan acknowledged before the backup began
            target = tmp_path / "backups" / "kitchen.db"
            await asyncio.get_running_loop().run_in_executor(
                None, backup, settings.resolved_database_url, target)
            stop.set()
            await streaming
        assert len(acknowledged) > len(snapshot) or len(acknowledged) >= 40

        # A running Stocky cannot be restored over.
        with pytest.raises(Conflict):
            restore(settings.resolved_database_url, settings.data_dir, target)
    finally:
        await runtime.stop()

    in_backup = scanned_ids(target)
    assert snapshot <= in_backup
    kept = restore(settings.resolved_database_url, settings.data_dir, target)
    assert scanned_ids(kept) == set(acknowledged)  # the replaced database is kept whole
    restored = Runtime(settings, host="127.0.0.1", port=0, hid=False)
    await restored.start()
    try:
        spaghetti = (await restored.services.items.list(SYSTEM, search="Spaghetti")).data[0]
        assert spaghetti.total_quantity == 3 + len(in_backup)
    finally:
        await restored.stop()


def test_restore_refuses_a_file_that_is_not_a_stocky_database(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InvalidInput):
        restore(settings.resolved_database_url, settings.data_dir, junk)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(InvalidInput, match="not a Stocky database"):
        restore(settings.resolved_database_url, settings.data_dir, other)
    assert not (settings.data_dir / "stocky.db").exists()


def test_backup_of_postgres_points_to_pg_dump(tmp_path):
    with pytest.raises(InvalidInput, match="pg_dump"):
        backup("postgresql+asyncpg://u:p@localhost/stocky", tmp_path / "x.db")


def test_backup_and_restore_commands(tmp_path):
    import subprocess
    import sys

    env = {"STOCKY_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "stocky", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120)
    assert run("demo-data").returncode == 0
    made = run("backup", "copy.db")
    assert made.returncode == 0 and "Backed up" in made.stdout
    back = run("restore", "copy.db")
    assert back.returncode == 0 and "kept as" in back.stdout
    missing = run("restore", "nowhere.db")
    assert missing.returncode == 1 and "no backup" in missing.stderr and "Traceback" not in missing.stderr
