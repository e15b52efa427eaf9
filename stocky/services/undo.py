"""Undo a stock change: the exact inverse, applied as a new journalled
change through the one stock path (DESIGN.md section 12). The journal row
of the inverse names the change it undoes (``scan_id`` ``undo:<id>``), so a
change is undone at most once. A change of several rows (a move, of one SKU
or of everything in a place: rows sharing ``group_id``) is undone whole,
whichever of its rows is named: each row gets its inverse, and the inverses
share a group of their own."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from stocky.core.errors import Conflict, PermissionDenied
from stocky.crud import item as item_crud
from stocky.crud.common import get_or_404
from stocky.models import Item, Location, StockChange
from stocky.models.types import utcnow
from stocky.schemas.actor import Actor
from stocky.schemas.journal import StockChangeOut
from stocky.services import lots
from stocky.services.base import Service, UnitOfWork
from stocky.services.permissions import Action, allows, check
from stocky.services.stock import change_stock, ensure_sku, item_label

log = logging.getLogger("stocky.stock")

UNDO_PREFIX = "undo:"
SCAN_UNDO_WINDOW = timedelta(minutes=10)


def undo_mark(change_id: uuid.UUID) -> str:
    return f"{UNDO_PREFIX}{change_id}"


def _undone(session: Session, change: StockChange) -> bool:
    return session.scalar(select(StockChange.id).where(StockChange.scan_id == undo_mark(change.id))) is not None


def may_undo(actor: Actor, change: StockChange) -> bool:
    """Members and Admins undo any change; a scanner only its own."""
    if allows(actor.role, Action.INVENTORY_CHANGE):
        return True
    return actor.role == "Scanner" and change.user_id is not None and change.user_id == actor.user_id


def undo_change(work: UnitOfWork, change: StockChange, actor: Actor) -> tuple[StockChange, str]:
    """Apply the inverse of ``change``, and of every row of its group when it
    has one (a move: each item's row out and row in); returns the inverse of
    ``change`` itself and what to say. All of it or, when one row can no
    longer be undone exactly, nothing: the ``Conflict`` ends the transaction."""
    if not may_undo(actor, change):
        raise PermissionDenied("Only a Member, an Admin or the scanner that made it can undo a change.")
    if change.scan_id and change.scan_id.startswith(UNDO_PREFIX):
        raise Conflict("That change was itself an undo: make the change again instead.")
    rows = _rows_of(work.session, change)
    group = uuid.uuid4() if change.group_id is not None else None
    if group is not None:
        # Its items locked in the order the change took them, so that the undo
        # queues behind (not deadlocks with) another move of the same items.
        for row in rows:
            item_crud.lock(work.session, row.item_id)
    # Newest first: a move's units leave where they went before they return.
    inverses = {row.id: _invert(work, row, actor, group) for row in reversed(rows)}
    inverse, item = inverses[change.id]
    if group is None:
        message = f"Undone: {item_label(item)} in {inverse.location_name} is back to {inverse.quantity_after}"
    else:
        message = _group_undone([row for row, _ in inverses.values()])
    work.log(log, logging.INFO, "%s", message, source=actor.username)
    return inverse, message


def _rows_of(session: Session, change: StockChange) -> list[StockChange]:
    """``change`` and the rest of its group, in the order they were written."""
    if change.group_id is None:
        return [change]
    return list(session.scalars(
        select(StockChange).where(StockChange.group_id == change.group_id).order_by(StockChange.seq)
    ))


def _invert(work: UnitOfWork, change: StockChange, actor: Actor, group: uuid.UUID | None) -> tuple[StockChange, Item]:
    """The inverse of one journal row, journalled as its undo (in ``group``,
    the undo of a group's rows)."""
    item = get_or_404(work.session, Item, change.item_id, "item")
    item_crud.lock(work.session, item.id)  # two undos of one change queue here; the second sees the first
    if _undone(work.session, change):
        raise Conflict("That change was already undone.")
    location = work.session.get(Location, change.location_id) if change.location_id else None
    if location is None:
        raise Conflict(f"Cannot undo: {change.location_name} no longer exists.")
    sku, _ = ensure_sku(work, item, location)
    units = lots.recorded(change.lots, abs(change.delta))
    try:
        # The inverse touches the very dated units the change did.
        parts = lots.take_back(work.session, sku.id, sku.quantity, units) if change.delta > 0 else units
        inverse = change_stock(work, sku, item, location, -change.delta, actor, undo_mark(change.id), parts=parts)
    except Conflict as error:
        # A group spans several items and places: say which one stands in the way.
        where = f"{item_label(item)} in {location.name}: " if group is not None else ""
        raise Conflict(f"Cannot undo: {where}{error.message}") from error
    inverse.group_id = group
    return inverse, item


def _group_undone(inverses: list[StockChange]) -> str:
    """"Undone: 7 units of 3 items are back in Freezer", for a group's undo."""
    back = [row for row in inverses if row.delta > 0]
    units = sum(row.delta for row in back)
    items = len({row.item_id for row in back})
    places = ", ".join(dict.fromkeys(row.location_name for row in back))
    return (f"Undone: {units} unit{'s' if units != 1 else ''} of {items} item{'s' if items != 1 else ''} "
            f"{'are' if units != 1 else 'is'} back in {places}")


def last_scan_to_undo(work: UnitOfWork, scanner_id: uuid.UUID) -> StockChange:
    """The scanner's own newest change of the last ten minutes, not yet undone."""
    since = utcnow() - SCAN_UNDO_WINDOW
    latest = work.session.scalars(
        select(StockChange)
        .where(StockChange.user_id == scanner_id, StockChange.timestamp >= since)
        .order_by(StockChange.timestamp.desc())
        .limit(20)
    )
    for change in latest:
        if change.scan_id and change.scan_id.startswith(UNDO_PREFIX):
            continue
        if not _undone(work.session, change):
            return change
    raise Conflict("This scanner has made no change in the last 10 minutes that is left to undo.")


class UndoService(Service):
    async def undo(self, change_id: uuid.UUID, actor: Actor) -> StockChangeOut:
        """Undo one journalled change; returns the inverse change."""

        def change(work: UnitOfWork) -> StockChange:
            # A scanner may undo its own changes (may_undo); everyone else needs
            # the right to change stock. Checked against the account as stored now.
            check(work.session, actor, Action.SCAN if actor.role == "Scanner" else Action.INVENTORY_CHANGE)
            original = get_or_404(work.session, StockChange, change_id, "stock change")
            inverse, _message = undo_change(work, original, actor)
            return inverse

        inverse = StockChangeOut.model_validate(await self.write(None, None, change))
        # Named as the history names it: the stored account that made it.
        return inverse.model_copy(update={"username": actor.username if actor.user_id else None})
