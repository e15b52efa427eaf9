from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from stocky.core.vocabulary import ROLES
from stocky.models.base import Base, IdMixin, TimestampMixin, one_of


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "user"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="role"),)

    username: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # SHA-256 of the key; the key itself is shown once and never stored.
    api_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    api_key_prefix: Mapped[str | None] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(50))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped when the password changes or the user is deactivated; tokens
    # carry the version they were issued under and die when it moves on.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
