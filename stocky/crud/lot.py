from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from stocky.models import Item, Location, Lot, Sku

_lot = Lot.__table__
# Built once: the removal of every scan asks it (see crud/sku.py).
_HELD = (
    select(_lot.c.id, _lot.c.best_before, _lot.c.quantity)
    .where(_lot.c.sku_id == bindparam("of_sku"), _lot.c.quantity > 0)
    .order_by(_lot.c.best_before)
)
_GROW = (
    update(_lot)
    .where(_lot.c.sku_id == bindparam("of_sku"), _lot.c.best_before == bindparam("dated"))
    .values(quantity=_lot.c.quantity + bindparam("count"))
    .returning(_lot.c.id)
)
_SHRINK = (
    update(_lot)
    .where(_lot.c.id == bindparam("lot_id"), _lot.c.quantity >= bindparam("count"))
    .values(quantity=_lot.c.quantity - bindparam("count"))
    .returning(_lot.c.id)
)


def held(session: Session, sku_id: uuid.UUID) -> Sequence[Row[tuple[uuid.UUID, date, int]]]:
    """The SKU's lots that hold units, earliest date first."""
    return session.execute(_HELD, {"of_sku": sku_id}).all()


def grow(session: Session, sku_id: uuid.UUID, best_before: date, count: int) -> None:
    """``count`` more units dated ``best_before`` (the lot is made if new).
    Callers hold the item's lock, so no one makes the same lot meanwhile."""
    params = {"of_sku": sku_id, "dated": best_before, "count": count}
    if session.execute(_GROW, params).first() is None:
        session.execute(insert(_lot).values(id=uuid.uuid4(), sku_id=sku_id, best_before=best_before, quantity=count))


def shrink(session: Session, lot_id: uuid.UUID, count: int) -> bool:
    return session.execute(_SHRINK, {"lot_id": lot_id, "count": count}).first() is not None


def dated_total(session: Session, sku_id: uuid.UUID) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(Lot.quantity), 0)).where(Lot.sku_id == sku_id)))


def of_skus(session: Session, sku_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Lot]]:
    found: dict[uuid.UUID, list[Lot]] = {sku_id: [] for sku_id in sku_ids}
    if sku_ids:
        query = select(Lot).where(Lot.sku_id.in_(sku_ids), Lot.quantity > 0).order_by(Lot.best_before)
        for lot in session.scalars(query):
            found[lot.sku_id].append(lot)
    return found


def _with_places():
    return (
        select(Lot, Item, Location)
        .join(Sku, Sku.id == Lot.sku_id)
        .join(Item, Item.id == Sku.item_id)
        .join(Location, Location.id == Sku.location_id)
        .where(Lot.quantity > 0)
    )


def dated_until(
    session: Session, until: date | None, limit: int, offset: int
) -> tuple[Sequence[Row[tuple[Lot, Item, Location]]], int]:
    """Lots holding units dated up to ``until`` (all when None), the earliest
    (so the expired) first."""
    query = _with_places()
    if until is not None:
        query = query.where(Lot.best_before <= until)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(Lot.best_before, Item.name, Lot.id).limit(limit).offset(offset)).all()
    return rows, int(total or 0)


def to_announce(session: Session, until: date) -> Sequence[Row[tuple[Lot, Item, Location]]]:
    """Lots due an expiry alert: dated up to ``until`` and not yet warned
    as expired (the caller tells "soon" from "expired")."""
    query = _with_places().where(Lot.best_before <= until, func.coalesce(Lot.warned, "") != "expired")
    return session.execute(query.order_by(Lot.best_before).with_for_update(of=Lot)).all()


def any_due(session: Session, today: date, until: date) -> bool:
    """Whether some lot holding units is due an expiry alert it has not had:
    dated up to ``until`` and never warned, or expired and warned only as
    "soon". A read, so a check that finds nothing writes nothing."""
    unwarned = Lot.warned.is_(None)
    expired_unsaid = (Lot.best_before < today) & (func.coalesce(Lot.warned, "") != "expired")
    query = select(Lot.id).where(Lot.quantity > 0, Lot.best_before <= until, unwarned | expired_unsaid)
    return session.scalar(query.limit(1)) is not None
