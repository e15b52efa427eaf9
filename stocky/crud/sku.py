from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from stocky.models import Item, Location, Sku


def find(session: Session, item_id: uuid.UUID, location_id: uuid.UUID) -> Sku | None:
    return session.scalar(
        select(Sku).where(Sku.item_id == item_id, Sku.location_id == location_id)
    )


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
    session: Session, sku_id: uuid.UUID, delta: int, now: datetime
) -> int | None:
    """Add ``delta`` in one statement, only if the result stays >= 0.

    Returns the new quantity, or None when the SKU is missing or short. Never
    read-modify-write: concurrent scans must not lose a count.
    """
    result = session.execute(
        update(Sku)
        .where(Sku.id == sku_id, Sku.quantity + delta >= 0)
        .values(quantity=Sku.quantity + delta, updated_at=now)
        .returning(Sku.quantity)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


def change_item_total(
    session: Session, item_id: uuid.UUID, delta: int, now: datetime
) -> int:
    result = session.execute(
        update(Item)
        .where(Item.id == item_id)
        .values(total_quantity=Item.total_quantity + delta, stock_changed_at=now, updated_at=now)
        .returning(Item.total_quantity)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one()


def ids_of(
    session: Session, *, item_id: uuid.UUID | None = None, location_id: uuid.UUID | None = None
) -> list[uuid.UUID]:
    query = select(Sku.id)
    if item_id is not None:
        query = query.where(Sku.item_id == item_id)
    if location_id is not None:
        query = query.where(Sku.location_id == location_id)
    return list(session.scalars(query))
