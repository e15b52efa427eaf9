"""The lots migration (b7d2e4f6a813) upgrades a kitchen made by the Stocky
before it with nothing lost: on SQLite the database file that Stocky made
(tests/fixtures/kitchen_5e7c1d9a3b42.db, see make_kitchen_5e7c1d9a3b42.py),
on PostgreSQL the same rows written at the previous revision."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Table, select

from stocky.core.settings import Settings
from stocky.db import migrations
from stocky.db.engine import create_engine
from stocky.models import Base
from stocky.schemas.actor import SYSTEM
from stocky.services.container import open_services

FIXTURE = Path(__file__).parent.parent / "fixtures" / "kitchen_5e7c1d9a3b42.db"
BEFORE = "5e7c1d9a3b42"
OLD_TABLES = ("user", "location", "item", "sku", "stock_change", "alert")
# Columns added since 5e7c1d9a3b42 (the lots migration, and the later stock change groups
# and the places scans made).
NEW_COLUMNS = {"item": {"min_quantity", "in_basket"}, "stock_change": {"lots", "group_id", "made_place"}}


def old_table(name: str) -> Table:
    """The table as revision 5e7c1d9a3b42 has it: the model without the new columns."""
    model = Base.metadata.tables[name]
    kept = [column._copy() for column in model.columns if column.name not in NEW_COLUMNS.get(name, set())]
    return Table(name, Base.metadata.__class__(), *kept)


def dump(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: sorted((tuple(row) for row in connection.execute(select(old_table(name)))), key=repr)
                for name in OLD_TABLES
            }
    finally:
        engine.dispose()


def copy_rows(source_url: str, target_url: str) -> None:
    """Every row of the fixture into a database at the same revision (the
    journal without its numbers: PostgreSQL's sequence gives them, in order)."""
    source, target = create_engine(source_url), create_engine(target_url, role="write")
    try:
        with source.connect() as reading, target.begin() as writing:
            for name in OLD_TABLES:
                table = old_table(name)
                query = select(table)
                if name == "stock_change":
                    query = query.order_by(table.c.seq)
                rows = [
                    {key: value for key, value in row._mapping.items() if key != "seq"}
                    for row in reading.execute(query)
                ]
                if rows:
                    writing.execute(table.insert(), rows)
    finally:
        source.dispose()
        target.dispose()


@pytest.fixture
async def kitchen_url(db_backend: str, tmp_path, request: pytest.FixtureRequest) -> str:
    copied = tmp_path / "kitchen.db"
    shutil.copy(FIXTURE, copied)
    sqlite_url = f"sqlite+aiosqlite:///{copied}"
    if db_backend == "sqlite":
        yield sqlite_url
        return
    server = request.getfixturevalue("pg_server")
    name = server.create_database()
    url = server.url(name)
    await migrations.upgrade(url, BEFORE)
    copy_rows(sqlite_url, url)
    yield url
    server.drop_database(name)


async def test_the_kitchen_made_before_lots_upgrades_with_nothing_lost(kitchen_url, tmp_path):
    assert await migrations.current_revision(kitchen_url) == BEFORE
    before = dump(kitchen_url)
    assert len(before["stock_change"]) == 6 and len(before["user"]) == 3  # the fixture is what we think

    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=kitchen_url)
    async with open_services(settings) as services:  # upgrades to head
        assert dump(kitchen_url) == before
        admin = (await services.users.sign_in("admin", "kitchen-admin-1", "tests")).user
        assert admin.role == "Admin"
        totals = {i.name: (i.total_quantity, i.min_quantity, i.in_basket)
                  for i in (await services.items.list(SYSTEM, stock="all")).data}
        assert totals == {
            "Whole milk 2 l": (2, 0, False), "Spaghetti 500 g": (5, 0, False), "Black tea, 80 bags": (0, 0, False)
        }
        assert [i.name for i in (await services.items.list(SYSTEM, stock="shopping")).data] == ["Black tea, 80 bags"]
        # Old units are undated; new ones can carry dates, and history goes on after the old.
        milk = next(i for i in (await services.items.list(SYSTEM, search="milk")).data)
        sku = (await services.items.get(milk.id, SYSTEM)).skus[0]
        assert sku.lots == []
        await services.skus.adjust(sku.id, {"delta": 1, "best_before": "2030-06-30"}, SYSTEM)
        await services.skus.adjust(sku.id, {"delta": -3}, SYSTEM)  # dated first, then two undated
        detail = await services.items.get(milk.id, SYSTEM)
        assert (detail.total_quantity, detail.skus[0].lots) == (0, [])
        history = await services.items.history(milk.id, SYSTEM)
        assert [row.delta for row in history] == [-3, 1, 2]

    await migrations.downgrade(kitchen_url, BEFORE)  # and back, keeping the rows it knew
    assert dump(kitchen_url)["user"] == before["user"]
    await migrations.upgrade(kitchen_url)
    assert await migrations.current_revision(kitchen_url) == migrations.HEAD
