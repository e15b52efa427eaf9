from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StrictInt, ValidationInfo, field_validator

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
    quick choices right after an add), or with ``from_best_before`` move
    units from that date's lot to another date (``None``: undated again),
    to mend a wrong date."""

    # Declared first: best_before's check reads it.
    from_best_before: date | None = None
    best_before: date | None
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)] = 1

    @field_validator("best_before")
    @classmethod
    def _a_change(cls, value: date | None, info: ValidationInfo) -> date | None:
        was = info.data.get("from_best_before")
        if value is None and was is None:
            raise ValueError("must be a date (null only with from_best_before, to make dated units undated)")
        if value is not None and value == was:
            raise ValueError("must differ from from_best_before")
        return value


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
    # The move's journal row out of the source: undoing it undoes the whole move.
    change_id: uuid.UUID


class StockResult(Output):
    """A quantity change and where it left the item, for messages like
    "Added Milk to Pantry (now 3)"."""

    sku: SkuOut
    item: ItemOut
    delta: int
    change_id: uuid.UUID | None = None  # the journalled change, to undo it
