from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stocky.core.vocabulary import ALERT_SEVERITIES
from stocky.models.base import Base, IdMixin, one_of
from stocky.models.types import UTCDateTime, utcnow


class Alert(IdMixin, Base):
    __tablename__ = "alert"
    __table_args__ = (CheckConstraint(one_of("severity", ALERT_SEVERITIES), name="severity"),)

    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    severity: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    is_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
