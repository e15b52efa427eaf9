from __future__ import annotations

import logging
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stocky.core.security import mask_api_keys
from stocky.core.vocabulary import AlertSeverity
from stocky.crud import alert as crud
from stocky.crud.common import get_or_404
from stocky.models import Alert
from stocky.schemas.actor import Actor
from stocky.schemas.alert import AlertCreate, AlertOut, AlertUpdate
from stocky.schemas.common import Page, parse
from stocky.services.base import Service, UnitOfWork
from stocky.services.permissions import Action

log = logging.getLogger("stocky.alerts")

_LOG_LEVEL = {"Info": logging.INFO, "Warning": logging.WARNING, "Error": logging.ERROR}


class AlertService(Service):
    async def list(
        self, actor: Actor, acknowledged: bool | None = None, limit: int = 100, offset: int = 0
    ) -> Page[AlertOut]:
        def query(session: Session) -> Page[AlertOut]:
            rows, total = crud.page(session, acknowledged, limit, offset)
            return Page[AlertOut](data=[AlertOut.model_validate(r) for r in rows], total=total)

        return await self.read(actor, Action.INVENTORY_READ, query)

    async def unacknowledged_count(self, actor: Actor) -> int:
        query = select(func.count()).select_from(Alert).where(Alert.is_acknowledged.is_(False))
        return int(await self.read(actor, Action.INVENTORY_READ, lambda session: session.scalar(query)) or 0)

    async def get(self, alert_id: uuid.UUID, actor: Actor) -> AlertOut:
        return await self.read(
            actor,
            Action.INVENTORY_READ,
            lambda session: AlertOut.model_validate(get_or_404(session, Alert, alert_id, "alert"))
        )

    async def create(self, data: AlertCreate | dict, actor: Actor) -> AlertOut:
        data = parse(AlertCreate, data)
        alert = await self.write(
            actor, Action.INVENTORY_CHANGE, lambda work: raise_alert(work, data.severity, data.message)
        )
        return AlertOut.model_validate(alert)

    async def update(self, alert_id: uuid.UUID, data: AlertUpdate | dict, actor: Actor) -> AlertOut:
        data = parse(AlertUpdate, data)

        def change(work: UnitOfWork) -> Alert:
            alert = get_or_404(work.session, Alert, alert_id, "alert")
            alert.is_acknowledged = data.is_acknowledged
            work.emit("alert", alert.id, "updated")
            return alert

        return AlertOut.model_validate(await self.write(actor, Action.INVENTORY_CHANGE, change))

    async def acknowledge(self, alert_id: uuid.UUID, actor: Actor) -> AlertOut:
        return await self.update(alert_id, AlertUpdate(is_acknowledged=True), actor)

    async def acknowledge_all(self, actor: Actor) -> int:
        def change(work: UnitOfWork) -> int:
            ids = crud.acknowledge_all(work.session)
            for id_ in ids:
                work.emit("alert", id_, "updated")
            return len(ids)

        return await self.write(actor, Action.INVENTORY_CHANGE, change)

    async def delete(self, alert_id: uuid.UUID, actor: Actor) -> None:
        def change(work: UnitOfWork) -> None:
            work.session.delete(get_or_404(work.session, Alert, alert_id, "alert"))
            work.emit("alert", alert_id, "deleted")

        await self.write(actor, Action.INVENTORY_CHANGE, change)


def raise_alert(
    work: UnitOfWork, severity: AlertSeverity, message: str, *, once: bool = False
) -> Alert:
    """Add an alert inside ``work``. With ``once``, an identical alert still
    waiting to be acknowledged is returned instead of a second copy, so six
    cans scanned into the wrong shelf do not raise six alerts."""
    # An alert may quote what a person or a product service wrote: no API key in it.
    message = mask_api_keys(message)
    if once and (existing := crud.open_with_message(work.session, message)):
        return existing
    alert = Alert(severity=severity, message=message)
    work.session.add(alert)
    work.session.flush()
    work.emit("alert", alert.id, "created", severity=severity, message=message)
    work.log(log, _LOG_LEVEL[severity], "Alert: %s", message)
    return alert


def name_in_open_alerts(work: UnitOfWork, barcode: str | None, name: str | None) -> None:
    """A product named at last: its open alerts, raised while it was known
    only by its barcode, say its name from now on."""
    if not barcode or not name:
        return
    for alert in crud.open_mentioning(work.session, barcode):
        alert.message = mask_api_keys(alert.message.replace(barcode, name))
        work.emit("alert", alert.id, "updated", message=alert.message)
