from __future__ import annotations

from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.schemas.alert import AlertCreate, AlertOut, AlertUpdate
from stocky.schemas.common import Output, Page
from stocky.schemas.queries import AlertQuery


class Acknowledged(Output):
    acknowledged: int


async def list_alerts(call: Call) -> Page[AlertOut]:
    q: AlertQuery = call.query
    return await call.services.alerts.list(call.actor, q.acknowledged, q.limit, q.offset)


async def create_alert(call: Call) -> AlertOut:
    return await call.services.alerts.create(call.body, call.actor)


async def get_alert(call: Call) -> AlertOut:
    return await call.services.alerts.get(call.path_id("alert"), call.actor)


async def update_alert(call: Call) -> AlertOut:
    return await call.services.alerts.update(call.path_id("alert"), call.body, call.actor)


async def delete_alert(call: Call) -> None:
    await call.services.alerts.delete(call.path_id("alert"), call.actor)


async def acknowledge_all(call: Call) -> Acknowledged:
    return Acknowledged(acknowledged=await call.services.alerts.acknowledge_all(call.actor))


ROUTES = [
    Route("GET", "/alert", list_alerts, Policy.READ, "Alerts, newest first", "alert",
          query=AlertQuery, response=Page[AlertOut]),
    Route("POST", "/alert", create_alert, Policy.MEMBER, "Raise an alert", "alert",
          body=AlertCreate, response=AlertOut, status=201),
    Route("POST", "/alert/acknowledge", acknowledge_all, Policy.MEMBER,
          "Acknowledge every open alert", "alert", response=Acknowledged),
    Route("GET", "/alert/{id}", get_alert, Policy.READ, "An alert", "alert", response=AlertOut),
    Route("PATCH", "/alert/{id}", update_alert, Policy.MEMBER,
          "Acknowledge an alert (or reopen it)", "alert", body=AlertUpdate, response=AlertOut),
    Route("DELETE", "/alert/{id}", delete_alert, Policy.MEMBER, "Delete an alert", "alert",
          status=204),
]
