from __future__ import annotations

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stocky.core.vocabulary import STORAGE_TYPES
from stocky.models.base import Base, IdMixin, TimestampMixin, one_of


class Location(IdMixin, TimestampMixin, Base):
    __tablename__ = "location"
    __table_args__ = (CheckConstraint(one_of("storage_type", STORAGE_TYPES), name="storage_type"),)

    name: Mapped[str] = mapped_column(String(255), unique=True)
    storage_type: Mapped[str | None] = mapped_column(String(50))
    details: Mapped[str | None] = mapped_column(Text)
