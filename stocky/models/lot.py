from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stocky.core.vocabulary import EXPIRY_STATES
from stocky.models.base import Base, IdMixin, one_of
from stocky.models.types import GUID


class Lot(IdMixin, Base):
    """The units of one SKU that share a best-before date. The SKU's
    quantity stays the one count; its lots say how many of those units carry
    which date, and never add up to more (a trigger on each database, made
    by the migration that made this table). The rest have no date."""

    __tablename__ = "lot"
    __table_args__ = (
        UniqueConstraint("sku_id", "best_before"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint(one_of("warned", EXPIRY_STATES), name="warned"),
    )

    sku_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("sku.id", ondelete="CASCADE"))
    best_before: Mapped[date] = mapped_column(Date(), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    # The last expiry alert raised for this lot ("soon", then "expired"), so
    # that no state is announced twice, whatever restarts in between.
    warned: Mapped[str | None] = mapped_column(String(10))
