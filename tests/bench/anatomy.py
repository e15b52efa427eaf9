"""What one scan costs, layer by layer (a diagnostic, not part of the table).

    uv run python -m tests.bench.anatomy [--scans 500] [--cprofile]

In one process on a plain asyncio loop, over a prepared kitchen on disk:
the SQL statements one scan sends (caught from the engines), then wall and
CPU time (all threads: the database work runs on Stocky's database threads) per call of

- the same statements replayed with blocking ``sqlite3`` (the database's share),
- ``UserService.by_api_key`` (what authentication costs per request),
- ``ScanService.scan`` (the whole rule, no HTTP), and the same with a GS1
  code carrying a use-by date (the unit joins a lot), and in remove mode,
- an empty read and an empty write unit of work (``Service.read``/``write``).

``--qt`` runs all of it on the kiosk's qasync loop instead (no window), so
the loop's own share shows.

``--cprofile`` adds the functions that cost ``ScanService.scan`` the most
(cProfile sees the main thread only; the database threads show as waiting).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime
import importlib.util
import io
import pstats
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.bench.common import prepare_kitchen, sanitize_own_environ


async def timed(label: str, call: Any, n: int) -> dict[str, Any]:
    for _ in range(min(20, n)):
        await call()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        await call()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    row = {"what": label, "wall_ms": 1000 * wall / n, "cpu_ms": 1000 * cpu / n}
    print(f"  {label:<58} {row['wall_ms']:7.2f} ms wall {row['cpu_ms']:7.2f} ms CPU")
    return row


async def main_async(args: argparse.Namespace) -> None:
    from sqlalchemy import event

    from stocky.core.settings import Settings
    from stocky.schemas.actor import SYSTEM
    from stocky.services.container import open_services
    from stocky.services.permissions import Action
    from stocky.services.users import actor_of

    work = Path(tempfile.mkdtemp(prefix="stocky-anatomy-"))
    kitchen = await prepare_kitchen(work / "data", scanners=1, items=200, link_to_screen=False)
    settings = Settings(_env_file=None, data_dir=Path(kitchen.data_dir))
    async with open_services(settings) as services:
        statements: list[tuple[str, str, Any]] = []
        recording = False
        for role, engine in (("read", services.db.read_engine), ("write", services.db.write_engine)):
            @event.listens_for(engine, "before_cursor_execute")
            def _caught(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool, role: str = role) -> None:
                if recording:
                    statements.append((role, statement, params))

        key = kitchen.scanner_keys[0]
        codes = kitchen.barcodes
        scanner = await services.users.by_api_key(key)
        n = 0

        async def scan() -> None:
            nonlocal n
            n += 1
            await services.scans.scan(actor_of(scanner, "scan"), codes[n % len(codes)])

        # The same products as GS1 DataMatrix codes with a use-by date: each
        # scan also adds a unit to a lot (and a removal would take from it).
        use_by = f"{(datetime.date.today() + datetime.timedelta(days=30)):%y%m%d}"
        gs1_codes = [f"]d2010{code}17{use_by}" for code in codes]

        async def dated_scan() -> None:
            nonlocal n
            n += 1
            await services.scans.scan(actor_of(scanner, "scan"), gs1_codes[n % len(gs1_codes)])

        async def auth() -> None:
            await services.users.by_api_key(key)

        async def empty_read() -> None:
            await services.items.read(SYSTEM, Action.INVENTORY_READ, lambda _session: None)

        async def empty_write() -> None:
            await services.items.write(SYSTEM, Action.INVENTORY_CHANGE, lambda _work: None)

        await scan()
        recording = True
        await auth()
        await scan()
        recording = False
        print(f"One HTTP scan sends {len(statements)} SQL statements:")
        for role, statement, _params in statements:
            print(f"  [{role}] {' '.join(statement.split())[:150]}")

        # The same statements with blocking sqlite3: what the database costs.
        db = Path(kitchen.data_dir) / "stocky.db"
        conn = sqlite3.connect(db, isolation_level=None)
        for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"):
            conn.execute(pragma)
        writes = [(s, p) for r, s, p in statements if r == "write"]
        reads = [(s, p) for r, s, p in statements if r == "read"]

        def replay(group: list[tuple[str, Any]], immediate: bool) -> None:
            conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            for statement, params in group:
                if statement.split()[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK"):
                    continue
                if statement.lstrip().upper().startswith("INSERT"):
                    params = tuple(str(uuid.uuid4()) if i == 0 else v for i, v in enumerate(params))
                conn.execute(statement, tuple(params)).fetchall()
            conn.execute("COMMIT")

        async def sql_floor() -> None:
            replay(reads, False)
            replay(writes, True)

        print(f"\nPer call, {args.scans} calls each:")
        rows = [
            await timed("same SQL, blocking sqlite3 (the database's share)", sql_floor, args.scans),
            await timed("empty read unit of work (session, BEGIN, ROLLBACK)", empty_read, args.scans),
            await timed("empty write unit of work (BEGIN IMMEDIATE, COMMIT)", empty_write, args.scans),
            await timed("UserService.by_api_key (authentication)", auth, args.scans),
            await timed("ScanService.scan (the whole rule, no HTTP)", scan, args.scans),
        ]
        if importlib.util.find_spec("stocky.core.gs1") is not None:  # a Stocky that reads GS1 codes
            rows.append(await timed("ScanService.scan of a GS1 code with a use-by date", dated_scan, args.scans))
        # Removal asks the lots which units go (earliest date first): the
        # stock the scans above added is taken away again, one unit a scan.
        await services.scans.scan(actor_of(scanner, "scan"), '{"command": "set_mode", "payload": "remove"}')
        n = 0
        rows.append(await timed("ScanService.scan in remove mode (plain barcode)", scan, args.scans))
        conn.close()

        # One statement, layer by layer: what each layer adds per statement.
        from sqlalchemy import text

        from stocky.models import User

        print("\nOne SELECT of the scanner's row by id, layer by layer:")
        raw = sqlite3.connect(db, isolation_level=None)
        sql = "SELECT * FROM user WHERE id = ?"
        uid = kitchen.scanner_ids[0]

        async def plain() -> None:
            raw.execute(sql, (uid,)).fetchall()

        import aiosqlite

        async with aiosqlite.connect(db, isolation_level=None) as adb:
            async def through_aiosqlite() -> None:
                async with adb.execute(sql, (uid,)) as cursor:
                    await cursor.fetchall()

            async def stocky_read_text() -> None:
                await services.db.read(
                    lambda session: session.execute(text("SELECT * FROM user WHERE id = :id"), {"id": uid}).all()
                )

            async def stocky_read_get() -> None:
                await services.db.read(lambda session: session.get(User, uuid.UUID(uid)))

            await timed("sqlite3 (blocking)", plain, args.scans)
            await timed("aiosqlite (a hop to its thread per call)", through_aiosqlite, args.scans)
            await timed("Stocky's read path: a reader thread, text(...)", stocky_read_text, args.scans)
            await timed("Stocky's read path: a reader thread, Session.get(User, id)", stocky_read_get, args.scans)

        # The same ORM call without asyncio: what the ORM itself costs.
        from sqlalchemy import create_engine as sync_engine
        from sqlalchemy.orm import Session

        engine = sync_engine(f"sqlite:///{db}")
        with Session(engine) as sync_session:
            async def sync_orm_get() -> None:
                sync_session.expunge_all()
                sync_session.get(User, uuid.UUID(uid))

            async def sync_core() -> None:
                sync_session.execute(text("SELECT * FROM user WHERE id = :id"), {"id": uid}).fetchall()

            await timed("sync SQLAlchemy Session.execute(text(...)) (no asyncio)", sync_core, args.scans)
            await timed("sync SQLAlchemy Session.get(User, id) (no asyncio)", sync_orm_get, args.scans)
        engine.dispose()
        raw.close()
        if args.cprofile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.scans):
                await scan()
            profile.disable()
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(r"stocky|sqlalchemy/orm/session|pydantic", 40)
            print(out.getvalue())
        del rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=500)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--qt", action="store_true", help="on the kiosk's qasync loop (no window)")
    args = parser.parse_args()
    sanitize_own_environ()
    if not args.qt:
        asyncio.run(main_async(args))
        return
    from PySide6.QtWidgets import QApplication

    from stocky_touch.app import new_qt_loop

    app = QApplication.instance() or QApplication([])
    loop = new_qt_loop(app)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(main_async(args))
    finally:
        loop.close()
        asyncio.set_event_loop(None)


if __name__ == "__main__":
    main()
