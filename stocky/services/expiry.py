"""Use soon: the dated lots listed by date, and the expiry alerts.

A Warning alert is raised once per lot as it comes within
``STOCKY_EXPIRY_WARN_DAYS`` of its date ("soon") and once when the date has
passed ("expired"). The lot row remembers the last state announced
(``lot.warned``), in the same transaction as the alert, so no state is
announced twice, whatever restarts in between. The worker checks at start,
every hour, and a second after stock or lots changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy.orm import Session

from stocky.core.dates import spoken
from stocky.core.errors import StorageFault
from stocky.core.events import EventBus
from stocky.crud import lot as crud
from stocky.models import Item, Location, Lot
from stocky.schemas.actor import SYSTEM, Actor
from stocky.schemas.common import Page
from stocky.schemas.item import LotOut
from stocky.services.alerts import raise_alert
from stocky.services.base import Service, UnitOfWork
from stocky.services.permissions import Action
from stocky.services.stock import item_label

log = logging.getLogger("stocky.expiry")

CHECK_EVERY = 3600.0  # seconds: a date moves once a day, an hour late is on time
SETTLE = 1.0  # seconds after a change of stock or lots before its check
# The events that may bring a lot into the window (a tuple: an odd entity
# of any type compares without raising).
WATCHED = ("sku", "lot")
MAX_PAGE = 500


class LotService(Service):
    async def expiring(
        self, actor: Actor, within_days: int | None = None, limit: int = 100, offset: int = 0
    ) -> Page[LotOut]:
        """Dated lots up to ``within_days`` from today (all when None),
        expired first."""
        today = date.today()
        until = today + timedelta(days=within_days) if within_days is not None else None

        def query(session: Session) -> Page[LotOut]:
            rows, total = crud.dated_until(session, until, min(limit, MAX_PAGE), offset)
            return Page[LotOut](data=[_lot_out(lot, item, place, today) for lot, item, place in rows], total=total)

        return await self.read(actor, Action.INVENTORY_READ, query)

    async def announce_expiry(self, warn_days: int, actor: Actor = SYSTEM, today: date | None = None) -> int:
        """Raise the alerts that are due; returns how many."""
        today = today or date.today()
        until = today + timedelta(days=warn_days)
        # Most checks (after every change of stock) find nothing: they only read,
        # under the right the writing needs.
        due = await self.read(actor, Action.INVENTORY_CHANGE, lambda session: crud.any_due(session, today, until))
        if not due:
            return 0

        def change(work: UnitOfWork) -> int:
            raised = 0
            for lot, item, place in crud.to_announce(work.session, until):
                state = "expired" if lot.best_before < today else "soon"
                if lot.warned == state:
                    continue
                raise_alert(work, "Warning", _message(lot, item, place, today, state))
                lot.warned = state
                raised += 1
            return raised

        return await self.write(actor, Action.INVENTORY_CHANGE, change)


def _lot_out(lot: Lot, item: Item, place: Location, today: date) -> LotOut:
    return LotOut(
        id=lot.id, sku_id=lot.sku_id, item_id=item.id, item_name=item.name,
        location_id=place.id, location_name=place.name, best_before=lot.best_before,
        quantity=lot.quantity, days_left=(lot.best_before - today).days,
    )


def _message(lot: Lot, item: Item, place: Location, today: date, state: str) -> str:
    units = f"{lot.quantity} × {item_label(item)} in {place.name}"
    if state == "expired":
        return f"Expired: {units}, best before {spoken(lot.best_before)}."
    days = (lot.best_before - today).days
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return f"Use soon: {units}, best before {spoken(lot.best_before)} ({when})."


class ExpiryWorker:
    """Checks at start, every ``every`` seconds, and ``settle`` seconds after
    stock or lots changed on ``bus`` (a burst of scans makes one check), so a
    lot dated within the warning window is announced at once, not within the
    hour. A failed check is logged and tried again at the next one."""

    def __init__(
        self,
        check: Callable[[], object],
        every: float = CHECK_EVERY,
        bus: EventBus | None = None,
        settle: float = SETTLE,
    ) -> None:
        self._check = check
        self._every = every
        self._bus = bus
        self._settle = settle
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._bus is not None:
            self._unsubscribe = self._bus.subscribe(self._heard)
        self._task = asyncio.create_task(self._run(), name="stocky-expiry")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # As the lookup worker's: whatever the task ended with, it has ended.
            await asyncio.gather(task, return_exceptions=True)

    def _heard(self, event: object) -> None:
        # Called inside the bus's publish: only notes that a check is wanted.
        # Whatever the event looks like, this neither blocks nor raises.
        if getattr(event, "entity", None) not in WATCHED or self._changed.is_set() or self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing
            self._loop.call_soon_threadsafe(self._changed.set)

    async def _run(self) -> None:
        while True:
            try:
                await self._check()
            except asyncio.CancelledError:
                raise
            except StorageFault as fault:
                # Logged once for its whole burst (storage_report), as every refused write is.
                log.debug("Checking best-before dates was not saved: %s", fault.message)
            except Exception:
                log.exception("Checking best-before dates failed; trying again at the next check")
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a
            # cancel that arrives as the event is set (a change during stop),
            # and the worker would then sleep out the hour instead of ending.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._every):
                    await self._changed.wait()
            if self._changed.is_set():
                await asyncio.sleep(self._settle)  # let the rest of a burst arrive
                self._changed.clear()  # changes from here on ask for the next check
