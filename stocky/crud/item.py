from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from stocky.crud.common import contains_folded
from stocky.db.fts import ITEM_FTS, MIN_FTS_SEARCH
from stocky.models import Item, Location, Sku, StockChange, User

# The item listing: the inventory (stock "in"), the shopping list ("zero") or
# both ("all"), optionally searched. A search finds every item whose
# ``search_text`` contains the case-folded text as one substring (wildcards
# literal). The statements differ by back end, the rows never do:
#
# - SQLite, no search: the partial indexes ix_item_label_in_stock and
#   ix_item_changed_out_of_stock give the first page in index order; the
#   count is a statement of its own (it reads ix_item_total_quantity).
# - SQLite, a search of 3 or more characters: the FTS5 trigram index
#   ``item_fts`` (stocky/db/fts.py) names the candidates, the LIKE keeps only
#   exact matches (it is cheap on the few candidates), and page and count
#   come in one statement (``count(*) OVER ()``).
# - SQLite, a search of 1 or 2 characters (no trigram in it): the LIKE over
#   the table, page and count in one statement.
# - PostgreSQL: the LIKE, page and count as two statements.
#
# On SQLite a search filters the stock with ``+item.total_quantity``: the
# unary plus keeps the planner from walking ix_item_total_quantity (70 % of
# the rows) or the partial indexes, probing row by row what one pass over the
# candidates does better.

_item_fts = table(ITEM_FTS, column("rowid", Integer), column(ITEM_FTS))
_item_rowid = literal_column("item.rowid", Integer)


def _unindexed(expression: ColumnElement[int]) -> ColumnElement[int]:
    """``+expression``: the same value, but no index can serve it (SQLite)."""
    return UnaryExpression(expression, operator=custom_op("+"), type_=Integer())


def unnamed(session: Session, limit: int) -> list[Item]:
    """Products still without a name, newest first: the screen asks for them."""
    query = select(Item).where(Item.name.is_(None)).order_by(Item.created_at.desc()).limit(limit)
    return list(session.scalars(query))


def fts_phrase(search: str) -> str:
    """An FTS5 query matching the case-folded ``search`` as one string: a
    double-quoted phrase, in which only ``"`` is special (doubled)."""
    return '"' + search.casefold().replace('"', '""') + '"'


def uses_fts(search: str | None, dialect: str) -> bool:
    """Whether the search can use the trigram index: SQLite, and at least one
    trigram (counted after case folding: "ß" folds to "ss")."""
    return (
        dialect == "sqlite"
        and search is not None
        and len(search.casefold()) >= MIN_FTS_SEARCH
        and "\x00" not in search
    )


def _conditions(search: str | None, stock: str, dialect: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    quantity: ColumnElement[int] = Item.total_quantity
    if search:
        if uses_fts(search, dialect):
            candidates = select(_item_fts.c.rowid).where(_item_fts.c[ITEM_FTS].match(fts_phrase(search)))
            conditions.append(_item_rowid.in_(candidates))
        conditions.append(contains_folded(Item.search_text, search))
        if dialect == "sqlite":
            quantity = _unindexed(quantity)
    # Literals, never parameters, and exactly the partial indexes' terms:
    # that is what lets them serve. "Zero" is ``< 1`` (quantities are whole
    # and never negative): SQLite, without statistics, takes ``= 0`` to pick
    # a few rows from ix_item_total_quantity and sorts 30,000 of them.
    if stock == "in":
        conditions.append(quantity > literal_column("0"))
    elif stock == "zero":
        conditions.append(quantity < literal_column("1"))
    elif stock == "shopping":
        conditions.append(or_(quantity < literal_column("1"), quantity < Item.min_quantity))
    return conditions


def _ordered(query: Select, stock: str) -> Select:
    if stock in ("zero", "shopping"):
        # The shopping list: what ran out most recently first.
        return query.order_by(Item.stock_changed_at.desc(), Item.id)
    return query.order_by(func.lower(func.coalesce(Item.name, Item.upc)), Item.id)


def listing(search: str | None, stock: str, dialect: str = "sqlite") -> Select[tuple[Item]]:
    """Every matching item, in the listing's order."""
    return _ordered(select(Item).where(*_conditions(search, stock, dialect)), stock)


def counting(search: str | None, stock: str, dialect: str = "sqlite") -> Select[tuple[int]]:
    """How many items ``listing`` has."""
    return select(func.count()).select_from(Item).where(*_conditions(search, stock, dialect))


def counts_in_page(search: str | None, dialect: str) -> bool:
    """Whether ``page_with_total`` is the better plan: a search on SQLite reads
    every match anyway, to sort them, and may as well count them."""
    return dialect == "sqlite" and bool(search)


def page_with_total(
    search: str | None, stock: str, dialect: str, limit: int, offset: int
) -> Select[tuple[Item, int]]:
    """One page of ``listing``, each row with the total (``count(*) OVER ()``)."""
    query = select(Item, func.count().over().label("total")).where(*_conditions(search, stock, dialect))
    return _ordered(query, stock).limit(limit).offset(offset)


def page(
    session: Session, search: str | None, stock: str, limit: int, offset: int
) -> tuple[Sequence[Item], int]:
    dialect = session.bind.dialect.name
    total: int | None = None
    if counts_in_page(search, dialect):
        found = session.execute(page_with_total(search, stock, dialect, limit, offset)).all()
        rows: Sequence[Item] = [item for item, _ in found]
        if found:
            total = found[0].total
        elif offset == 0 and limit > 0:
            total = 0
        # else: past the end, or no rows asked for; the count says how many.
    else:
        rows = session.scalars(listing(search, stock, dialect).limit(limit).offset(offset)).all()
    if total is None:
        total = session.scalar(counting(search, stock, dialect))
    return rows, int(total or 0)


def lock(session: Session, item_id: uuid.UUID) -> None:
    """Hold the item's row until the transaction ends (PostgreSQL; SQLite
    writers run one at a time anyway). Every change of an item's stock takes
    this lock before it touches a SKU, so two changes that touch several SKUs
    of one item (a move, and a scan into its destination) queue instead of
    deadlocking."""
    if session.bind.dialect.name == "postgresql":
        session.execute(select(Item.id).where(Item.id == item_id).with_for_update())


_BY_UPC = select(Item).where(Item.upc == bindparam("upc"))  # built once: every scan asks


def by_upc(session: Session, upc: str) -> Item | None:
    return session.scalar(_BY_UPC, {"upc": upc})


def skus_with_locations(session: Session, item_id: uuid.UUID) -> list[tuple[Sku, str]]:
    rows = session.execute(
        select(Sku, Location.name)
        .join(Location, Location.id == Sku.location_id)
        .where(Sku.item_id == item_id)
        .order_by(func.lower(Location.name))
    )
    return [(sku, name) for sku, name in rows.all()]


def history(session: Session, item_id: uuid.UUID, limit: int) -> list[tuple[StockChange, str | None]]:
    """The item's journal, newest first, each change with who made it."""
    rows = session.execute(
        select(StockChange, User.username)
        .outerjoin(User, User.id == StockChange.user_id)
        .where(StockChange.item_id == item_id)
        .order_by(StockChange.seq.desc())
        .limit(limit)
    )
    return [(change, username) for change, username in rows.all()]


def ids_with_lookup_status(session: Session, status: str) -> list[uuid.UUID]:
    return list(session.scalars(select(Item.id).where(Item.lookup_status == status)))
