from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from stocky.crud.common import same_folded
from stocky.models import User


def all(session: Session, role: str | None = None) -> Sequence[User]:
    query = select(User).order_by(func.lower(User.username))
    if role:
        query = query.where(User.role == role)
    return session.scalars(query).all()


def by_username(session: Session, username: str) -> User | None:
    """Case-insensitive, "JÖRG" included (Python folds what SQLite cannot);
    a household has a handful of users."""
    for user in session.scalars(select(User)):
        if same_folded(user.username, username):
            return user
    return None


_BY_KEY_HASH = select(User).where(User.api_key_hash == bindparam("key_hash"))  # every request with a key


def by_key_hash(session: Session, key_hash: str) -> User | None:
    return session.scalar(_BY_KEY_HASH, {"key_hash": key_hash})


def active_admin_count(session: Session) -> int:
    count = session.scalar(
        select(func.count()).select_from(User).where(User.role == "Admin", User.is_active.is_(True))
    )
    return int(count or 0)


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def by_device(session: Session, device_key: str) -> User | None:
    """The user bound to a typing scanner (``details["hid_device"]``), whatever
    its role or state now: a device an Admin deactivated stays refused rather
    than getting a fresh user. Compared in Python, as JSON paths differ
    between SQLite and PostgreSQL, and a household has a handful of users."""
    for user in all(session):
        if (user.details or {}).get("hid_device") == device_key:
            return user
    return None
