from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stocky.crud.common import same_folded
from stocky.models import Item, Location, Sku


def _with_totals():
    total = func.coalesce(func.sum(Sku.quantity), 0).label("total_quantity")
    return (
        select(Location, total)
        .outerjoin(Sku, Sku.location_id == Location.id)
        .group_by(Location.id)
    )


def all_with_totals(session: Session) -> list[tuple[Location, int]]:
    rows = session.execute(_with_totals().order_by(func.lower(Location.name)))
    return [(location, int(total)) for location, total in rows.all()]


def one_with_total(session: Session, location_id: uuid.UUID) -> tuple[Location, int] | None:
    row = session.execute(_with_totals().where(Location.id == location_id)).first()
    return (row[0], int(row[1])) if row else None


def by_name(session: Session, name: str) -> Location | None:
    """Names are unique regardless of case, "KÜHLSCHRANK" included: compared
    in Python because SQLite folds only A-Z. A kitchen has a few dozen places."""
    for location in session.scalars(select(Location)):
        if same_folded(location.name, name):
            return location
    return None


def stocked_items(session: Session, location_id: uuid.UUID) -> Sequence[tuple[Sku, Item]]:
    rows = session.execute(
        select(Sku, Item)
        .join(Item, Item.id == Sku.item_id)
        .where(Sku.location_id == location_id, Sku.quantity > 0)
        .order_by(func.lower(func.coalesce(Item.name, Item.upc)))
    )
    return [(sku, item) for sku, item in rows.all()]
