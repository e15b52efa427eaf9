from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from stocky.core.dates import spoken
from stocky.core.errors import Conflict, InvalidInput
from stocky.crud import item as item_crud
from stocky.crud import location as location_crud
from stocky.crud import lot as lot_crud
from stocky.crud import sku as crud
from stocky.crud.common import get_or_404
from stocky.models import Item, Location, Sku, StockChange
from stocky.models.types import utcnow
from stocky.schemas.actor import Actor
from stocky.schemas.common import Page, parse
from stocky.schemas.location import LocationEmptied
from stocky.schemas.sku import (
    SkuAdjust,
    SkuCreate,
    SkuDate,
    SkuMove,
    SkuMoved,
    SkuOut,
    SkuUpdate,
    StockResult,
)
from stocky.services import lots
from stocky.services.base import Service, UnitOfWork
from stocky.services.permissions import Action
from stocky.services.stock import change_stock, ensure_sku, item_label, item_out, sku_out

log = logging.getLogger("stocky.skus")


class SkuService(Service):
    async def list(
        self,
        actor: Actor,
        item_id: uuid.UUID | None = None,
        location_id: uuid.UUID | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[SkuOut]:
        def query(session: Session) -> Page[SkuOut]:
            rows, total = crud.listing(session, item_id, location_id, limit, offset)
            data = [sku_out(sku, item_name, location_name) for sku, item_name, location_name in rows]
            return Page[SkuOut](data=data, total=total)

        return await self.read(actor, Action.INVENTORY_READ, query)

    async def get(self, sku_id: uuid.UUID, actor: Actor) -> SkuOut:
        def query(session: Session) -> SkuOut:
            sku, item, location = _load(session, sku_id)
            return sku_out(sku, item, location)

        return await self.read(actor, Action.INVENTORY_READ, query)

    async def create(self, data: SkuCreate | dict, actor: Actor) -> SkuOut:
        data = parse(SkuCreate, data)

        def change(work: UnitOfWork) -> SkuOut:
            item = get_or_404(work.session, Item, data.item_id, "item")
            location = get_or_404(work.session, Location, data.location_id, "location")
            sku, created = ensure_sku(work, item, location)
            if not created:
                raise Conflict(f"{item_label(item)} already has a place in {location.name}.")
            change_stock(work, sku, item, location, data.quantity, actor)
            _log_change(work, actor, f"Put {item_label(item)} in {location.name} ({data.quantity})")
            return sku_out(sku, item, location)

        return await self.write(actor, Action.INVENTORY_CHANGE, change)

    async def set_quantity(self, sku_id: uuid.UUID, data: SkuUpdate | dict, actor: Actor) -> SkuOut:
        data = parse(SkuUpdate, data)

        def change(work: UnitOfWork) -> SkuOut:
            sku, item, location = _load(work.session, sku_id, lock=True)
            delta = data.quantity - sku.quantity
            change_stock(work, sku, item, location, delta, actor)
            _log_change(work, actor, f"Set {item_label(item)} in {location.name} to {data.quantity}")
            return sku_out(sku, item, location)

        return await self.write(actor, Action.INVENTORY_CHANGE, change)

    async def adjust(
        self, sku_id: uuid.UUID, data: SkuAdjust | dict, actor: Actor, scan_id: str | None = None
    ) -> StockResult:
        data = parse(SkuAdjust, data)
        if data.delta == 0:
            raise InvalidInput("Change the quantity by at least 1.", [{"field": "delta", "message": "must not be 0"}])

        def change(work: UnitOfWork) -> StockResult:
            sku, item, location = _load(work.session, sku_id)
            if data.best_before is not None and data.delta < 0:
                # Taking from one lot (the item page's per-date minus): from that lot only.
                # The item's lock first, as every stock change takes it: on PostgreSQL
                # a concurrent removal could otherwise empty the lot after this look.
                item_crud.lock(work.session, item.id)
                held = next((lot.quantity for lot in lot_crud.held(work.session, sku.id)
                             if lot.best_before == data.best_before), 0)
                if held < -data.delta:
                    raise Conflict(
                        f"{_only(held, f'{item_label(item)} in {location.name}')} dated {spoken(data.best_before)}.",
                        quantity=held,
                    )
            journal = change_stock(
                work, sku, item, location, data.delta, actor, scan_id, best_before=data.best_before
            )
            dated = f", best before {spoken(data.best_before)}" if data.best_before else ""
            _log_change(work, actor,
                        f"{_verb(data.delta)} {item_label(item)} in {location.name}{dated} (now {sku.quantity})")
            return StockResult(sku=sku_out(sku, item, location), item=item_out(item), delta=data.delta,
                               change_id=journal.id if journal is not None else None)

        return await self.write(actor, Action.INVENTORY_CHANGE, change)

    async def date_units(self, sku_id: uuid.UUID, data: SkuDate | dict, actor: Actor) -> SkuOut:
        """Date ``quantity`` undated units of the SKU, or with
        ``from_best_before`` move them from that date's lot to another date
        (or back to undated): the count stays. Refused when fewer carry the
        date they come from."""
        data = parse(SkuDate, data)
        was, to, count = data.from_best_before, data.best_before, data.quantity

        def change(work: UnitOfWork) -> SkuOut:
            sku, item, location = _load(work.session, sku_id, lock=True)
            where = f"{item_label(item)} in {location.name}"
            if was is None:
                undated = sku.quantity - lot_crud.dated_total(work.session, sku.id)
                if undated < count:
                    raise Conflict(f"{_only(undated, where)} undated.", quantity=undated)
            else:
                lot = next((lot for lot in lot_crud.held(work.session, sku.id) if lot.best_before == was), None)
                held = lot.quantity if lot is not None else 0
                if held < count:
                    raise Conflict(f"{_only(held, where)} dated {spoken(was)}.", quantity=held)
                lot_crud.shrink(work.session, lot.id, count)  # out of the lot before it grows elsewhere
            if to is not None:
                lot_crud.grow(work.session, sku.id, to, count)
            if added := _recent_add(work.session, sku):
                added.lots = lots.redated_journal(added.lots, added.delta, was, to, count)
            work.emit("sku", sku.id, "updated", item_id=str(item.id), quantity=sku.quantity)
            now = f"best before {spoken(to)}" if to is not None else "no date"
            what = f"Dated {count} {where}" if was is None else f"Re-dated {count} {where} from {spoken(was)}"
            _log_change(work, actor, f"{what}: {now}")
            return sku_out(sku, item, location)

        return await self.write(actor, Action.INVENTORY_CHANGE, change)

    async def add_to(
        self,
        item_id: uuid.UUID,
        location_id: uuid.UUID,
        delta: int,
        actor: Actor,
        scan_id: str | None = None,
    ) -> StockResult:
        """Change the stock of an item at a location, creating its SKU on the
        way in. The touch UI's +/- and every scan take this path."""

        def change(work: UnitOfWork) -> StockResult:
            item = get_or_404(work.session, Item, item_id, "item")
            location = get_or_404(work.session, Location, location_id, "location")
            sku, _ = ensure_sku(work, item, location)
            change_stock(work, sku, item, location, delta, actor, scan_id)
            return StockResult(sku=sku_out(sku, item, location), item=item_out(item), delta=delta)

        return await self.write(actor, Action.INVENTORY_CHANGE, change)

    async def move(self, sku_id: uuid.UUID, data: SkuMove | dict, actor: Actor) -> SkuMoved:
        data = parse(SkuMove, data)

        def change(work: UnitOfWork) -> SkuMoved:
            source, item, origin = _load(work.session, sku_id)
            destination = get_or_404(work.session, Location, data.location_id, "location")
            target, journal = _move(work, source, item, origin, destination, data.quantity, actor, uuid.uuid4())
            return SkuMoved(source=sku_out(source, item, origin), target=sku_out(target, item, destination),
                            change_id=journal.id)

        return await self.write(actor, Action.INVENTORY_CHANGE, change)

    async def empty_location(self, location_id: uuid.UUID, into_id: uuid.UUID, actor: Actor) -> LocationEmptied:
        """Move everything in one location to another, all or nothing: one
        change in the journal (every item's rows share one group), so undoing
        the answer's ``change_id`` puts every unit back where it was, with its
        date (stocky/services/undo.py)."""

        def change(work: UnitOfWork) -> LocationEmptied:
            origin = get_or_404(work.session, Location, location_id, "location")
            destination = get_or_404(work.session, Location, into_id, "location")
            stocked = location_crud.stocked_items(work.session, location_id)
            group, units, first = uuid.uuid4(), 0, None
            for sku, item in stocked:
                units += sku.quantity  # before the move sets it to 0
                _, journal = _move(work, sku, item, origin, destination, sku.quantity, actor, group)
                first = first or journal
            return LocationEmptied(
                moved=units, items=len(stocked),
                from_location_id=origin.id, from_location_name=origin.name,
                into_location_id=destination.id, into_location_name=destination.name,
                change_id=first.id if first is not None else None,
            )

        return await self.write(actor, Action.INVENTORY_CHANGE, change)

    async def delete(self, sku_id: uuid.UUID, actor: Actor) -> None:
        def change(work: UnitOfWork) -> None:
            sku, item, location = _load(work.session, sku_id, lock=True)
            if sku.quantity > 0:
                raise Conflict(
                    f"{location.name} still holds {sku.quantity} of {item_label(item)}: "
                    "remove or move them first.",
                    quantity=sku.quantity,
                )
            work.session.delete(sku)
            work.emit("sku", sku_id, "deleted", item_id=str(item.id))
            _log_change(work, actor, f"Removed {item_label(item)} from {location.name}")

        await self.write(actor, Action.INVENTORY_CHANGE, change)


def _load(session: Session, sku_id: uuid.UUID, lock: bool = False) -> tuple[Sku, Item, Location]:
    # On PostgreSQL a read-then-set (PATCH quantity) locks the row, after its
    # item's (the order every stock change takes); SQLite writers already
    # hold the database lock from BEGIN IMMEDIATE.
    sku = get_or_404(session, Sku, sku_id, "stock entry")
    if lock and session.bind.dialect.name == "postgresql":
        item_crud.lock(session, sku.item_id)
        session.refresh(sku, with_for_update=True)
    item = session.get(Item, sku.item_id)
    location = session.get(Location, sku.location_id)
    return sku, item, location


def _recent_add(session: Session, sku: Sku) -> StockChange | None:
    """The latest add to this place, if it was made in the last minutes: the
    units a person dates right after an add are that add's."""
    return session.scalar(
        select(StockChange)
        .where(
            StockChange.item_id == sku.item_id,
            StockChange.location_id == sku.location_id,
            StockChange.delta > 0,
            StockChange.timestamp >= utcnow() - lots.DATING_WINDOW,
        )
        .order_by(StockChange.seq.desc())
        .limit(1)
    )


def _move(
    work: UnitOfWork,
    source: Sku,
    item: Item,
    origin: Location,
    destination: Location,
    quantity: int,
    actor: Actor,
    group: uuid.UUID,
) -> tuple[Sku, StockChange]:
    """Move ``quantity`` units, dates and all: a journal row out of ``origin``
    and one into ``destination``, both in ``group`` so that they are undone
    together. Returns the target SKU and the row out."""
    if origin.id == destination.id:
        raise InvalidInput(
            f"{item_label(item)} is already in {origin.name}.",
            [{"field": "location_id", "message": "must differ from the current location"}],
        )
    item_crud.lock(work.session, item.id)
    dated = lots.take(work.session, source.id, quantity)  # the dates travel with the units
    out = change_stock(work, source, item, origin, -quantity, actor, parts=dated)
    target, _ = ensure_sku(work, item, destination)
    into = change_stock(work, target, item, destination, quantity, actor, parts=dated)
    out.group_id = into.group_id = group
    _log_change(work, actor, f"Moved {quantity} {item_label(item)} from {origin.name} to {destination.name}")
    return target, out


def _only(count: int, where: str) -> str:
    """The start of "Only 1 of Milk in Fridge is …", "Only 2 of … are …",
    "None of … is …": how many units are as a change needs them."""
    if count == 0:
        return f"None of {where} is"
    return f"Only {count} of {where} {'is' if count == 1 else 'are'}"


def _verb(delta: int) -> str:
    return f"Added {delta}" if delta > 0 else f"Removed {-delta}"


def _log_change(work: UnitOfWork, actor: Actor, message: str) -> None:
    work.log(log, logging.INFO, "%s", message, source=actor.username)
