from __future__ import annotations

from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.schemas.common import Page
from stocky.schemas.log import LogEntryOut
from stocky.schemas.queries import LogQuery


async def read_log(call: Call) -> Page[LogEntryOut]:
    q: LogQuery = call.query
    entries = call.services.logs.query(q.severity, q.search, q.limit)
    return Page[LogEntryOut](
        data=[LogEntryOut.model_validate(e, from_attributes=True) for e in entries],
        total=len(entries),
    )


ROUTES = [
    Route("GET", "/log", read_log, Policy.READ,
          "Recent events, newest first (severity is a minimum: WARN shows WARN and ERROR)",
          "log", query=LogQuery, response=Page[LogEntryOut]),
]
