from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import field_validator

from stocky.core.vocabulary import StorageType
from stocky.schemas.common import Input, Name, Output, Text


class LocationCreate(Input):
    name: Name
    storage_type: StorageType | None = None
    details: Text | None = None


class LocationUpdate(Input):
    """Only the fields sent are changed."""

    name: Name | None = None
    storage_type: StorageType | None = None
    details: Text | None = None

    @field_validator("name")
    @classmethod
    def _keeps_a_name(cls, name: str | None) -> str:
        # Runs only for a name that was sent: sending null would erase it.
        if name is None:
            raise ValueError("a location needs a name")
        return name


class LocationOut(Output):
    id: uuid.UUID
    name: str
    storage_type: StorageType | None
    details: str | None
    total_quantity: int
    created_at: datetime
    updated_at: datetime


class LocationEmptied(Output):
    """What moving everything did: ``moved`` units of ``items`` items went
    from one place to the other ("Moved 7 units of 3 items from Freezer to
    Fridge"). It is one change: ``POST /stock-change/{change_id}/undo`` puts
    every unit back, dates included, or refuses (409) with nothing changed
    once some have moved on or been taken. ``change_id`` is null when the
    place held nothing."""

    moved: int
    items: int
    from_location_id: uuid.UUID
    from_location_name: str
    into_location_id: uuid.UUID
    into_location_name: str
    change_id: uuid.UUID | None
