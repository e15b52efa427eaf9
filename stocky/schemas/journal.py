from __future__ import annotations

import uuid
from datetime import datetime

from stocky.core.vocabulary import ChangeSource
from stocky.schemas.common import Output


class StockChangeOut(Output):
    id: uuid.UUID
    timestamp: datetime
    item_id: uuid.UUID
    location_id: uuid.UUID | None
    location_name: str
    delta: int
    quantity_after: int
    user_id: uuid.UUID | None
    source: ChangeSource
    scan_id: str | None
    # The dated units the change touched, [[best_before or null, delta], ...];
    # null when none had a date.
    lots: list | None = None
    # Rows of one change (a move: out of one place, into another, per item)
    # share it; undoing any of them undoes them all. Null for a single row.
    group_id: uuid.UUID | None = None
    username: str | None = None  # who made it, where known (the history shows it)
