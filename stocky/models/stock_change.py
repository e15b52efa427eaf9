from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from stocky.core.vocabulary import CHANGE_SOURCES
from stocky.models.base import Base, IdMixin, one_of
from stocky.models.types import GUID, UTCDateTime, utcnow


class next_change_seq(FunctionElement[int]):  # noqa: N801 - used like an SQL function
    """The next journal number, taken by the database inside the INSERT:
    ``nextval`` of a sequence on PostgreSQL (several processes may write at
    once); on SQLite, where a default cannot be a query but writes are one
    at a time, one more than the largest so far (an index lookup)."""

    type = BigInteger()
    inherit_cache = True


@compiles(next_change_seq)
def _next_seq_by_max(_element: Any, _compiler: Any, **_kw: Any) -> str:
    return "(SELECT COALESCE(MAX(seq), 0) + 1 FROM stock_change)"


@compiles(next_change_seq, "postgresql")
def _next_seq_from_sequence(_element: Any, _compiler: Any, **_kw: Any) -> str:
    return "nextval('stock_change_seq')"


class StockChange(IdMixin, Base):
    """The journal: one row per quantity change, written in the same
    transaction as the change. It is the item's history, the basis of
    "undo last scan", and what makes a repeated ``scan_id`` count once.

    Rows written as one change share a ``group_id``: a move is a row out of
    one place and a row into another, for each item it moved (one SKU, or
    everything in a place). Undoing any row of a group undoes all of them,
    in one transaction (stocky/services/undo.py)."""

    __tablename__ = "stock_change"
    # ``seq`` is set by the database in the INSERT: not read back with
    # each insert, only when asked for.
    __mapper_args__ = {"eager_defaults": False}
    __table_args__ = (
        CheckConstraint(one_of("source", CHANGE_SOURCES), name="source"),
        CheckConstraint("quantity_after >= 0", name="quantity_after_not_negative"),
        # NULLs are distinct, so only changes that carry a scan id are unique.
        UniqueConstraint("user_id", "scan_id"),
        Index("ix_stock_change_seq", "seq", unique=True),
        Index("ix_stock_change_item_id_seq", "item_id", "seq"),
        # Only grouped rows are indexed: a scan's row (no group) costs nothing more.
        Index(
            "ix_stock_change_group_id",
            "group_id",
            sqlite_where=text("group_id IS NOT NULL"),
            postgresql_where=text("group_id IS NOT NULL"),
        ),
    )

    # The order the changes happened in, given by the database as each row
    # is written (see the migration 5e7c1d9a3b42, which also numbers rows
    # inserted without it); ``timestamp`` is the wall time, for display.
    seq: Mapped[int | None] = mapped_column(BigInteger(), default=next_change_seq())

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
    # Which lots the change touched, as ``[[best_before or None, delta], ...]``
    # (None: undated units); null when no dated unit was involved. With it
    # an undo can put back or take away exactly the units this change moved.
    lots: Mapped[list | None] = mapped_column(JSON())
    # The change this row is part of (see the class); null for a change of one row.
    group_id: Mapped[uuid.UUID | None] = mapped_column(GUID())
