from __future__ import annotations

import logging
import uuid

from sqlalchemy import delete
from sqlalchemy.orm import Session

from stocky.core.barcodes import normalize_barcode
from stocky.core.errors import Conflict, InvalidInput, PermissionDenied
from stocky.core.events import EventBus
from stocky.core.vocabulary import LookupStatus
from stocky.crud import item as crud
from stocky.crud import sku as sku_crud
from stocky.crud.common import get_or_404
from stocky.db.engine import Database
from stocky.models import Item
from stocky.schemas.actor import Actor
from stocky.schemas.common import Page, parse
from stocky.schemas.item import ItemCreate, ItemDetail, ItemOut, ItemSkuOut, ItemUpdate, StockFilter
from stocky.schemas.journal import StockChangeOut
from stocky.services.alerts import name_in_open_alerts
from stocky.services.base import Service, UnitOfWork
from stocky.services.lookups import LookupQueue
from stocky.services.stock import item_label

log = logging.getLogger("stocky.items")

MAX_PAGE = 500


class ItemService(Service):
    def __init__(self, db: Database, bus: EventBus, lookups: LookupQueue) -> None:
        super().__init__(db, bus)
        self.lookups = lookups

    async def list(
        self,
        search: str | None = None,
        stock: StockFilter = "in",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[ItemOut]:
        """``stock="in"`` is the inventory, ``"zero"`` the shopping list
        (most recently emptied first), ``"all"`` both."""
        search = (search or "").strip() or None

        def query(session: Session) -> Page[ItemOut]:
            rows, total = crud.page(session, search, stock, min(limit, MAX_PAGE), offset)
            return Page[ItemOut](data=[ItemOut.model_validate(r) for r in rows], total=total)

        return await self.read(query)

    async def unnamed(self, limit: int = 20) -> list[ItemOut]:
        """Scanned products nobody has named yet (the lookup found nothing)."""

        def query(session: Session) -> list[ItemOut]:
            return [ItemOut.model_validate(item) for item in crud.unnamed(session, min(limit, MAX_PAGE))]

        return await self.read(query)

    async def get(self, item_id: uuid.UUID) -> ItemDetail:
        def query(session: Session) -> ItemDetail:
            item = get_or_404(session, Item, item_id, "item")
            return _detail(item, crud.skus_with_locations(session, item_id))

        return await self.read(query)

    async def by_upc(self, code: str) -> ItemOut | None:
        code = normalize_barcode(code)

        def query(session: Session) -> ItemOut | None:
            item = crud.by_upc(session, code)
            return ItemOut.model_validate(item) if item else None

        return await self.read(query)

    async def history(self, item_id: uuid.UUID, limit: int = 100) -> list[StockChangeOut]:
        def query(session: Session) -> list[StockChangeOut]:
            get_or_404(session, Item, item_id, "item")
            return [StockChangeOut.model_validate(change).model_copy(update={"username": username})
                    for change, username in crud.history(session, item_id, limit)]

        return await self.read(query)

    async def create(self, data: ItemCreate | dict, actor: Actor) -> ItemOut:
        """A barcode without a name is looked up in the background."""
        data = parse(ItemCreate, data)

        def change(work: UnitOfWork) -> Item:
            item = create_item(work, data)
            work.log(log, logging.INFO, "Created item %s", item_label(item), source=actor.username)
            return item

        item = await self.write(change)
        if item.lookup_status == "pending":
            self.lookups.enqueue(item.id)
        return ItemOut.model_validate(item)

    async def update(self, item_id: uuid.UUID, data: ItemUpdate | dict, actor: Actor) -> ItemOut:
        data = parse(ItemUpdate, data)
        changes = data.model_dump(exclude_unset=True)

        def change(work: UnitOfWork) -> tuple[Item, bool]:
            item = get_or_404(work.session, Item, item_id, "item")
            unnamed_code = item.upc if not item.name else None
            new_code = bool(changes.get("upc")) and changes["upc"] != item.upc
            if new_code:
                _check_upc_free(work, changes["upc"])
            for field, value in changes.items():
                setattr(item, field, value)
            if new_code and not item.name:
                item.lookup_status = "pending"  # a barcode typed in: find its name
            if not item.name and not item.upc:
                raise InvalidInput(
                    "An item needs a name or a barcode.",
                    [{"field": "name", "message": "needed when there is no barcode"}],
                )
            name_in_open_alerts(work, unnamed_code, item.name)
            work.session.flush()
            work.emit("item", item.id, "updated")
            work.log(log, logging.INFO, "Updated item %s", item_label(item), source=actor.username)
            return item, new_code

        item, new_code = await self.write(change)
        if new_code and item.lookup_status == "pending":
            self.lookups.enqueue(item.id)
        return ItemOut.model_validate(item)

    async def delete(self, item_id: uuid.UUID, actor: Actor) -> None:
        """Admins only, and only at zero stock; its SKUs go with it."""
        if not actor.is_admin:
            raise PermissionDenied("Only an Admin can delete an item.")

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

        await self.write(change)

    async def request_lookup(self, item_id: uuid.UUID, actor: Actor) -> ItemOut:
        """Look the product up again ("refresh"); it needs a barcode."""

        def change(work: UnitOfWork) -> Item:
            item = get_or_404(work.session, Item, item_id, "item")
            if not item.upc:
                raise Conflict(f"{item_label(item)} has no barcode to look up.")
            item.lookup_status = "pending"
            work.emit("item", item.id, "updated")
            return item

        item = await self.write(change)
        self.lookups.enqueue(item.id)
        return ItemOut.model_validate(item)

    async def pending_lookups(self) -> list[uuid.UUID]:
        return await self.read(lambda session: crud.ids_with_lookup_status(session, "pending"))

    async def record_lookup(
        self,
        item_id: uuid.UUID,
        status: LookupStatus,
        name: str | None = None,
        description: str | None = None,
    ) -> ItemOut:
        """Store what the product service said. A name or description a person
        already typed is never overwritten."""

        def change(work: UnitOfWork) -> Item:
            item = get_or_404(work.session, Item, item_id, "item")
            item.lookup_status = status
            if name and not item.name:
                item.name = name[:255]
                name_in_open_alerts(work, item.upc, item.name)
            if description and not item.description:
                item.description = description
            work.session.flush()
            work.emit("item", item.id, "updated", lookup_status=status)
            return item

        item = await self.write(change)
        return ItemOut.model_validate(item)


def create_item(work: UnitOfWork, data: ItemCreate) -> Item:
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
    return item


def _check_upc_free(work: UnitOfWork, upc: str) -> None:
    if existing := crud.by_upc(work.session, upc):
        raise Conflict(f"The barcode {upc} already belongs to {item_label(existing)}.", id=str(existing.id))


def _detail(item: Item, skus: list) -> ItemDetail:
    base = ItemOut.model_validate(item).model_dump()
    return ItemDetail(
        **base,
        skus=[
            ItemSkuOut(
                id=sku.id,
                location_id=sku.location_id,
                location_name=name,
                quantity=sku.quantity,
                updated_at=sku.updated_at,
            )
            for sku, name in skus
        ],
    )
