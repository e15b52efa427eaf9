from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stocky.models.base import Base, IdMixin, TimestampMixin
from stocky.models.types import GUID


class Sku(IdMixin, TimestampMixin, Base):
    """How many of one item sit in one location."""

    __tablename__ = "sku"
    __table_args__ = (
        UniqueConstraint("item_id", "location_id"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("item.id", ondelete="CASCADE"))
    location_id: Mapped[uuid.UUID] = mapped_column(
        GUID(), ForeignKey("location.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer, default=0)
