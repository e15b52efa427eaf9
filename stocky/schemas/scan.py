from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StrictBool

from stocky.core.vocabulary import ScanMode, StorageType
from stocky.schemas.common import Input, Output
from stocky.schemas.item import ItemOut
from stocky.schemas.user import ScannerState

MAX_SCAN_LENGTH = 1024

ScanOutcome = Literal[
    "added", "removed", "associated", "view", "mode", "location", "duplicate", "dated", "undone"
]


class ScanRequest(Input):
    msg: Annotated[str, Field(max_length=MAX_SCAN_LENGTH)]
    scan_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class ScanInto(Input):
    """A scan refused for want of a place ("where does it go?"), applied
    into the place a person chose on the scanner's screen; ``remember``:
    the scanner's later scans go there too."""

    location_id: uuid.UUID
    msg: Annotated[str, Field(max_length=MAX_SCAN_LENGTH)]
    remember: StrictBool = False


class LocationRef(Output):
    id: uuid.UUID
    name: str
    storage_type: StorageType | None


class ScanResult(Output):
    result: ScanOutcome
    message: str
    item: ItemOut | None = None
    location: LocationRef | None = None
    quantity: int | None = None
    best_before: date | None = None  # the date the unit added (or dated) carries
    created: bool = False  # a new, unnamed product: offer to name it
    change_id: uuid.UUID | None = None  # the journalled stock change, for "Undo"
    warning: str | None = None  # the change stands, but something is off (a storage mismatch)
    scanner: ScannerState


class ScannerStateUpdate(Input):
    current_mode: ScanMode | None = None
    current_location_id: uuid.UUID | None = None
