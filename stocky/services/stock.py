"""The one path every quantity change takes: a single conditional UPDATE on
the SKU, the item's total in the same transaction, a journal row, and a
storage-mismatch alert when stock lands somewhere it should not be."""

from __future__ import annotations

import logging
import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from stocky.core.errors import Conflict, InvalidInput
from stocky.crud import item as item_crud
from stocky.crud import sku as crud
from stocky.models import Item, Location, Sku, StockChange
from stocky.models.types import utcnow
from stocky.schemas.actor import Actor
from stocky.schemas.item import ItemOut
from stocky.schemas.sku import MAX_QUANTITY, SkuOut
from stocky.services import lots
from stocky.services.alerts import raise_alert
from stocky.services.base import UnitOfWork

log = logging.getLogger("stocky.stock")


def item_label(item: Item) -> str:
    return item.name or item.upc or str(item.id)


def sku_out(sku: Sku, item: Item | str | None, location: Location | str) -> SkuOut:
    """A stock entry with its item's and location's names (given as the rows,
    or as the names a listing query already selected)."""
    return SkuOut(
        id=sku.id,
        item_id=sku.item_id,
        item_name=item.name if isinstance(item, Item) else item,
        location_id=sku.location_id,
        location_name=location.name if isinstance(location, Location) else location,
        quantity=sku.quantity,
        created_at=sku.created_at,
        updated_at=sku.updated_at,
    )


def item_out(item: Item) -> ItemOut:
    return ItemOut.model_validate(item)


def storage_mismatch(item: Item, location: Location) -> str | None:
    """What is wrong with keeping ``item`` at ``location``, if anything."""
    if item.storage_type and location.storage_type and item.storage_type != location.storage_type:
        return (f"Storage mismatch: {item_label(item)} is {item.storage_type} "
                f"but {location.name} is {location.storage_type}.")
    return None


def check_storage(work: UnitOfWork, item: Item, location: Location) -> None:
    """Stock put where its storage type says it should not be: the change
    stands, and a Warning alert says so."""
    if (warning := storage_mismatch(item, location)) is not None:
        raise_alert(work, "Warning", warning, once=True)


def change_stock(
    work: UnitOfWork,
    sku: Sku,
    item: Item,
    location: Location,
    delta: int,
    actor: Actor,
    scan_id: str | None = None,
    *,
    best_before: date | None = None,
    parts: lots.Parts | None = None,
    made_place: bool = False,
) -> StockChange | None:
    """Apply ``delta`` to ``sku``; returns the journal row it wrote (None for
    a delta of 0), which says the quantity after and can be undone.

    Units added carry ``best_before``, or the dates in ``parts`` (units
    moved from elsewhere). Units removed leave the lots as ``lots.take``
    says (``best_before`` first), unless the caller took them already and
    passes what it took as ``parts``. Stock arriving takes
    the item out of the shopping basket. ``made_place``: the SKU was made for
    this change (its undo removes it again).

    Raises ``Conflict`` when the SKU holds fewer than ``-delta``: the quantity
    never goes below zero and nothing is written. Every door (adjust, scans,
    moves, the touch screen) meets the same ceiling as setting a quantity:
    ``InvalidInput`` past ``MAX_QUANTITY``.
    """
    if delta == 0:
        return None
    session = work.session
    item_crud.lock(session, item.id)
    now = utcnow()
    if parts is None:
        parts = [(best_before, delta)] if delta > 0 else lots.take(session, sku.id, -delta, best_before)
    after = crud.change_quantity(session, sku.id, delta, now, MAX_QUANTITY)
    if after is None:
        held = session.scalar(select(Sku.quantity).where(Sku.id == sku.id))
        if (held or 0) + delta > MAX_QUANTITY:
            raise InvalidInput(
                f"{item_label(item)} in {location.name} would pass {MAX_QUANTITY:,} "
                f"(it holds {held}).",
                [{"field": "delta", "message": f"the quantity may be at most {MAX_QUANTITY}"}],
            )
        where = f"{item_label(item)} in {location.name}"
        raise Conflict(
            f"Only {held} of {where}: cannot remove {-delta}." if held else f"There is no {where} to remove.",
            quantity=held or 0,
        )
    if delta > 0:
        lots.put(session, sku.id, parts)
    total = crud.change_item_total(session, item.id, delta, now)
    set_committed_value(sku, "quantity", after)
    set_committed_value(sku, "updated_at", now)
    for name, value in (("total_quantity", total), ("stock_changed_at", now), ("updated_at", now)):
        set_committed_value(item, name, value)
    if delta > 0:
        set_committed_value(item, "in_basket", False)
    change = StockChange(
        id=uuid.uuid4(),
        timestamp=now,
        item_id=item.id,
        location_id=location.id,
        location_name=location.name,
        delta=delta,
        quantity_after=after,
        user_id=actor.user_id,
        source=actor.source,
        scan_id=scan_id,
        lots=lots.journal(parts, 1 if delta > 0 else -1),
        made_place=made_place,
    )
    session.add(change)
    if delta > 0:
        check_storage(work, item, location)
    work.emit("sku", sku.id, "updated", item_id=str(item.id), quantity=after)
    work.emit("item", item.id, "updated", total_quantity=total)
    return change


def ensure_sku(work: UnitOfWork, item: Item, location: Location) -> tuple[Sku, bool]:
    """The SKU of ``item`` at ``location``, created at quantity 0 if missing."""
    item_crud.lock(work.session, item.id)
    sku = crud.find(work.session, item.id, location.id)
    if sku is not None:
        return sku, False
    now = utcnow()
    sku = Sku(item_id=item.id, location_id=location.id, quantity=0, created_at=now, updated_at=now)
    work.session.add(sku)
    work.session.flush()
    work.emit("sku", sku.id, "created", item_id=str(item.id))
    check_storage(work, item, location)
    return sku, True
