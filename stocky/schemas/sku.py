from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StrictInt

from stocky.schemas.common import MAX_QUANTITY, Input, Output, Quantity
from stocky.schemas.item import ItemOut


class SkuCreate(Input):
    item_id: uuid.UUID
    location_id: uuid.UUID
    quantity: Quantity = 0


class SkuUpdate(Input):
    quantity: Quantity


class SkuAdjust(Input):
    delta: Annotated[StrictInt, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
    # Units added carry this date; units removed come from this date's lot first.
    best_before: date | None = None


class SkuDate(Input):
    """Give undated units already in stock a best-before date (the screen's
    quick choices right after an add)."""

    best_before: date
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)] = 1


class SkuMove(Input):
    location_id: uuid.UUID
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]


class SkuOut(Output):
    id: uuid.UUID
    item_id: uuid.UUID
    item_name: str | None
    location_id: uuid.UUID
    location_name: str
    quantity: int
    created_at: datetime
    updated_at: datetime


class SkuAdjusted(SkuOut):
    change_id: uuid.UUID | None = None  # the journalled change, to undo it (None: nothing changed)


class SkuMoved(Output):
    source: SkuOut
    target: SkuOut


class StockResult(Output):
    """A quantity change and where it left the item, for messages like
    "Added Milk to Pantry (now 3)"."""

    sku: SkuOut
    item: ItemOut
    delta: int
    change_id: uuid.UUID | None = None  # the journalled change, to undo it
