from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from stocky.models.base import Base, IdMixin
from stocky.models.types import GUID, UTCDateTime, utcnow


class WebSession(IdMixin, Base):
    """A browser's long sign-in: the hash of its current refresh token (the
    cookie), the one it replaced (to tell a lost answer from a stolen token)
    and the user's token version when it began, so a new password or a
    deactivation ends it. Deleting the row signs that browser out."""

    __tablename__ = "web_session"

    user_id: Mapped[uuid.UUID] = mapped_column(
        GUID(), ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    previous_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    token_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    rotated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
