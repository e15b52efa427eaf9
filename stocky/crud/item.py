from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from stocky.crud.common import contains_folded
from stocky.models import Item, Location, Sku, StockChange


def listing(search: str | None, stock: str) -> Select[tuple[Item]]:
    query = select(Item)
    if search:
        query = query.where(contains_folded(Item.search_text, search))
    if stock == "in":
        query = query.where(Item.total_quantity > 0)
    elif stock == "zero":
        query = query.where(Item.total_quantity == 0)
    if stock == "zero":
        # The shopping list: what ran out most recently first.
        return query.order_by(Item.stock_changed_at.desc(), Item.id)
    label = func.lower(func.coalesce(Item.name, Item.upc))
    return query.order_by(label, Item.id)


def page(
    session: Session, search: str | None, stock: str, limit: int, offset: int
) -> tuple[Sequence[Item], int]:
    query = listing(search, stock)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(query.limit(limit).offset(offset)).all()
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


def history(session: Session, item_id: uuid.UUID, limit: int) -> Sequence[StockChange]:
    return (
        session.scalars(
            select(StockChange)
            .where(StockChange.item_id == item_id)
            .order_by(StockChange.timestamp.desc())
            .limit(limit)
        )
    ).all()


def ids_with_lookup_status(session: Session, status: str) -> list[uuid.UUID]:
    return list(session.scalars(select(Item.id).where(Item.lookup_status == status)))
