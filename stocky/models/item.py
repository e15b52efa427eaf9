from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Text, event, func, text
from sqlalchemy.orm import Mapped, mapped_column

from stocky.core.vocabulary import LOOKUP_STATUSES, STORAGE_TYPES
from stocky.models.base import Base, IdMixin, TimestampMixin, one_of
from stocky.models.types import UTCDateTime, utcnow


class Item(IdMixin, TimestampMixin, Base):
    __tablename__ = "item"
    __table_args__ = (
        CheckConstraint(one_of("storage_type", STORAGE_TYPES), name="storage_type"),
        CheckConstraint(one_of("lookup_status", LOOKUP_STATUSES), name="lookup_status"),
        CheckConstraint("total_quantity >= 0", name="total_not_negative"),
        CheckConstraint("min_quantity >= 0", name="min_quantity_not_negative"),
    )

    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    upc: Mapped[str | None] = mapped_column(String(48), unique=True)
    storage_type: Mapped[str | None] = mapped_column(String(50))
    lookup_status: Mapped[str | None] = mapped_column(String(20))
    # The sum of this item's SKU quantities, kept by the same statement path
    # that changes a SKU. It lets the inventory filter and sort 100,000 items
    # without aggregating every SKU on each keystroke of a search.
    total_quantity: Mapped[int] = mapped_column(Integer, default=0, index=True)
    # When stock last changed: the shopping list shows the newest first.
    stock_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Name, description, barcode and id, case-folded by Python: SQLite's
    # lower() folds only A-Z, so "ÄPFEL" would never find "Äpfel". One
    # column also makes a search one LIKE instead of four.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # The least the household wants at home (0: not kept): below it, the
    # item is on the shopping list.
    min_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Ticked off on the shopping trip; stock arriving clears it.
    in_basket: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    def refresh_search_text(self) -> None:
        parts = (self.name, self.description, self.upc, str(self.id) if self.id else None)
        self.search_text = " ".join(part for part in parts if part).casefold()


# The inventory's order over what is in stock, and the shopping list's over
# what is not: a first page reads 100 index entries instead of sorting every
# row. Partial, so each holds only its half. (On SQLite there is also the FTS5
# trigram index ``item_fts`` over ``search_text``, kept by triggers; it lives
# outside the models: see the migration that made it and stocky/crud/item.py.)
Index(
    "ix_item_label_in_stock",
    func.lower(func.coalesce(Item.name, Item.upc)),
    Item.id,
    sqlite_where=text("total_quantity > 0"),
    postgresql_where=text("total_quantity > 0"),
)
Index(
    "ix_item_changed_out_of_stock",
    Item.stock_changed_at.desc(),
    Item.id,
    sqlite_where=text("total_quantity < 1"),
    postgresql_where=text("total_quantity < 1"),
)


@event.listens_for(Item, "before_insert")
@event.listens_for(Item, "before_update")
def _keep_search_text(_mapper: object, _connection: object, item: Item) -> None:
    if item.id is None:
        item.id = uuid.uuid4()
    item.refresh_search_text()
