from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stocky.core.vocabulary import CHANGE_SOURCES
from stocky.models.base import Base, IdMixin, one_of
from stocky.models.types import GUID, UTCDateTime, utcnow


class StockChange(IdMixin, Base):
    """The journal: one row per quantity change, written in the same
    transaction as the change. It is the item's history, the basis of
    "undo last scan", and what makes a repeated ``scan_id`` count once."""

    __tablename__ = "stock_change"
    __table_args__ = (
        CheckConstraint(one_of("source", CHANGE_SOURCES), name="source"),
        CheckConstraint("quantity_after >= 0", name="quantity_after_not_negative"),
        # NULLs are distinct, so only changes that carry a scan id are unique.
        UniqueConstraint("user_id", "scan_id"),
    )

    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    item_id: Mapped[uuid.UUID] = mapped_column(
        GUID(), ForeignKey("item.id", ondelete="CASCADE"), index=True
    )
    # History outlives a deleted location or user.
    location_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID(), ForeignKey("location.id", ondelete="SET NULL")
    )
    location_name: Mapped[str] = mapped_column(String(255))
    delta: Mapped[int] = mapped_column(Integer)
    quantity_after: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID(), ForeignKey("user.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(10))
    scan_id: Mapped[str | None] = mapped_column(String(100))
