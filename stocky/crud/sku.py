from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.orm import Session

from stocky.models import Item, Location, Sku

# The statements every scan runs are built once: constructing one costs more
# CPU than SQLite takes to run it.
_FIND = select(Sku).where(Sku.item_id == bindparam("item_id"), Sku.location_id == bindparam("location_id"))
_sku, _item = Sku.__table__, Item.__table__
# Core statements on the tables: the ORM's bulk UPDATE path has nothing to
# do here (synchronize_session=False) but costs as much again.
_CHANGE_QUANTITY = (
    update(_sku)
    .where(
        _sku.c.id == bindparam("sku_id"),
        _sku.c.quantity + bindparam("delta") >= 0,
        _sku.c.quantity + bindparam("delta") <= bindparam("ceiling"),
    )
    .values(quantity=_sku.c.quantity + bindparam("delta"), updated_at=bindparam("now"))
    .returning(_sku.c.quantity)
)
_CHANGE_TOTAL = (
    update(_item)
    .where(_item.c.id == bindparam("item_id"))
    .values(
        total_quantity=_item.c.total_quantity + bindparam("delta"),
        stock_changed_at=bindparam("now"),
        updated_at=bindparam("now"),
        # Stock arriving is the shopping trip done: the tick goes with it.
        in_basket=_item.c.in_basket & (bindparam("delta") < 0),
    )
    .returning(_item.c.total_quantity)
)


def find(session: Session, item_id: uuid.UUID, location_id: uuid.UUID) -> Sku | None:
    return session.scalar(_FIND, {"item_id": item_id, "location_id": location_id})


def listing(
    session: Session,
    item_id: uuid.UUID | None,
    location_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Row[tuple[Sku, str | None, str]]], int]:
    query = (
        select(Sku, Item.name, Location.name)
        .join(Item, Item.id == Sku.item_id)
        .join(Location, Location.id == Sku.location_id)
    )
    if item_id:
        query = query.where(Sku.item_id == item_id)
    if location_id:
        query = query.where(Sku.location_id == location_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(Sku.created_at, Sku.id).limit(limit).offset(offset)).all()
    return rows, int(total or 0)


def change_quantity(
    session: Session, sku_id: uuid.UUID, delta: int, now: datetime, ceiling: int
) -> int | None:
    """Add ``delta`` in one statement, only if the result stays between 0
    and ``ceiling``.

    Returns the new quantity, or None when the SKU is missing, short or
    would pass the ceiling. Never read-modify-write: concurrent scans must
    not lose a count.
    """
    return session.execute(
        _CHANGE_QUANTITY, {"sku_id": sku_id, "delta": delta, "now": now, "ceiling": ceiling}
    ).scalar_one_or_none()


def change_item_total(
    session: Session, item_id: uuid.UUID, delta: int, now: datetime
) -> int:
    return session.execute(_CHANGE_TOTAL, {"item_id": item_id, "delta": delta, "now": now}).scalar_one()


def ids_of(
    session: Session, *, item_id: uuid.UUID | None = None, location_id: uuid.UUID | None = None
) -> list[uuid.UUID]:
    query = select(Sku.id)
    if item_id is not None:
        query = query.where(Sku.item_id == item_id)
    if location_id is not None:
        query = query.where(Sku.location_id == location_id)
    return list(session.scalars(query))
