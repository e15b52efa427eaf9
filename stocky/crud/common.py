from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from stocky.core.errors import NotFound

T = TypeVar("T")


def get_or_404(
    session: Session, model: type[T], id_: uuid.UUID, what: str, *, lock: bool = False
) -> T:
    """The row, or ``NotFound``. ``lock`` reads it ``FOR UPDATE`` on
    PostgreSQL (SQLite has no row locks: its writers run one at a time)."""
    row = session.get(model, id_, with_for_update=True if lock else None)
    if row is None:
        raise NotFound(f"No {what} with id {id_}.", id=str(id_))
    return row


def like_pattern(text: str) -> str:
    """A case-folded ``LIKE`` pattern matching ``text`` anywhere, wildcards escaped."""
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains_folded(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` (already case-folded text) contains ``text``, case-insensitively."""
    return column.like(like_pattern(text), escape="\\")


def same_folded(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()
