"""Storage that fails under a running Stocky: a damaged page, a full disk,
a lock another process holds, a WAL that grew.

The promise holds as for a crash: a scan answered 200 is in the journal and
the count, whatever the storage did. And Stocky says so clearly: 507
``storage_full``, 503 ``storage_busy`` with ``Retry-After``, 503
``storage_unavailable``; ``/health`` 503 while writes fail; one log line when
a burst of failures starts and one when it ends, never a traceback per
request; an Error alert once writes succeed again; no restart needed.

The full disk is a small tmpfs mounted for the test (root only; skipped
otherwise), the damage is random bytes written over the search index's pages
of the real file, the lock is a real ``BEGIN IMMEDIATE`` in another process.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest
from reliability_support import (
    API,
    SCAN,
    Answer,
    Kitchen,
    clean_environment,
    in_process_stocky,
    journal_scan_ids,
    quantity_of,
    read_db,
)
from support.kitchens import seed_kitchen
from tmpfs import small_disk

from stocky.core.settings import Settings
from stocky.db.engine import WAL_LIMIT
from stocky.db.faults import LOCK_WAIT
from stocky.models import Alert
from stocky.schemas.actor import SYSTEM
from stocky.services.container import open_services

MILK = "4000417025005"
PAGE = 4096


def base_url(runtime) -> str:
    return f"http://127.0.0.1:{runtime.bound_port}"


async def health(http: aiohttp.ClientSession, runtime) -> int:
    async with http.get(f"{base_url(runtime)}/health") as response:
        return response.status


def wal_size(data_dir: Path) -> int:
    wal = data_dir / "stocky.db-wal"
    return wal.stat().st_size if wal.exists() else 0


def storage_records(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "stocky.storage" and text in r.getMessage()]


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("stocky") and r.exc_info]


# --- a damaged page -----------------------------------------------------------------


def damage_search_index(db: Path) -> int:
    """Random bytes over every page of the FTS5 search index's data; returns
    how many pages. Only writes that index an item read those pages."""
    with read_db(db) as connection:
        pages = [row[0] for row in connection.execute(
            "SELECT pageno FROM dbstat WHERE name = 'item_fts_data'"
        )]
    with db.open("r+b") as file:
        for page in pages:
            file.seek((page - 1) * PAGE)
            file.write(os.urandom(PAGE))
    return len(pages)


@pytest.mark.timeout(90)
async def test_a_damaged_page_never_costs_an_acknowledged_scan(tmp_path, http):
    data = tmp_path / "data"
    milk_scanners = [f"milk-{n}" for n in range(4)]
    new_scanners = ["new-0", "new-1"]
    # Enough items that the search index spans many pages.
    items = {MILK: "Milk"} | {f"20{n:011d}": f"Pantry staple number {n} " * 3 for n in range(150)}
    seeded = await seed_kitchen(
        data, scanners=milk_scanners + new_scanners, items=items, viewers=("web",)
    )

    async with in_process_stocky(data) as runtime:
        # Damaged while running, as a failing SD card would: the pages were
        # never read by this process, so they come from the file.
        assert damage_search_index(data / "stocky.db") >= 3
        kitchen = Kitchen(base_url(runtime), http)
        answers: dict[str, tuple[str, Answer]] = {}  # scan_id -> (kind, answer)

        async def stream(scanner: str, kind: str, count: int) -> None:
            for n in range(count):
                scan_id = f"{scanner}-{n}"
                upc = MILK if kind == "milk" else f"30{uuid.uuid4().int % 10**11:011d}"
                answers[scan_id] = (kind, await kitchen.scan(seeded.keys[scanner], upc, scan_id))

        await asyncio.gather(
            *(stream(name, "milk", 40) for name in milk_scanners),
            *(stream(name, "new", 15) for name in new_scanners),
        )
        assert await health(http, runtime) == 503  # writes are failing
        # A search through the damaged index: the same clear answer, no 500.
        async with http.get(
            f"{base_url(runtime)}{API}/item?search=staple", headers={"X-API-Key": seeded.keys["web"]}
        ) as response:
            search = Answer(response.status, await response.json())

    statuses = {answer.status for _, answer in answers.values()}
    assert statuses <= {200, 503}, [a for _, a in answers.values() if a.status not in (200, 503)]
    refused = [a for kind, a in answers.values() if a.status == 503]
    assert refused and all(a.body["error"]["code"] == "storage_unavailable" for a in refused)
    assert all("damaged" in a.body["error"]["message"] for a in refused)
    assert search.status == 503, search
    assert "damaged" in search.body["error"]["message"]
    assert "not saved" not in search.body["error"]["message"]

    journal = set(journal_scan_ids(data / "stocky.db"))
    acked = {scan_id for scan_id, (_, a) in answers.items() if a.status == 200}
    assert acked <= journal  # every 200 is in the journal
    assert not (set(answers) - acked) & journal  # and nothing refused is
    milk_acked = [a for kind, a in answers.values() if kind == "milk" and a.status == 200]
    # Never more than two failing units in a group here (each scanner waits
    # for its answer): the milk scans beside them always get a transaction.
    assert len(milk_acked) == 4 * 40
    assert quantity_of(data / "stocky.db", MILK) == len(milk_acked)
    told = sorted(a.body["quantity"] for a in milk_acked)
    assert told == list(range(1, len(milk_acked) + 1))  # each "now N" told once


# --- a full disk --------------------------------------------------------------------


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * (1 << 16))  # a short write takes what is left
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


@pytest.mark.timeout(90)
async def test_a_full_disk_gets_507_one_log_line_an_alert_and_recovers_without_restart(
    tmp_path, http, caplog
):
    caplog.set_level(logging.INFO, logger="stocky")
    with small_disk(tmp_path / "disk", "3m") as disk:
        data = disk / "data"
        seeded = await seed_kitchen(data, scanners=["pantry"], items={MILK: "Milk"})
        key = seeded.keys["pantry"]
        acked: set[str] = set()
        async with in_process_stocky(data) as runtime:
            kitchen = Kitchen(base_url(runtime), http)

            async def scan(scan_id: str) -> Answer:
                answer = await kitchen.scan(key, MILK, scan_id)
                if answer.status == 200:
                    acked.add(scan_id)
                return answer

            for n in range(20):
                assert (await scan(f"before-{n}")).status == 200
            filler = fill(disk)
            full = []
            for n in range(3000):  # until the space the WAL had is used up too
                answer = await scan(f"full-{n}")
                if answer.status != 200:
                    full.append(answer)
                    break
            full += await asyncio.gather(*(scan(f"more-{n}") for n in range(10)))
            assert {a.status for a in full} == {507}, full
            assert {a.body["error"]["code"] for a in full} == {"storage_full"}
            assert "disk" in full[0].body["error"]["message"]
            assert "full" in full[0].body["error"]["message"]
            assert await health(http, runtime) == 503
            wal_when_full = wal_size(data)

            filler.unlink()
            for n in range(200):  # the next scan that finds room is saved
                if (await scan(f"after-{n}")).status == 200:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("no scan succeeded after space was freed")
            for n in range(60):  # the burst ends with a write 2 s after the last failure
                if await health(http, runtime) == 200:
                    break
                assert (await scan(f"settle-{n}")).status == 200
                await asyncio.sleep(0.25)
            else:
                raise AssertionError("/health did not recover")

            async with asyncio.timeout(5):
                while not (alerts := [
                    alert for alert in (await runtime.services.alerts.list(SYSTEM)).data
                    if alert.severity == "Error" and "could not save" in alert.message
                ]):
                    await asyncio.sleep(0.05)
            assert "disk holding the database was full" in alerts[0].message

            await asyncio.sleep(1.5)  # idle: the writer tidies the WAL
            wal_after = wal_size(data)

        assert set(journal_scan_ids(data / "stocky.db")) >= acked
        assert quantity_of(data / "stocky.db", MILK) == len(acked)

    assert len(storage_records(caplog, "cannot be saved")) == 1
    assert len(storage_records(caplog, "saved again")) == 1
    assert tracebacks(caplog) == []
    assert wal_after < WAL_LIMIT // 2  # checkpointed and cut back when writes recovered
    print(f"WAL when the disk filled: {wal_when_full} bytes; after recovery: {wal_after} bytes")


@pytest.mark.timeout(60)
async def test_a_demo_start_on_a_tiny_disk_ends_with_a_sentence_not_a_traceback(tmp_path):
    with small_disk(tmp_path / "disk", "400k") as disk:
        done = subprocess.run(
            [sys.executable, "-m", "stocky", "serve", "--demo", "--port", "0"],
            env=clean_environment(STOCKY_DATA_DIR=str(disk / "data"), STOCKY_LOG_LEVEL="WARNING"),
            cwd=tmp_path, capture_output=True, text=True, timeout=50,
        )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert "stocky: The disk that holds Stocky's database is full" in done.stderr


# --- a lock held by another process -----------------------------------------------

HOLD_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.read()
connection.execute("ROLLBACK")
"""


@pytest.mark.timeout(60)
async def test_a_lock_held_elsewhere_gets_503_with_retry_after_then_scans_go_through(
    tmp_path, http
):
    data = tmp_path / "data"
    seeded = await seed_kitchen(data, scanners=["pantry"], items={MILK: "Milk"})
    key = seeded.keys["pantry"]
    async with in_process_stocky(data) as runtime:
        url = f"{base_url(runtime)}{SCAN}"

        async def scan(scan_id: str) -> tuple[int, dict, str | None]:
            async with http.post(
                url, json={"msg": MILK, "scan_id": scan_id}, headers={"X-API-Key": key},
                timeout=aiohttp.ClientTimeout(total=LOCK_WAIT * 3),
            ) as response:
                return response.status, await response.json(), response.headers.get("Retry-After")

        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(data / "stocky.db")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "held"
            busy = await asyncio.gather(*(scan(f"locked-{n}") for n in range(5)))
            assert await health(http, runtime) == 503
        finally:
            holder.stdin.close()
            holder.wait(10)
        assert {status for status, _, _ in busy} == {503}
        assert {body["error"]["code"] for _, body, _ in busy} == {"storage_busy"}
        assert all(retry and int(retry) > 0 for _, _, retry in busy)
        assert "Try again" in busy[0][1]["error"]["message"]

        status, body, _ = await scan("after")
        assert status == 200 and body["quantity"] == 1
    assert journal_scan_ids(data / "stocky.db") == ["after"]


# --- the WAL after a burst of writes ---------------------------------------------------


async def test_the_wal_shrinks_once_a_burst_of_writes_is_over(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path)
    async with open_services(settings) as services:

        def big_write(session) -> None:  # one transaction: no checkpoint can cut it short
            session.add_all(Alert(severity="Info", message="x" * 10_000) for _ in range(400))

        await services.db.write(big_write)
        grown = wal_size(tmp_path)
        assert grown > 3 * WAL_LIMIT
        async with asyncio.timeout(10):
            while wal_size(tmp_path) > WAL_LIMIT:
                await asyncio.sleep(0.1)
        with sqlite3.connect(tmp_path / "stocky.db") as check:
            assert check.execute("SELECT count(*) FROM alert").fetchone()[0] == 400
    print(f"WAL after one 4 MB transaction: {grown} bytes; 1 s later: {wal_size(tmp_path)} bytes")
