from __future__ import annotations

import logging
import uuid

from sqlalchemy import delete
from sqlalchemy.orm import Session

from stocky.core.barcodes import normalize_barcode
from stocky.core.errors import Conflict, InvalidInput
from stocky.core.events import EventBus
from stocky.core.vocabulary import LookupStatus
from stocky.crud import item as crud
from stocky.crud import lot as lot_crud
from stocky.crud import sku as sku_crud
from stocky.crud.common import get_or_404
from stocky.db.engine import Database
from stocky.models import Item
from stocky.schemas.actor import Actor
from stocky.schemas.common import Page, parse
from stocky.schemas.item import (
    ItemCreate,
    ItemDetail,
    ItemOut,
    ItemSkuOut,
    ItemUpdate,
    LotRef,
    ShoppingItem,
    StockFilter,
)
from stocky.schemas.journal import StockChangeOut
from stocky.services.alerts import name_in_open_alerts, raise_alert
from stocky.services.base import Service, UnitOfWork
from stocky.services.lookups import LookupQueue
from stocky.services.permissions import Action
from stocky.services.stock import item_label, item_out

log = logging.getLogger("stocky.items")

MAX_PAGE = 500


class ItemService(Service):
    def __init__(self, db: Database, bus: EventBus, lookups: LookupQueue) -> None:
        super().__init__(db, bus)
        self.lookups = lookups

    async def list(
        self,
        actor: Actor,
        search: str | None = None,
        stock: StockFilter = "in",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ItemOut] | Page[ShoppingItem]:
        """``stock="in"`` is the inventory, ``"zero"`` what ran out (most
        recently emptied first), ``"all"`` both; ``"shopping"`` the shopping
        list: what ran out or fell below its minimum, with how many to buy."""
        search = (search or "").strip() or None

        def query(session: Session) -> Page[ItemOut] | Page[ShoppingItem]:
            rows, total = crud.page(session, search, stock, min(limit, MAX_PAGE), offset)
            if stock == "shopping":
                return Page[ShoppingItem](data=[_shopping(r) for r in rows], total=total)
            return Page[ItemOut](data=[item_out(r) for r in rows], total=total)

        return await self.read(actor, Action.INVENTORY_READ, query)

    async def unnamed(self, actor: Actor, limit: int = 20) -> list[ItemOut]:
        """Scanned products nobody has named yet (the lookup found nothing)."""

        def query(session: Session) -> list[ItemOut]:
            return [item_out(item) for item in crud.unnamed(session, min(limit, MAX_PAGE))]

        return await self.read(actor, Action.INVENTORY_READ, query)

    async def get(self, item_id: uuid.UUID, actor: Actor) -> ItemDetail:
        def query(session: Session) -> ItemDetail:
            item = get_or_404(session, Item, item_id, "item")
            skus = crud.skus_with_locations(session, item_id)
            return _detail(item, skus, lot_crud.of_skus(session, [sku.id for sku, _ in skus]))

        return await self.read(actor, Action.INVENTORY_READ, query)

    async def by_upc(self, code: str, actor: Actor) -> ItemOut | None:
        code = normalize_barcode(code)

        def query(session: Session) -> ItemOut | None:
            item = crud.by_upc(session, code)
            return item_out(item) if item else None

        return await self.read(actor, Action.INVENTORY_READ, query)

    async def history(self, item_id: uuid.UUID, actor: Actor, limit: int = 100) -> list[StockChangeOut]:
        def query(session: Session) -> list[StockChangeOut]:
            get_or_404(session, Item, item_id, "item")
            return [StockChangeOut.model_validate(change).model_copy(update={"username": username})
                    for change, username in crud.history(session, item_id, limit)]

        return await self.read(actor, Action.INVENTORY_READ, query)

    async def create(self, data: ItemCreate | dict, actor: Actor) -> ItemOut:
        """A barcode without a name is looked up in the background."""
        data = parse(ItemCreate, data)

        def change(work: UnitOfWork) -> Item:
            item = create_item(work, data, self.lookups)
            work.log(log, logging.INFO, "Created item %s", item_label(item), source=actor.username)
            return item

        return item_out(await self.write(actor, Action.INVENTORY_CHANGE, change))

    async def update(self, item_id: uuid.UUID, data: ItemUpdate | dict, actor: Actor) -> ItemOut:
        data = parse(ItemUpdate, data)
        changes = data.model_dump(exclude_unset=True)
        for kept in ("min_quantity", "in_basket"):  # null: leave as it is
            if changes.get(kept, False) is None:
                del changes[kept]

        def change(work: UnitOfWork) -> Item:
            item = get_or_404(work.session, Item, item_id, "item")
            if "in_basket" in changes or "min_quantity" in changes:
                # Whether it is on the list depends on its stock: read it under the
                # lock every stock change takes, so none slips in between.
                crud.lock(work.session, item.id)
                work.session.refresh(item)
            if "name" in changes and changes["name"] is None and item.name and item.upc:
                # A name is never emptied: the item would show as a bare barcode
                # (without one, the rule below says it needs a name or a barcode).
                raise InvalidInput("The name cannot be empty; type the item's name.",
                                   [{"field": "name", "message": "must not be empty"}])
            unnamed_code = item.upc if not item.name else None
            new_code = bool(changes.get("upc")) and changes["upc"] != item.upc
            if new_code:
                _check_upc_free(work, changes["upc"])
            for field, value in changes.items():
                setattr(item, field, value)
            if not on_shopping_list(item):  # a tick only stands while the item is on the list
                if changes.get("in_basket"):
                    raise Conflict(f"{item_label(item)} is not on the shopping list, so it cannot be ticked off.")
                item.in_basket = False
            if new_code and not item.name:
                item.lookup_status = "pending"  # a barcode typed in: find its name
                look_up_after_commit(work, self.lookups, item)
            if not item.name and not item.upc:
                raise InvalidInput(
                    "An item needs a name or a barcode.",
                    [{"field": "name", "message": "needed when there is no barcode"}],
                )
            name_in_open_alerts(work, unnamed_code, item.name)
            work.session.flush()
            work.emit("item", item.id, "updated")
            work.log(log, logging.INFO, "Updated item %s", item_label(item), source=actor.username)
            return item

        return item_out(await self.write(actor, Action.INVENTORY_CHANGE, change))

    async def delete(self, item_id: uuid.UUID, actor: Actor) -> None:
        """Admins only, and only at zero stock; its SKUs go with it."""

        def change(work: UnitOfWork) -> None:
            item = get_or_404(work.session, Item, item_id, "item")
            if item.total_quantity > 0:
                raise Conflict(
                    f"{item_label(item)} is still in stock ({item.total_quantity}): "
                    "only items at zero can be deleted.",
                    total_quantity=item.total_quantity,
                )
            for sku_id in sku_crud.ids_of(work.session, item_id=item_id):
                work.emit("sku", sku_id, "deleted", item_id=str(item_id))
            work.session.execute(delete(Item).where(Item.id == item_id))
            work.emit("item", item_id, "deleted")
            work.log(log, logging.INFO, "Deleted item %s", item_label(item), source=actor.username)

        await self.write(actor, Action.ITEM_DELETE, change)

    async def request_lookup(self, item_id: uuid.UUID, actor: Actor) -> ItemOut:
        """Look the product up again ("refresh"); it needs a barcode."""

        def change(work: UnitOfWork) -> Item:
            item = get_or_404(work.session, Item, item_id, "item")
            if not item.upc:
                raise Conflict(f"{item_label(item)} has no barcode to look up.")
            item.lookup_status = "pending"
            work.emit("item", item.id, "updated")
            look_up_after_commit(work, self.lookups, item)
            return item

        return item_out(await self.write(actor, Action.INVENTORY_CHANGE, change))

    async def pending_lookups(self, actor: Actor) -> list[uuid.UUID]:
        return await self.read(
            actor, Action.INVENTORY_READ, lambda session: crud.ids_with_lookup_status(session, "pending")
        )

    async def record_lookup(
        self,
        item_id: uuid.UUID,
        actor: Actor,
        *,
        name: str | None = None,
        description: str | None = None,
        failure: str | None = None,
    ) -> LookupStatus:
        """Store what the product service said about the item's barcode: a
        name or description (found), nothing (not found), or why it could not
        be asked (``failure``: failed, with a Warning alert saying why). The
        status and its alert commit together. A name or description a person
        already typed is never overwritten."""

        def change(work: UnitOfWork) -> LookupStatus:
            item = get_or_404(work.session, Item, item_id, "item")
            if failure is not None:
                status: LookupStatus = "failed"
                raise_alert(work, "Warning", f"Could not look up barcode {item.upc}: the product service {failure}")
            elif name or description:
                status = "found"
                work.log(log, logging.INFO, "Barcode %s is %s", item.upc, name or description)
            else:
                status = "not_found"
                work.log(log, logging.INFO, "No product is known for barcode %s", item.upc)
            item.lookup_status = status
            if name and not item.name:
                item.name = name[:255]
                name_in_open_alerts(work, item.upc, item.name)
            if description and not item.description:
                item.description = description
            work.session.flush()
            work.emit("item", item.id, "updated", lookup_status=status)
            return status

        return await self.write(actor, Action.INVENTORY_CHANGE, change)


def look_up_after_commit(work: UnitOfWork, lookups: LookupQueue, item: Item) -> None:
    """Queue the item's product lookup once it is committed: the worker must
    find it, and a caller that stopped waiting must not lose it."""
    item_id = item.id
    work.after_commit(lambda: lookups.enqueue(item_id))


def create_item(work: UnitOfWork, data: ItemCreate, lookups: LookupQueue) -> Item:
    """A new item; one with a barcode and no name is looked up once committed."""
    if data.upc:
        _check_upc_free(work, data.upc)
    item = Item(
        name=data.name,
        description=data.description,
        upc=data.upc,
        storage_type=data.storage_type,
        lookup_status="pending" if data.upc and not data.name else None,
        total_quantity=0,
    )
    work.session.add(item)
    work.session.flush()
    work.emit("item", item.id, "created")
    if item.lookup_status == "pending":
        look_up_after_commit(work, lookups, item)
    return item


def _check_upc_free(work: UnitOfWork, upc: str) -> None:
    if existing := crud.by_upc(work.session, upc):
        raise Conflict(f"The barcode {upc} already belongs to {item_label(existing)}.", id=str(existing.id))


def on_shopping_list(item: Item) -> bool:
    """At zero, or below its minimum (as ``stock=shopping`` lists it)."""
    return item.total_quantity < 1 or item.total_quantity < item.min_quantity


def to_buy(item: Item) -> int:
    """Up to the minimum; one of an item kept without a minimum that ran out."""
    return item.min_quantity - item.total_quantity if item.min_quantity > item.total_quantity else 1


def _shopping(item: Item) -> ShoppingItem:
    return ShoppingItem(**item_out(item).model_dump(), to_buy=to_buy(item))


def _detail(item: Item, skus: list, lots: dict) -> ItemDetail:
    base = item_out(item).model_dump()
    return ItemDetail(
        **base,
        skus=[
            ItemSkuOut(
                id=sku.id,
                location_id=sku.location_id,
                location_name=name,
                quantity=sku.quantity,
                updated_at=sku.updated_at,
                lots=[LotRef.model_validate(lot) for lot in lots[sku.id]],
            )
            for sku, name in skus
        ],
    )
