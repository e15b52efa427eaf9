from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from stocky.crud.common import contains_folded
from stocky.models import Alert


def page(
    session: Session, acknowledged: bool | None, limit: int, offset: int
) -> tuple[Sequence[Alert], int]:
    query = select(Alert)
    if acknowledged is not None:
        query = query.where(Alert.is_acknowledged == acknowledged)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(
        query.order_by(Alert.timestamp.desc(), Alert.id).limit(limit).offset(offset)
    ).all()
    return rows, int(total or 0)


def open_with_message(session: Session, message: str) -> Alert | None:
    return session.scalar(
        select(Alert).where(Alert.message == message, Alert.is_acknowledged.is_(False)).limit(1)
    )


def open_mentioning(session: Session, text: str) -> list[Alert]:
    """Alerts still waiting to be acknowledged whose message contains ``text``."""
    query = select(Alert).where(contains_folded(func.lower(Alert.message), text), Alert.is_acknowledged.is_(False))
    return [alert for alert in session.scalars(query) if text in alert.message]


def acknowledge_all(session: Session) -> list:
    result = session.execute(
        update(Alert)
        .where(Alert.is_acknowledged.is_(False))
        .values(is_acknowledged=True)
        .returning(Alert.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())
