"""Shared fixtures: real services over a real SQLite file in a temporary directory.

Every test gets its own database file (never ``:memory:``), migrated to head by
``open_services``, so what is tested is what the appliance runs.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text
from support.env import TEST_ENV
from support.kitchens import STORAGE_ROOMS, add_locations

from stocky.core.events import Event
from stocky.core.settings import Settings
from stocky.models import Base
from stocky.schemas.actor import Actor
from stocky.schemas.location import LocationOut
from stocky.services.container import Services, open_services

# Settings the environment of the machine running the tests must not leak into.
_SETTINGS_ENV = ("DATABASE_URL", "SECRET_KEY", "UDA_API_URL")
os.environ.update(TEST_ENV)  # and so the processes the tests start


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No Stocky variable from the surrounding shell, and no stray ``.env``."""
    for name in list(os.environ):
        if name.startswith("STOCKY_") or name in _SETTINGS_ENV:
            monkeypatch.delenv(name, raising=False)
    for name, value in TEST_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(clean_env, tmp_path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(settings) as opened:
        yield opened


@pytest.fixture
def admin() -> Actor:
    return Actor(user_id=None, username="root", role="Admin", source="ui")


@pytest.fixture
def member() -> Actor:
    return Actor(user_id=None, username="anna", role="Member", source="ui")


@pytest.fixture
async def locations(services: Services, admin: Actor) -> dict[str, LocationOut]:
    """A small kitchen: one location per storage type, and one without."""
    return await add_locations(services, {**STORAGE_ROOMS, "Counter": None}, admin)


@pytest.fixture
def events(services: Services) -> list[Event]:
    """Every event published on the bus from now on, in order."""
    seen: list[Event] = []
    unsubscribe = services.bus.subscribe(seen.append)
    yield seen
    unsubscribe()


TableDump = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def db_snapshot(services: Services) -> Callable[[], Awaitable[TableDump]]:
    """Every row of every table, read straight from the database file.

    Comparing two snapshots proves a refused operation wrote nothing at all.
    """

    def dump(session) -> TableDump:
        return {
            table.name: sorted(
                (tuple(row) for row in session.execute(text(f'SELECT * FROM "{table.name}"')).all()),
                key=repr,
            )
            for table in Base.metadata.sorted_tables
        }

    async def snapshot() -> TableDump:
        return await services.db.read(dump)

    return snapshot


# --- PostgreSQL -----------------------------------------------------------
# A test (or fixture) that takes ``database_url`` runs twice: on SQLite
# (``None``: the default file in the data directory) and on a real
# PostgreSQL server that ``tests/pg_server.py`` starts once per session.
# ``-m "not postgresql"`` leaves the second run out. Without PostgreSQL
# binaries those cases are skipped, except in CI (``CI=true``): there they fail.
#
# Each test module gets a database of its own, made from one migrated to head;
# before each test it is put back to that empty state (``restore``, a few
# milliseconds, where a new database per test costs a tenth of a second or
# more). The migrations themselves are tested on PostgreSQL in
# tests/integration/test_migrations.py.

import asyncio as _asyncio  # noqa: E402
from concurrent.futures import ThreadPoolExecutor as _ThreadPool  # noqa: E402

import pg_server as _pg  # noqa: E402  (tests/ is on sys.path: rootdir conftest)

from stocky.db import migrations as _migrations  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: runs against a throwaway PostgreSQL server")


def _start_pg_server() -> _pg.PgServer:
    try:
        return _pg.start_server()
    except _pg.PostgresUnavailable as why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {why}", pytrace=False)
        pytest.skip(f"no PostgreSQL: {why}")


@pytest.fixture(scope="session")
def pg_server() -> _pg.PgServer:
    server = _start_pg_server()
    yield server
    server.stop()


@pytest.fixture
def own_pg_server() -> _pg.PgServer:
    """A server of this test's own, which it may stop (the shared one stays up)."""
    server = _start_pg_server()
    yield server
    server.stop()


def run_async(coroutine: Any) -> Any:
    """Run ``coroutine`` to the end in a thread of its own, away from
    pytest-asyncio's event loops (for session and module fixtures)."""
    with _ThreadPool(max_workers=1) as pool:
        return pool.submit(_asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def pg_migrated(pg_server: _pg.PgServer) -> str:
    """A database migrated to head, empty, with its snapshot: the template
    of every module's database."""
    name = pg_server.create_database(name="stocky_migrated")
    run_async(_migrations.upgrade(pg_server.url(name)))
    pg_server.snapshot(name)
    return name


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
)
def db_backend(request: pytest.FixtureRequest) -> str:
    """Which database a test runs on. Module scope: a module's tests run on
    SQLite, then on PostgreSQL, and module fixtures are made once for each."""
    return request.param


@pytest.fixture(scope="module")
def pg_module_database(db_backend: str, request: pytest.FixtureRequest) -> str | None:
    """This module's PostgreSQL database (None on SQLite)."""
    if db_backend != "postgresql":
        yield None
        return
    server: _pg.PgServer = request.getfixturevalue("pg_server")
    name = server.create_database(template=request.getfixturevalue("pg_migrated"))
    yield name
    server.drop_database(name)


@pytest.fixture
def database_url(pg_module_database: str | None, request: pytest.FixtureRequest) -> str | None:
    """``Settings(database_url=...)`` for this test: None on SQLite (a new
    file in the data directory), on PostgreSQL the module's database, empty
    and migrated to head."""
    if pg_module_database is None:
        return None
    server: _pg.PgServer = request.getfixturevalue("pg_server")
    server.restore(pg_module_database)
    return server.url(pg_module_database)
