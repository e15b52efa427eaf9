from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, StrictBool, model_validator

from stocky.core.barcodes import normalize_barcode
from stocky.core.errors import InvalidInput
from stocky.core.vocabulary import LookupStatus, StorageType
from stocky.schemas.common import Input, Name, Output, Quantity, Text

StockFilter = Literal["in", "zero", "all", "shopping"]


def _barcode(value: str) -> str:
    try:
        return normalize_barcode(value)
    except InvalidInput as error:
        raise ValueError(error.message) from error


Barcode = Annotated[str, AfterValidator(_barcode)]


class ItemCreate(Input):
    name: Name | None = None
    description: Text | None = None
    upc: Barcode | None = None
    storage_type: StorageType | None = None

    @model_validator(mode="after")
    def _named_or_coded(self) -> Self:
        if self.name is None and self.upc is None:
            raise ValueError("an item needs a name or a barcode")
        return self


class ItemUpdate(Input):
    """Only the fields sent are changed."""

    name: Name | None = None
    description: Text | None = None
    upc: Barcode | None = None
    storage_type: StorageType | None = None
    min_quantity: Quantity | None = None
    in_basket: StrictBool | None = None


class ItemOut(Output):
    id: uuid.UUID
    name: str | None
    description: str | None
    upc: str | None
    storage_type: StorageType | None
    lookup_status: LookupStatus | None
    total_quantity: int
    created_at: datetime
    updated_at: datetime
    stock_changed_at: datetime
    min_quantity: int = 0
    in_basket: bool = False

    @property
    def label(self) -> str:
        """What a person calls it: the name, or the barcode until the lookup names it."""
        return self.name or self.upc or str(self.id)


class LotRef(Output):
    id: uuid.UUID
    best_before: date
    quantity: int


class ItemSkuOut(Output):
    id: uuid.UUID
    location_id: uuid.UUID
    location_name: str
    quantity: int
    updated_at: datetime
    lots: list[LotRef] = []


class ShoppingItem(ItemOut):
    """An item on the shopping list, and how many to get."""

    to_buy: int


class ItemDetail(ItemOut):
    skus: list[ItemSkuOut]


class LotOut(Output):
    """A lot on the Use soon list."""

    id: uuid.UUID
    sku_id: uuid.UUID
    item_id: uuid.UUID
    item_name: str | None
    location_id: uuid.UUID
    location_name: str
    best_before: date
    quantity: int
    days_left: int  # negative: expired that many days ago


class ProductOut(Output):
    """What the product service says of a barcode, before any item is made;
    ``item_id`` when an item has the barcode already (open it, not a second one)."""

    barcode: str
    found: bool
    name: str | None = None
    description: str | None = None
    item_id: uuid.UUID | None = None
