from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from stocky.models.base import Base, IdMixin
from stocky.models.types import GUID, UTCDateTime, utcnow


class WebSession(IdMixin, Base):
    """A browser's long sign-in, one family of refresh tokens: the hash of
    its current token (the cookie), the one it replaced (two tabs refreshing
    at once both show it), and the user's token version when it began, so a
    new password or a deactivation ends it. Deleting the row signs that
    browser out."""

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


class RetiredToken(Base):
    """A refresh token its family has moved past. Shown again, it can only
    be a copy: the whole family ends (the rows go with it)."""

    __tablename__ = "web_session_retired"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        GUID(), ForeignKey("web_session.id", ondelete="CASCADE"), index=True
    )
