from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, String, cast, func, or_
from sqlalchemy.ext.asyncio import AsyncSession

from stocky.core.errors import NotFound

T = TypeVar("T")


async def get_or_404(session: AsyncSession, model: type[T], id_: uuid.UUID, what: str) -> T:
    row = await session.get(model, id_)
    if row is None:
        raise NotFound(f"No {what} with id {id_}.", id=str(id_))
    return row


def like_pattern(text: str) -> str:
    """A case-folded ``LIKE`` pattern matching ``text`` anywhere, wildcards escaped."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matches_any(text: str, *columns: Any) -> ColumnElement[bool]:
    """Case-insensitive substring match on any of ``columns`` (ids included)."""
    pattern = like_pattern(text)
    return or_(*(func.lower(cast(column, String)).like(pattern, escape="\\") for column in columns))
