from __future__ import annotations

import uuid
from datetime import datetime

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


class LocationOut(Output):
    id: uuid.UUID
    name: str
    storage_type: StorageType | None
    details: str | None
    total_quantity: int
    created_at: datetime
    updated_at: datetime
