"""Search and the listing's pages, on SQLite and PostgreSQL.

On SQLite a search of three or more characters goes through the FTS5
trigram index ``item_fts``, a shorter one through ``LIKE``; PostgreSQL always
uses ``LIKE`` (stocky/crud/item.py). Whatever the path, the answer must be
what the plain rule says: the items whose case-folded name, description,
barcode or id contain the case-folded text as one substring, in the
listing's order, with the right total. Each case below is checked against
that rule computed in Python over the very rows in the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select, text

from stocky.crud import item as crud
from stocky.models import Item
from stocky.schemas.actor import SYSTEM

# (name, description, barcode, quantity): quantity 0 puts the item on the
# shopping list (it was stocked, then ran out), None leaves it never stocked.
KITCHEN = [
    ("Whole Milk", "Fresh, 3.5% fat", "4006381333931", 2),
    ("Milk Chocolate", "Alpine milk", "7622210449283", 0),
    ("Dark Chocolate 70%", "70% cocoa", "7622300336738", 1),
    ("Oat Milk", None, "7394376616037", None),
    ("Müsli Crunchy", "Nuts & fruit", "4008713701245", 3),
    ("MÜSLI Classic", None, None, 0),
    ("Straße Brot", "Roggenbrot", "4009249001553", 1),  # ß folds to "ss"
    ("Strasse Snack", None, None, 0),
    ("Äpfel Grün", "Grüne Äpfel aus dem Alten Land", None, 4),
    ("Apfelsaft", None, "4001234567891", 0),
    ("50% off Butter", "Half price", "5000128104470", 1),
    ("500 g Butter", None, "5000128104471", None),
    ("Breakfast_cereal", "Rolled oats", None, 2),
    ("Breakfastxcereal", None, None, 0),
    ("Back\\slash Beans", "Odd name", None, 1),
    ('The "Best" Tea', "Earl Grey", "5011546498412", 2),
    ("ﬁg Jam", "Ligature fi", None, 1),  # the ligature folds to "fi"
    ("Fig Jam", None, None, 0),
    ("Spaghetti", "Durum wheat pasta", "8076802085738", 5),
    ("spaghetti n. 5", "Durum wheat", "8076809513753", 0),
    ("Penne Rigate", None, "8076802085981", 1),
    ("Zucchini", None, None, 0),
    (None, None, "2000000499659", 1),  # only a barcode: listed by it
    (None, None, "2000000049847", 0),
    ("Ab", "ab cd", None, 1),
    ("Kaffee", "Ganze Bohne", "4006067084201", 0),
    ("Tee 20 x 2 g", None, None, 3),
]

SEARCHES = [
    # ASCII words, in any case, and word parts
    "milk", "MILK", "Milk", "chocolate", "choc", "late", "pasta", "spaghetti",
    # non-ASCII, and what folding makes of it
    "müsli", "MÜSLI", "Müs", "üs", "äpfel", "ÄPFEL", "grün", "straße", "STRASSE", "strasse", "ss", "ß",
    "ﬁg", "fig", "FIG JAM",
    # one and two characters (no trigram: the LIKE path)
    "m", "M", "a", "ü", "ab", "AB", "5", "70", "x",
    # wildcards and the escape character are literal
    "%", "%%", "5%", "0%", "% fat", "_", "t_c", "st_c", "_cereal", "\\", "k\\s", "back\\slash",
    '"', '"best"', 'the "best" tea', "*", "milk*", "o*", "^milk", "milk OR tea", "NEAR(milk)", "a:b",
    # barcodes, whole and in part
    "4006381333931", "0063813", "8076802", "2000000", "2000000049847", "49847", "00",
    # several words are one substring, spaces included
    "whole milk", "milk whole", "dark chocolate 70", "20 x 2 g", "x 2", "  ", "n. 5",
    # nothing
    "xyzzy", "qqq", "milkk", "🙂",
]

STOCKS = ("in", "zero", "all")


@dataclass(frozen=True)
class Row:
    id: uuid.UUID
    name: str | None
    upc: str | None
    search_text: str
    total_quantity: int
    stock_changed_at: datetime


def ascii_lower(value: str) -> str:
    """SQLite's lower(), and PostgreSQL's under the test cluster's C locale."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in value)


def expected(rows: list[Row], search: str | None, stock: str) -> list[uuid.UUID]:
    """The rule, in Python: what ``items.list`` must answer."""
    needle = (search or "").strip().casefold()
    found = [
        row
        for row in rows
        if needle in row.search_text
        and (stock == "all" or (row.total_quantity > 0) == (stock == "in"))
    ]
    if stock == "zero":
        found.sort(key=lambda row: str(row.id))
        found.sort(key=lambda row: row.stock_changed_at, reverse=True)
    else:
        found.sort(key=lambda row: (ascii_lower(row.name or row.upc or ""), str(row.id)))
    return [row.id for row in found]


@pytest.fixture
async def kitchen(services, member, locations) -> list[Row]:
    pantry = locations["Pantry"]
    for name, description, upc, quantity in KITCHEN:
        data = {"name": name, "description": description, "upc": upc}
        item = await services.items.create({k: v for k, v in data.items() if v is not None}, member)
        if quantity is not None:
            await services.skus.add_to(item.id, pantry.id, quantity or 1, member)
            if quantity == 0:
                await services.skus.add_to(item.id, pantry.id, -1, member)
    return await all_rows(services)


async def all_rows(services) -> list[Row]:
    return await services.db.read(lambda session: [
        Row(i.id, i.name, i.upc, i.search_text, i.total_quantity, i.stock_changed_at)
        for i in session.scalars(select(Item))
    ])


async def listed(services, search, stock, limit=500, offset=0):
    page = await services.items.list(SYSTEM, search=search, stock=stock, limit=limit, offset=offset)
    return [item.id for item in page.data], page.total


def test_the_kitchen_covers_both_paths_and_every_stock():
    """The table itself: it must exercise what it claims to."""
    folded = [s.strip().casefold() for s in SEARCHES]
    assert any(len(s) >= 3 for s in folded) and any(0 < len(s) < 3 for s in folded)
    assert {q for _, _, _, q in KITCHEN} >= {None, 0, 1}


async def test_search_answers_what_the_rule_says(services, kitchen):
    mismatches = []
    for search in SEARCHES:
        for stock in STOCKS:
            want = expected(kitchen, search, stock)
            got, total = await listed(services, search, stock)
            if (got, total) != (want, len(want)):
                mismatches.append((search, stock, len(got), total, len(want)))
    assert mismatches == []


async def test_the_kitchen_is_not_trivial(kitchen):
    """Most searches find something, some find a lot, some nothing: a rule
    that always answers "nothing" would not pass the test above by luck."""
    counts = [len(expected(kitchen, s, "all")) for s in SEARCHES]
    assert sum(1 for c in counts if c) > len(SEARCHES) * 2 // 3
    assert max(counts) >= 10 and 0 in counts


@pytest.mark.parametrize("search", [None, "m", "milk", "a", "spaghetti", "20000", "xyzzy", "%"])
@pytest.mark.parametrize("stock", STOCKS)
async def test_pages_put_together_are_the_whole_list_and_each_knows_the_total(
    services, kitchen, search, stock
):
    want = expected(kitchen, search, stock)
    pieces: list[uuid.UUID] = []
    for offset in range(0, len(want) + 3, 3):
        got, total = await listed(services, search, stock, limit=3, offset=offset)
        assert total == len(want), (offset, total)
        pieces += got
    assert pieces == want
    # Far past the end: nothing, and still the right total.
    got, total = await listed(services, search, stock, limit=3, offset=len(want) + 1000)
    assert (got, total) == ([], len(want))


async def test_a_search_follows_creating_renaming_and_deleting(services, member, admin, locations):
    pantry = locations["Pantry"]
    quince = await services.items.create({"name": "Quince Jelly", "description": "Homemade"}, member)
    await services.skus.add_to(quince.id, pantry.id, 2, member)

    assert await listed(services, "quince", "in") == ([quince.id], 1)

    await services.items.update(quince.id, {"name": "Medlar Jelly"}, member)
    assert await listed(services, "quince", "all") == ([], 0)
    assert await listed(services, "medlar", "in") == ([quince.id], 1)
    assert await listed(services, "homemade", "in") == ([quince.id], 1)

    await services.items.update(quince.id, {"description": "From the garden"}, member)
    assert await listed(services, "homemade", "all") == ([], 0)
    assert await listed(services, "garden", "in") == ([quince.id], 1)

    # A stock change leaves the text (and the index) alone, the filter follows.
    await services.skus.add_to(quince.id, pantry.id, -2, member)
    assert await listed(services, "medlar", "in") == ([], 0)
    assert await listed(services, "medlar", "zero") == ([quince.id], 1)

    await services.items.delete(quince.id, admin)
    assert await listed(services, "medlar", "all") == ([], 0)
    assert await listed(services, "jelly", "all") == ([], 0)

    again = await services.items.create({"name": "Medlar Jelly"}, member)
    assert await listed(services, "medlar", "all") == ([again.id], 1)
    await assert_fts_in_step(services)


async def test_the_trigram_index_itself_follows_every_change(services, member, admin, locations):
    """On SQLite: ask ``item_fts`` directly, not through the search (whose
    LIKE would hide a stale entry), and let FTS5 compare the whole index
    with the item table."""
    if not services.db.is_sqlite:
        pytest.skip("the trigram index is SQLite's")
    pantry = locations["Pantry"]

    async def fts_hits(word: str) -> int:
        return await services.db.read(lambda session: session.scalar(
            text("SELECT count(*) FROM item_fts WHERE item_fts MATCH :q"),
            {"q": crud.fts_phrase(word)},
        ))

    quince = await services.items.create({"name": "Quince Jelly"}, member)
    assert await fts_hits("quince") == 1
    await services.skus.add_to(quince.id, pantry.id, 1, member)
    await services.items.update(quince.id, {"name": "Medlar Jelly"}, member)
    assert (await fts_hits("quince"), await fts_hits("medlar")) == (0, 1)
    await services.skus.add_to(quince.id, pantry.id, -1, member)
    await assert_fts_in_step(services)
    await services.items.delete(quince.id, admin)
    assert (await fts_hits("medlar"), await fts_hits("jelly")) == (0, 0)
    await assert_fts_in_step(services)


async def assert_fts_in_step(services) -> None:
    """FTS5's own check of an external content index against its table
    (``rank`` 1: compare with the content): raises if any entry is stale."""
    if not services.db.is_sqlite:
        return
    await write_sql(services, "INSERT INTO item_fts (item_fts, rank) VALUES ('integrity-check', 1)")


async def write_sql(services, sql: str) -> None:
    await services.db.write(lambda session: session.execute(text(sql)))


# --- what SQLite is asked: the plans that make the figures -------------------


def plan_of(statement, connection) -> str:
    compiled = statement.compile(connection)
    params = tuple(compiled.params[name] for name in compiled.positiontup)
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params).all()
    return " | ".join(row[-1] for row in rows)


@pytest.mark.parametrize(
    ("search", "stock", "uses", "avoids"),
    [
        (None, "in", ["ix_item_label_in_stock"], ["TEMP B-TREE"]),
        (None, "zero", ["ix_item_changed_out_of_stock"], ["TEMP B-TREE"]),
        ("milk", "in", ["item_fts"], ["ix_item_total_quantity", "ix_item_label_in_stock"]),
        ("milk", "zero", ["item_fts"], ["ix_item_total_quantity", "ix_item_changed_out_of_stock"]),
        ("milk", "all", ["item_fts"], ["ix_item_"]),
        ("mi", "in", ["SCAN item"], ["ix_item_", "item_fts"]),
        ("mi", "zero", ["SCAN item"], ["ix_item_", "item_fts"]),
    ],
)
@pytest.mark.parametrize("analyzed", [False, True], ids=["no statistics", "after ANALYZE"])
async def test_sqlite_plans_use_the_indexes_meant_for_them(
    services, kitchen, search, stock, uses, avoids, analyzed
):
    """Stocky never runs ANALYZE, but someone may: both plans must hold."""
    if not services.db.is_sqlite:
        pytest.skip("SQLite's plans")
    if analyzed:
        await write_sql(services, "ANALYZE")
    statement = (
        crud.page_with_total(search, stock, "sqlite", 100, 0)
        if crud.counts_in_page(search, "sqlite")
        else crud.listing(search, stock, "sqlite").limit(100)
    )
    with services.db.read_engine.connect() as connection:
        plan = plan_of(statement, connection)
    for wanted in uses:
        assert wanted in plan, plan
    for unwanted in avoids:
        assert unwanted not in plan, plan
