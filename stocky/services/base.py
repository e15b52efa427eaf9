from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stocky.core.errors import Conflict, InvalidInput, NotFound
from stocky.core.events import Event, EventBus, Op
from stocky.db.engine import Database
from stocky.schemas.actor import Actor
from stocky.services.permissions import Action, check

log = logging.getLogger("stocky.services")
T = TypeVar("T")


@dataclass
class UnitOfWork:
    """One write transaction and the events it will publish once committed."""

    session: Session
    events: list[Event] = field(default_factory=list)
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def emit(self, entity: str, id_: object, op: Op, **data: object) -> None:
        self.events.append(Event(entity=entity, id=str(id_), op=op, data=dict(data)))

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` only once the change is committed (a log line, say)."""
        self._after_commit.append(action)

    def log(self, logger: logging.Logger, level: int, message: str, *args: object, source: str | None = None) -> None:
        extra = {"source": source} if source else None
        self.after_commit(lambda: logger.log(level, message, *args, extra=extra))


# PostgreSQL's SQLSTATEs: its messages come in the server's language
# (lc_messages), SQLite's only ever in English.
UNIQUE_VIOLATION, FOREIGN_KEY_VIOLATION = "23505", "23503"


def integrity_error(error: IntegrityError) -> Exception:
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    text = str(error.orig).lower()
    if state == UNIQUE_VIOLATION or "unique" in text or "duplicate" in text:
        return Conflict("That conflicts with data that already exists.")
    if state == FOREIGN_KEY_VIOLATION or "foreign key" in text:
        return NotFound("Something this refers to does not exist (any more).")
    return InvalidInput("That value is not allowed here.")


class Service:
    def __init__(self, db: Database, bus: EventBus) -> None:
        self.db = db
        self.bus = bus

    async def write(
        self,
        actor: Actor | None,
        action: Action | None,
        change: Callable[[UnitOfWork], T],
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> T:
        """``change(work)`` in one transaction on the writer thread, once the
        permission table allowed ``actor`` to do ``action`` in that same
        transaction: all of it commits or none of it; what it emitted is
        published once committed, and ``on_failure`` hears of a refusal even
        when the caller stopped waiting. ``actor`` and ``action`` are None only
        where the change identifies and checks its own account (a scan)."""

        def unit(session: Session) -> tuple[UnitOfWork, T]:
            work = UnitOfWork(session)
            if action is not None:
                check(session, actor, action)
            try:
                result = change(work)
                session.flush()  # here, so that a broken rule surfaces below
            except IntegrityError as error:
                # The checks before a write give the friendly message; this
                # catches the race a second process can still win, and any
                # rule the database holds that a check missed.
                raise integrity_error(error) from error
            return work, result

        done = self.db.write(unit)
        # Published from the future's callback, so a committed change reaches
        # the bus even when the caller stopped waiting (a client went away).
        done.add_done_callback(self._publish)
        if on_failure is not None:
            done.add_done_callback(lambda future: _report_failure(future, on_failure))
        _, result = await asyncio.shield(done)
        return result

    def _publish(self, done: asyncio.Future[tuple[UnitOfWork, object]]) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        work, _ = done.result()
        self.bus.publish_all(work.events)
        for action in work._after_commit:
            action()

    async def read(self, actor: Actor, action: Action, query: Callable[[Session], T]) -> T:
        """``query(session)`` in a read transaction on a reader thread, once
        the permission table allowed ``actor`` to do ``action`` in it."""

        def checked(session: Session) -> T:
            check(session, actor, action)
            return query(session)

        return await self.db.read(checked)


def _report_failure(done: asyncio.Future, on_failure: Callable[[BaseException], None]) -> None:
    if done.cancelled() or (error := done.exception()) is None:
        return
    try:
        on_failure(error)
    except Exception:
        log.exception("Reporting a failed change failed")
