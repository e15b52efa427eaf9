from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from stocky.models import Alert


async def page(
    session: AsyncSession, acknowledged: bool | None, limit: int, offset: int
) -> tuple[Sequence[Alert], int]:
    query = select(Alert)
    if acknowledged is not None:
        query = query.where(Alert.is_acknowledged == acknowledged)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (
        await session.scalars(
            query.order_by(Alert.timestamp.desc(), Alert.id).limit(limit).offset(offset)
        )
    ).all()
    return rows, int(total or 0)


async def open_with_message(session: AsyncSession, message: str) -> Alert | None:
    return await session.scalar(
        select(Alert).where(Alert.message == message, Alert.is_acknowledged.is_(False)).limit(1)
    )


async def acknowledge_all(session: AsyncSession) -> list:
    result = await session.execute(
        update(Alert)
        .where(Alert.is_acknowledged.is_(False))
        .values(is_acknowledged=True)
        .returning(Alert.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())
