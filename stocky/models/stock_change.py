from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from stocky.core.vocabulary import CHANGE_SOURCES
from stocky.models.base import Base, IdMixin, one_of
from stocky.models.types import GUID, UTCDateTime, utcnow


class StockChange(IdMixin, Base):
    """The journal: one row per quantity change, written in the same
    transaction as the change. It is the item's history, the basis of
    "undo last scan", and what makes a repeated ``scan_id`` count once."""

    __tablename__ = "stock_change"
    # ``seq`` is set by the database (on SQLite after the insert, by a
    # trigger): not read back with each insert, only when asked for.
    __mapper_args__ = {"eager_defaults": False}
    __table_args__ = (
        CheckConstraint(one_of("source", CHANGE_SOURCES), name="source"),
        CheckConstraint("quantity_after >= 0", name="quantity_after_not_negative"),
        # NULLs are distinct, so only changes that carry a scan id are unique.
        UniqueConstraint("user_id", "scan_id"),
        Index("ix_stock_change_seq", "seq", unique=True),
        Index("ix_stock_change_item_id_seq", "item_id", "seq"),
    )

    # The order the changes happened in, given by the database as each row
    # is written (a sequence on PostgreSQL, a trigger on SQLite: see the
    # migration 5e7c1d9a3b42); ``timestamp`` is the wall time, for display.
    seq: Mapped[int | None] = mapped_column(BigInteger(), server_default=FetchedValue())

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
