"""The in-memory log behind GET /log and the Log tab."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from stocky.core.logbuffer import BufferHandler, LogBuffer


@pytest.fixture
def buffer() -> LogBuffer:
    return LogBuffer()


@pytest.fixture
def logger(buffer):
    """A real logger of its own, feeding ``buffer`` only."""
    named = logging.getLogger(f"stocky.test.{uuid.uuid4().hex}")
    named.setLevel(logging.DEBUG)
    named.propagate = False
    handler = BufferHandler(buffer)
    named.addHandler(handler)
    yield named
    named.removeHandler(handler)


def test_keeps_the_newest_10000_entries(buffer, logger):
    for n in range(10_050):
        logger.info("entry %d", n)

    assert len(buffer) == 10_000
    entries = buffer.query(limit=20_000)
    assert len(entries) == 10_000
    assert entries[0].message == "entry 10049"  # newest first
    assert entries[-1].message == "entry 50"  # the oldest 50 are gone
    messages = {entry.message for entry in entries}
    assert not any(f"entry {n}" in messages for n in range(50))
    assert len({entry.id for entry in entries}) == 10_000


def test_query_limit_returns_the_newest(buffer, logger):
    for n in range(10):
        logger.info("entry %d", n)

    assert [e.message for e in buffer.query(limit=3)] == ["entry 9", "entry 8", "entry 7"]
    assert len(buffer.query()) == 10


def test_entries_carry_time_severity_message_and_source(buffer, logger):
    before = datetime.now(UTC)
    logger.warning("Scanned %s into %s", "Milk", "Pantry", extra={"source": "kitchen-scanner"})
    logger.info("no source given")

    given, fallback = buffer.query()[1], buffer.query()[0]
    assert given.message == "Scanned Milk into Pantry"
    assert given.severity == "WARN"
    assert given.source == "kitchen-scanner"
    assert given.timestamp.tzinfo is not None
    assert before - timedelta(seconds=1) <= given.timestamp <= datetime.now(UTC)
    assert isinstance(given.id, uuid.UUID)
    # Without extra, the source is the logger's name, "stocky." dropped.
    assert fallback.source == logger.name.removeprefix("stocky.")
    assert fallback.source.startswith("test.")


def test_severity_is_a_minimum(buffer, logger):
    logger.debug("too quiet to keep")
    logger.info("an info")
    logger.warning("a warning")
    logger.error("an error")
    logger.critical("a critical")

    assert [(e.severity, e.message) for e in buffer.query(severity="WARN")] == [
        ("ERROR", "a critical"),
        ("ERROR", "an error"),
        ("WARN", "a warning"),
    ]
    assert [e.message for e in buffer.query(severity="ERROR")] == ["a critical", "an error"]
    assert [e.message for e in buffer.query(severity="INFO")] == [
        "a critical", "an error", "a warning", "an info"
    ]
    assert len(buffer) == 4  # DEBUG is below the handler's level


def test_search_is_case_insensitive_on_message_and_source(buffer, logger):
    logger.info("Added MILK to Pantry", extra={"source": "scanner-1"})
    logger.info("Removed bread", extra={"source": "Kitchen-Touch"})
    logger.warning("milk is Refrigerated but Pantry is Ambient")

    assert [e.message for e in buffer.query(search="milk")] == [
        "milk is Refrigerated but Pantry is Ambient",
        "Added MILK to Pantry",
    ]
    assert [e.message for e in buffer.query(search="KITCHEN")] == ["Removed bread"]
    assert [e.message for e in buffer.query(search="milk", severity="WARN")] == [
        "milk is Refrigerated but Pantry is Ambient"
    ]
    assert buffer.query(search="cheese") == []


def test_an_exception_is_part_of_the_message(buffer, logger):
    try:
        raise ValueError("bad payload")
    except ValueError:
        logger.exception("Scan failed")

    [entry] = buffer.query()
    assert entry.severity == "ERROR"
    assert entry.message.startswith("Scan failed")
    assert "bad payload" in entry.message


def test_listeners_see_new_entries_until_stopped(buffer, logger):
    seen = []
    stop = buffer.listen(seen.append)

    logger.info("one")
    stop()
    logger.info("two")

    assert [e.message for e in seen] == ["one"]
    assert len(buffer) == 2


async def test_services_log_changes_with_the_actor_as_source(services, member):
    stocky_logger = logging.getLogger("stocky")
    previous = stocky_logger.level
    stocky_logger.setLevel(logging.INFO)
    try:
        await services.items.create({"name": "Tea"}, member)
    finally:
        stocky_logger.setLevel(previous)

    [entry] = services.logs.query(search="Tea")
    assert entry.message == "Created item Tea"
    assert entry.source == "anna"
    assert entry.severity == "INFO"
