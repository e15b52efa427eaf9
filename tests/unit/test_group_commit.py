"""Group commit: writes that queue up while one commits share the next
transaction, each in a savepoint of its own, and a failing one takes nothing
else down with it."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from stocky.core.errors import Conflict
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
