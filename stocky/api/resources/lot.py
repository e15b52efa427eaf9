from __future__ import annotations

from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.schemas.common import Page
from stocky.schemas.item import LotOut
from stocky.schemas.queries import LotQuery


async def list_lots(call: Call) -> Page[LotOut]:
    q: LotQuery = call.query
    return await call.services.lots.expiring(call.actor, q.expiring_within_days, q.limit, q.offset)


ROUTES = [
    Route("GET", "/lot", list_lots, Policy.READ,
          "Use soon: dated stock by best-before date, expired first", "lot",
          query=LotQuery, response=Page[LotOut]),
]
