from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from stocky.crud.common import same_folded
from stocky.models import User


async def all(session: AsyncSession, role: str | None = None) -> Sequence[User]:
    query = select(User).order_by(func.lower(User.username))
    if role:
        query = query.where(User.role == role)
    return (await session.scalars(query)).all()


async def by_username(session: AsyncSession, username: str) -> User | None:
    """Case-insensitive, "JÖRG" included (Python folds what SQLite cannot);
    a household has a handful of users."""
    for user in await session.scalars(select(User)):
        if same_folded(user.username, username):
            return user
    return None


async def by_key_hash(session: AsyncSession, key_hash: str) -> User | None:
    return await session.scalar(select(User).where(User.api_key_hash == key_hash))


async def active_admin_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(User).where(User.role == "Admin", User.is_active.is_(True))
    )
    return int(count or 0)


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)
