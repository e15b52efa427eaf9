"""Migrations: up from nothing, all the way down, up again; and the models and
the migrations describe the same schema. On SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import bindparam, insert, inspect, table, text
from sqlalchemy.exc import IntegrityError

from stocky.core.settings import Settings
from stocky.db import migrations
from stocky.db.engine import create_engine
from stocky.db.fts import include_name
from stocky.models import Base, Item, StockChange
from stocky.models.types import GUID
from stocky.schemas.actor import SYSTEM
from stocky.services.container import open_services

TABLES = {"alert", "item", "location", "lot", "sku", "stock_change", "user", "web_session",
          "web_session_retired"}
# SQLite only: the FTS5 trigram index of items and its shadow tables (stocky/db/fts.py).
FTS_TABLES = {"item_fts", "item_fts_data", "item_fts_idx", "item_fts_docsize", "item_fts_config"}


def expected_tables(db_backend: str) -> set[str]:
    return TABLES | {"alembic_version"} | (FTS_TABLES if db_backend == "sqlite" else set())


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
    assert await table_names(url) == expected_tables(db_backend)
    assert await migrations.current_revision(url) == migrations.head_revision()

    await migrations.downgrade(url, "base")
    assert await table_names(url) <= {"alembic_version"}
    assert await migrations.current_revision(url) is None

    await migrations.upgrade(url)
    assert await table_names(url) == expected_tables(db_backend)
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
        context = MigrationContext.configure(
            sync_connection, opts={"compare_type": True, "include_name": include_name}
        )
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
    assert migrations.head_revision() == migrations.HEAD


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
        try:
            await services.db.write(lambda session, query=query: session.execute(query))
        except IntegrityError:
            continue
        accepted.append(what)

    assert accepted == []
    assert (await services.skus.get(sku.id, SYSTEM)).quantity == 1
    assert (await services.items.get(tea.id, SYSTEM)).total_quantity == 1


# --- the search indexes (revision a026f7cacd57) on a kitchen already in use ---

BEFORE_SEARCH_INDEXES = "66d7ecefc724"
SEARCH_INDEXES = {"ix_item_label_in_stock", "ix_item_changed_out_of_stock"}
FTS_TRIGGERS = {"item_fts_after_insert", "item_fts_after_delete", "item_fts_after_update"}


# ``item`` as it was then: the model's newer columns are not there yet.
_OLD_ITEM = table(
    "item", *(Item.__table__.c[name]._copy() for name in (
        "id", "name", "upc", "total_quantity", "stock_changed_at", "search_text", "created_at", "updated_at",
    ))
)


async def _items_before_the_search_indexes(
    url: str, kitchen: tuple[tuple[str, str | None, int], ...]
) -> dict[str, uuid.UUID]:
    """Items written as the schema without the search indexes has them."""
    now = datetime.now(UTC)
    rows = {}
    engine = create_engine(url, role="write")
    try:
        with engine.begin() as connection:
            for name, upc, quantity in kitchen:
                item_id = rows[name] = uuid.uuid4()
                search_text = " ".join(p for p in (name, upc, str(item_id)) if p).casefold()
                connection.execute(insert(_OLD_ITEM).values(
                    id=item_id, name=name, upc=upc, total_quantity=quantity, stock_changed_at=now,
                    search_text=search_text, created_at=now, updated_at=now,
                ))
    finally:
        engine.dispose()
    return rows


async def _schema_objects(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            # Not the inspector: SQLite's cannot reflect expression indexes.
            if connection.dialect.name == "sqlite":
                query = "SELECT name FROM sqlite_master"
            else:
                query = "SELECT indexname FROM pg_indexes WHERE tablename = 'item'"
            return set(connection.exec_driver_sql(query).scalars())
    finally:
        engine.dispose()


async def _search(url: str, tmp_path, text_: str, stock: str = "all") -> list[uuid.UUID]:
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url)
    async with open_services(settings) as services:  # migrates to head first
        return [item.id for item in (await services.items.list(SYSTEM, search=text_, stock=stock)).data]


async def test_search_indexes_up_down_and_up_again_over_existing_items(empty_url, db_backend, tmp_path):
    url = empty_url
    await migrations.upgrade(url, BEFORE_SEARCH_INDEXES)
    items = await _items_before_the_search_indexes(url, (
        ("Quince Jelly", "4006381333931", 2),
        ("Müsli Crunchy", None, 0),
        ("Dark Chocolate 70%", "7622300336738", 1),
    ))
    assert not (SEARCH_INDEXES | FTS_TRIGGERS | {"item_fts"}) & await _schema_objects(url)

    async def upgraded_and_searchable() -> None:
        await migrations.upgrade(url)
        present = await _schema_objects(url)
        assert present >= SEARCH_INDEXES
        if db_backend == "sqlite":
            assert FTS_TRIGGERS | {"item_fts"} <= present
            await _assert_fts_filled(url, len(items))
        # Items that were there before the index are found through it.
        assert await _search(url, tmp_path, "quince") == [items["Quince Jelly"]]
        assert await _search(url, tmp_path, "MÜSLI", "zero") == [items["Müsli Crunchy"]]
        assert await _search(url, tmp_path, "70%", "in") == [items["Dark Chocolate 70%"]]
        assert await _search(url, tmp_path, "7622300") == [items["Dark Chocolate 70%"]]

    await upgraded_and_searchable()

    await migrations.downgrade(url, BEFORE_SEARCH_INDEXES)
    present = await _schema_objects(url)
    assert not (SEARCH_INDEXES | FTS_TRIGGERS) & present
    assert not {name for name in present if name.startswith("item_fts")}
    assert await migrations.current_revision(url) == BEFORE_SEARCH_INDEXES
    assert await table_names(url) == (TABLES - {"lot", "web_session", "web_session_retired"}) | {"alembic_version"}  # later revisions
    # Without the triggers, writes still work; upgrading again indexes them too.
    items |= await _items_before_the_search_indexes(url, (("Medlar Chutney", None, 1),))

    await upgraded_and_searchable()
    assert await _search(url, tmp_path, "medlar") == [items["Medlar Chutney"]]


async def _assert_fts_filled(url: str, at_least: int) -> None:
    engine = create_engine(url, role="write")
    try:
        with engine.begin() as connection:
            # Every item has its entries, and FTS5 finds the index in step with the table.
            indexed = connection.scalar(text("SELECT count(*) FROM item_fts_docsize"))
            items = connection.scalar(text("SELECT count(*) FROM item"))
            assert indexed == items >= at_least
            connection.execute(
                text("INSERT INTO item_fts (item_fts, rank) VALUES ('integrity-check', 1)")
            )
    finally:
        engine.dispose()


# --- the journal's sequence (revision 5e7c1d9a3b42) on a kitchen already in use ---

BEFORE_SEQUENCE = "a026f7cacd57"
# The journal as that revision has it: the model's table would name ``seq``.
JOURNAL_BEFORE_SEQUENCE = table(
    "stock_change",
    *(StockChange.__table__.c[name]._copy() for name in (
        "id", "timestamp", "item_id", "location_name", "delta", "quantity_after", "source",
    )),
)


async def test_journal_rows_already_there_get_numbers_in_their_order_and_new_ones_follow(
    empty_url, tmp_path
):
    url = empty_url
    await migrations.upgrade(url, BEFORE_SEQUENCE)
    [jam_id] = (await _items_before_the_search_indexes(url, (("Quince Jelly", None, 6),))).values()
    now = datetime.now(UTC)
    engine = create_engine(url, role="write")
    try:
        with engine.begin() as connection:
            # Written out of time order: 3 an hour ago after 1 and 2.
            for delta, when in ((1, now - timedelta(hours=3)), (2, now), (3, now - timedelta(hours=1))):
                connection.execute(insert(JOURNAL_BEFORE_SEQUENCE).values(
                    id=uuid.uuid4(), timestamp=when, item_id=jam_id, location_name="Shelf",
                    delta=delta, quantity_after=delta, source="ui",
                ))
    finally:
        engine.dispose()

    await migrations.upgrade(url)
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url)
    async with open_services(settings) as services:
        assert [c.delta for c in await services.items.history(jam_id, SYSTEM)] == [2, 3, 1]
        shelf = await services.locations.create({"name": "Shelf"}, SYSTEM)
        await services.skus.add_to(jam_id, shelf.id, 4, SYSTEM)
        assert [c.delta for c in await services.items.history(jam_id, SYSTEM)] == [4, 2, 3, 1]
