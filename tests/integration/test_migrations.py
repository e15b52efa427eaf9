"""Migrations: up from nothing, all the way down, up again; and the models and
the migrations describe the same schema. On SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import bindparam, inspect, text
from sqlalchemy.exc import IntegrityError

from stocky.core.settings import Settings
from stocky.db import migrations
from stocky.db.engine import create_engine
from stocky.models import Base
from stocky.models.types import GUID

TABLES = {"alert", "item", "location", "sku", "stock_change", "user"}


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture
def empty_url(db_backend: str, tmp_path, request: pytest.FixtureRequest) -> str:
    """A database with nothing in it: a SQLite file not there yet, or a new
    PostgreSQL database (tests/pg_server.py)."""
    if db_backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'stocky.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = server.create_database()
    yield server.url(name)
    server.drop_database(name)


@pytest.fixture
def settings(clean_env, tmp_path, database_url: str | None) -> Settings:
    """``services`` (tests/conftest.py) over SQLite, then over PostgreSQL."""
    return Settings(_env_file=None, data_dir=tmp_path, database_url=database_url)


async def test_upgrade_downgrade_and_upgrade_again(empty_url, db_backend, tmp_path):
    url = empty_url

    await migrations.upgrade(url)
    if db_backend == "sqlite":
        assert (tmp_path / "stocky.db").exists()
    assert await table_names(url) == TABLES | {"alembic_version"}
    assert await migrations.current_revision(url) == migrations.head_revision()

    await migrations.downgrade(url, "base")
    assert await table_names(url) <= {"alembic_version"}
    assert await migrations.current_revision(url) is None

    await migrations.upgrade(url)
    assert await table_names(url) == TABLES | {"alembic_version"}
    assert await migrations.current_revision(url) == migrations.head_revision()


async def test_upgrading_twice_is_harmless(empty_url):
    url = empty_url

    await migrations.upgrade(url)
    await migrations.upgrade(url)

    assert await migrations.current_revision(url) == migrations.head_revision()


async def test_models_and_migrations_agree(empty_url):
    url = empty_url
    await migrations.upgrade(url)

    def diff(sync_connection):
        context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            differences = diff(connection)
    finally:
        engine.dispose()

    assert differences == []


def test_head_is_the_newest_migration():
    """Starts skip alembic when the database is at ``HEAD``: it must name the
    newest migration, or a new one would never run."""
    assert migrations.HEAD == migrations.head_revision()


async def test_a_database_at_head_starts_without_loading_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'stocky.db'}"
    await migrations.upgrade(url)
    probe = (
        "import asyncio, sys\n"
        "from stocky.db import migrations\n"
        f"asyncio.run(migrations.upgrade({url!r}))\n"
        "print('alembic' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


async def test_the_schema_enforces_quantities_uniqueness_and_references(
    services, member, locations
):
    """What the migration built holds the rules even against a bare statement."""
    tea = await services.items.create({"name": "Tea", "upc": "4006381333931"}, member)
    sku = (await services.skus.add_to(tea.id, locations["Pantry"].id, 1, member)).sku
    copy_sku = (
        "INSERT INTO sku (id, item_id, location_id, quantity, created_at, updated_at) "
        "SELECT :new_id, {item}, location_id, 0, created_at, updated_at FROM sku WHERE id = :id"
    )
    refused = {
        "negative quantity": "UPDATE sku SET quantity = -1 WHERE id = :id",
        "negative item total": "UPDATE item SET total_quantity = -1",
        "unknown storage type": "UPDATE location SET storage_type = 'Cold'",
        "second sku for item and location": copy_sku.format(item="item_id"),
        "sku of a missing item": copy_sku.format(item=":missing"),
    }
    ids = {
        "id": sku.id,
        "new_id": "00000000-0000-0000-0000-000000000001",
        "missing": "00000000-0000-0000-0000-0000000000ff",
    }
    accepted = []
    for what, statement in refused.items():
        # Typed: PostgreSQL stores ids as uuid, SQLite as text.
        query = text(statement).bindparams(
            *(bindparam(name, value, type_=GUID()) for name, value in ids.items() if f":{name}" in statement)
        )

        def attempt(query=query) -> None:
            with services.db.writer() as session, session.begin():
                session.execute(query)

        try:
            await services.db.run(attempt, write=True)
        except IntegrityError:
            continue
        accepted.append(what)

    assert accepted == []
    assert (await services.skus.get(sku.id)).quantity == 1
    assert (await services.items.get(tea.id)).total_quantity == 1
