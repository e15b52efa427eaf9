"""Group commit: writes that queue up while one commits share the next
transaction, each in a savepoint of its own, and a failing one takes nothing
else down with it."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError

from stocky.core.errors import Conflict, StorageBusy, StorageFault, StorageFull
from stocky.db.engine import ATTEMPTS
from stocky.models import Location
from stocky.schemas.actor import SYSTEM


@pytest.fixture
def commits(services) -> list[int]:
    """One entry per COMMIT the writer's connection sends."""
    seen: list[int] = []
    event.listen(services.db.write_engine, "commit", lambda _conn: seen.append(1))
    return seen


async def hold_the_writer(services) -> tuple[threading.Event, asyncio.Future]:
    """Keep the writer thread busy until the returned event is set, so that
    what is submitted meanwhile queues up as one group."""
    release, started = threading.Event(), threading.Event()

    def wait(_session) -> None:
        started.set()
        assert release.wait(10)

    blocker = services.db.write(wait)
    assert await asyncio.to_thread(started.wait, 10)
    return release, blocker


def add_location(name: str):
    def unit(session) -> str:
        session.add(Location(name=name))
        session.flush()
        return name

    return unit


async def test_queued_writes_share_one_commit_and_a_failure_stays_alone(services, commits):
    release, blocker = await hold_the_writer(services)
    first = services.db.write(add_location("Pantry"))
    duplicate = services.db.write(add_location("Pantry"))  # unique name: the database refuses it
    third = services.db.write(add_location("Fridge"))
    release.set()
    await blocker

    assert await first == "Pantry"
    with pytest.raises(IntegrityError):
        await duplicate
    assert await third == "Fridge"
    assert len(commits) == 2  # the blocker's, then one for all three (one fsync)

    names = await services.db.read(lambda s: sorted(s.scalars(select(Location.name))))
    assert names == ["Fridge", "Pantry"]


async def test_a_refused_stock_change_in_a_group_leaves_the_others_counted(services, member, locations):
    """Through the services: 30 concurrent -1 on 10 cans, queued behind a
    held writer so they are grouped: exactly 10 succeed, journal included."""
    pantry = locations["Pantry"]
    tea = await services.items.create({"name": "Tea"}, member)
    await services.skus.add_to(tea.id, pantry.id, 10, member)

    release, blocker = await hold_the_writer(services)
    changes = [asyncio.ensure_future(services.skus.add_to(tea.id, pantry.id, -1, member)) for _ in range(30)]
    await asyncio.sleep(0.05)  # every change is queued behind the blocker
    release.set()
    await blocker
    outcomes = await asyncio.gather(*changes, return_exceptions=True)

    assert sum(not isinstance(o, Exception) for o in outcomes) == 10
    assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, Exception))
    assert (await services.items.get(tea.id, SYSTEM)).total_quantity == 0
    history = await services.items.history(tea.id, SYSTEM)
    assert sum(1 for change in history if change.delta == -1) == 10


async def test_a_caller_that_stops_waiting_still_gets_its_change_published(services, member, events):
    release, blocker = await hold_the_writer(services)
    creating = asyncio.ensure_future(services.items.create({"name": "Quince"}, member))
    await asyncio.sleep(0.05)
    creating.cancel()
    release.set()
    await blocker
    with pytest.raises(asyncio.CancelledError):
        await creating
    for _ in range(100):  # the commit and its callback land on the loop shortly
        if any(e.entity == "item" and e.op == "created" for e in events):
            break
        await asyncio.sleep(0.02)
    assert [e.op for e in events if e.entity == "item"] == ["created"]
    found = await services.items.list(SYSTEM, search="quince", stock="all")
    assert found.total == 1


# --- a unit that takes the whole transaction down with it ----------------------
# SQLite rolls the whole transaction back on SQLITE_FULL, SQLITE_IOERR,
# SQLITE_CORRUPT, SQLITE_NOMEM and sometimes SQLITE_BUSY: the failed unit's
# savepoint is gone, so are the units before it, and the ones after would run
# outside any transaction. Each culprit below does to the writer's connection
# what the database does, then fails the way the driver does.


def _raw(session):
    return session.connection().connection.driver_connection


def _rolled_back_then(code: int, kind: type[sqlite3.Error], text: str):
    def unit(session) -> None:
        session.add(Location(name="Culprit"))
        session.flush()
        _raw(session).execute("ROLLBACK")
        error = kind(text)
        error.sqlite_errorcode = code
        raise error

    return unit


def _real_disk_full(session) -> None:
    """A real SQLITE_FULL: the database may not grow by a page more."""
    raw = _raw(session)
    pages = raw.execute("PRAGMA page_count").fetchone()[0]
    raw.execute(f"PRAGMA max_page_count={pages}")
    try:
        session.add(Location(name="Culprit", details="x" * 200_000))
        session.flush()
    finally:
        raw.execute("PRAGMA max_page_count=4294967294")


def _rolled_back_silently(session) -> None:
    """The transaction ends under the unit and the unit does not notice."""
    session.add(Location(name="Culprit"))
    session.flush()
    _raw(session).execute("ROLLBACK")


def _connection_killed(session) -> None:
    """PostgreSQL: the server ends the connection (a restart, an admin)."""
    session.add(Location(name="Culprit"))
    session.flush()
    session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))


def _disk_full_reported(session) -> None:
    """PostgreSQL: 53100 disk_full; the transaction is aborted, not ended."""
    import psycopg

    session.add(Location(name="Culprit"))
    session.flush()
    raise psycopg.errors.DiskFull("could not extend file: No space left on device")


def _error_swallowed(session) -> None:
    """PostgreSQL: a failed statement aborts the transaction; the unit catches it."""
    session.add(Location(name="Culprit"))
    session.flush()
    with contextlib.suppress(Exception):
        session.connection().exec_driver_sql("SELECT 1 / 0")


SQLITE_CULPRITS = {
    "disk full (real)": (_real_disk_full, StorageFull),
    "disk full": (_rolled_back_then(13, sqlite3.OperationalError, "database or disk is full"), StorageFull),
    "I/O error": (_rolled_back_then(778, sqlite3.OperationalError, "disk I/O error"), StorageFault),
    "corrupt": (_rolled_back_then(11, sqlite3.DatabaseError, "database disk image is malformed"), StorageFault),
    "out of memory": (_rolled_back_then(7, sqlite3.OperationalError, "out of memory"), StorageFault),
    "busy": (_rolled_back_then(5, sqlite3.OperationalError, "database is locked"), StorageBusy),
    "rolled back without an error": (_rolled_back_silently, StorageFault),
}
POSTGRES_CULPRITS = {
    "connection killed": (_connection_killed, StorageFault),
    "disk full": (_disk_full_reported, StorageFull),
    "rolled back without an error": (_rolled_back_silently, StorageFault),
    "aborted by an error it swallowed": (_error_swallowed, Exception),
}


def culprits(db_backend: str) -> dict:
    return SQLITE_CULPRITS if db_backend == "sqlite" else POSTGRES_CULPRITS


async def names_in_db(services) -> set[str]:
    return set(await services.db.read(lambda s: list(s.scalars(select(Location.name)))))


async def test_a_unit_that_loses_the_transaction_fails_alone_and_the_others_are_written(
    services, db_backend
):
    for n, (what, (culprit, fault)) in enumerate(culprits(db_backend).items()):
        release, blocker = await hold_the_writer(services)
        before = services.db.write(add_location(f"Before {n}"))
        failing = services.db.write(culprit)
        after = services.db.write(add_location(f"After {n}"))
        release.set()
        await blocker

        assert await before == f"Before {n}", what
        with pytest.raises(fault):
            await failing
        assert await after == f"After {n}", what
        names = await names_in_db(services)
        assert {f"Before {n}", f"After {n}"} <= names, what
        assert "Culprit" not in names, what


@pytest.mark.parametrize("culprits_in_group", [2, 3])
async def test_units_that_keep_losing_the_transaction_never_get_others_reported_written(
    services, db_backend, culprits_in_group
):
    """Two culprits: the innocent units get a third transaction and are
    written. Three (ATTEMPTS): the innocents are refused, none reported
    written that is not there."""
    culprit, _ = culprits(db_backend)["rolled back without an error"]
    units = [add_location("Zero")]
    for n in range(culprits_in_group):
        units += [culprit, add_location(f"Innocent {n}")]
    release, blocker = await hold_the_writer(services)
    futures = [services.db.write(unit) for unit in units]
    release.set()
    await blocker
    outcomes = await asyncio.gather(*futures, return_exceptions=True)

    names = await names_in_db(services)
    reported = {o for o in outcomes if isinstance(o, str)}
    assert reported == names  # what is reported written is exactly what is there
    assert all(isinstance(o, StorageFault) for o in outcomes if not isinstance(o, str))
    innocents = {"Zero"} | {f"Innocent {n}" for n in range(culprits_in_group)}
    assert names == (innocents if culprits_in_group < ATTEMPTS else set())


async def test_storage_faults_mark_the_storage_unhealthy_until_writes_succeed_again(services, db_backend):
    services.db.health._settle = 0  # the quiet time a burst needs before it ends: none here
    culprit, _ = culprits(db_backend)["disk full"]
    with pytest.raises(StorageFull):
        await services.db.write(culprit)
    assert not services.db.health.ok
    assert "full" in services.db.health.reason

    assert await services.db.write(add_location("Pantry")) == "Pantry"
    assert services.db.health.ok
    burst = services.db.health.burst
    assert burst.ended is not None and burst.refused == 1
