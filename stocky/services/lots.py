"""The lot rules (DESIGN.md section 13): which dated units a change of stock
touches. The SKU's quantity stays the one count; these run inside the same
unit of work as its change (stocky/services/stock.py) and never commit.

Order matters to the database's own check (a SKU's lots never exceed it,
checked after each statement): units leave the lots before the SKU shrinks,
and join them after it grew.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy.orm import Session

from stocky.core.dates import spoken
from stocky.core.errors import Conflict
from stocky.crud import lot as crud

# Units a change touched: (best-before date, or None for undated units; how many).
Parts = list[tuple[date | None, int]]

# How long after an add its units may still be dated as "the units just added".
DATING_WINDOW = timedelta(minutes=10)


def take(session: Session, sku_id: uuid.UUID, count: int, prefer: date | None = None) -> Parts:
    """Take ``count`` units out of the SKU's lots: the ``prefer``red date's
    first (a scanned GS1 date), then the earliest date, undated units last.
    What the lots cannot give is undated; the SKU's own update then decides
    whether there are that many at all."""
    lots = list(crud.held(session, sku_id))
    if prefer is not None:
        lots.sort(key=lambda lot: lot.best_before != prefer)  # stable: the rest keep their order
    parts: Parts = []
    for lot_id, best_before, quantity in lots:
        if count == 0:
            break
        taken = min(count, quantity)
        crud.shrink(session, lot_id, taken)
        parts.append((best_before, taken))
        count -= taken
    if count:
        parts.append((None, count))
    return parts


def put(session: Session, sku_id: uuid.UUID, parts: Parts) -> None:
    for best_before, count in parts:
        if best_before is not None:
            crud.grow(session, sku_id, best_before, count)


def journal(parts: Parts, sign: int) -> list | None:
    """``stock_change.lots`` for these parts: None when no unit had a date,
    so an undated change writes nothing more than before."""
    if all(best_before is None for best_before, _ in parts):
        return None
    return [[best_before.isoformat() if best_before else None, sign * count] for best_before, count in parts]


def redate_one(session: Session, sku_id: uuid.UUID, sku_quantity: int, was: date | None, to: date) -> None:
    """Give one unit of the SKU dated ``was`` (None: undated) the date ``to``."""
    if was == to:
        return
    if was is None:
        if sku_quantity - crud.dated_total(session, sku_id) < 1:
            raise Conflict("That unit is no longer there to date.")
    else:
        lot_id = next((lot.id for lot in crud.held(session, sku_id) if lot.best_before == was), None)
        if lot_id is None or not crud.shrink(session, lot_id, 1):
            raise Conflict("That unit is no longer there to date.")
    crud.grow(session, sku_id, to, 1)


def recorded(journal_lots: list | None, count: int) -> Parts:
    """The units a journal row's ``lots`` names, as positive counts (a row
    without dates touched ``count`` undated units)."""
    parts = [(date.fromisoformat(day) if day else None, abs(n)) for day, n in journal_lots or ()]
    return parts or [(None, count)]


def take_back(session: Session, sku_id: uuid.UUID, sku_quantity: int, parts: Parts) -> Parts:
    """Take out the very units ``parts`` names (undoing the add that brought
    them): each dated unit from its own lot, undated ones from the undated
    rest. Raises ``Conflict``, having taken nothing, when some are no longer
    there as they were (eaten, moved, dated since): other units in their
    place would make the undo no inverse."""
    wanted: dict[date | None, int] = {}
    for best_before, count in parts:
        wanted[best_before] = wanted.get(best_before, 0) + count
    lots = {lot.best_before: lot for lot in crud.held(session, sku_id)}
    for best_before, count in wanted.items():
        if best_before is None:
            here = max(sku_quantity - crud.dated_total(session, sku_id), 0)
        else:
            here = lots[best_before].quantity if best_before in lots else 0
        if here < count:
            raise Conflict(_gone(best_before, count, here))
    for best_before, count in wanted.items():
        if best_before is not None:
            crud.shrink(session, lots[best_before].id, count)
    return list(wanted.items())


def _gone(best_before: date | None, count: int, here: int) -> str:
    """Why the units an add brought cannot be taken back."""
    which = f"best before {spoken(best_before)}" if best_before is not None else "with no date"
    if count == 1:
        return f"the unit it added, {which}, is no longer there to take back."
    if here == 0:
        return f"the {count} units it added, {which}, are no longer there to take back."
    verb = "is" if here == 1 else "are"
    return f"only {here} of the {count} units it added, {which}, {verb} still there to take back."


def redated_journal(
    recorded: list | None, delta: int, was: date | None, to: date | None, count: int = 1
) -> list | None:
    """An add's ``stock_change.lots`` once ``count`` of its units dated
    ``was`` carry ``to`` (None: undated), so that the history names the date
    and undoing the add takes the units from the right lot. Unchanged when
    the add holds fewer such units."""
    parts = [(date.fromisoformat(d) if d else None, n) for d, n in (recorded or [[None, delta]])]
    index = next((i for i in reversed(range(len(parts))) if parts[i][0] == was and parts[i][1] >= count), None)
    if index is None:
        return recorded
    parts[index] = (was, parts[index][1] - count)
    joined = next((i for i, (day, _) in enumerate(parts) if day == to), None)
    if joined is None:
        parts.append((to, count))
    else:
        parts[joined] = (to, parts[joined][1] + count)
    return journal([(d, n) for d, n in parts if n], 1)
