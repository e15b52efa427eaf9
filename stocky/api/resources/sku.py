from __future__ import annotations

from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.schemas.common import Page
from stocky.schemas.queries import SkuQuery
from stocky.schemas.sku import (
    SkuAdjust,
    SkuAdjusted,
    SkuCreate,
    SkuDate,
    SkuMove,
    SkuMoved,
    SkuOut,
    SkuUpdate,
)


async def list_skus(call: Call) -> Page[SkuOut]:
    q: SkuQuery = call.query
    return await call.services.skus.list(call.actor, q.item_id, q.location_id, q.limit, q.offset)


async def create_sku(call: Call) -> SkuOut:
    return await call.services.skus.create(call.body, call.actor)


async def get_sku(call: Call) -> SkuOut:
    return await call.services.skus.get(call.path_id("stock entry"), call.actor)


async def update_sku(call: Call) -> SkuOut:
    return await call.services.skus.set_quantity(call.path_id("stock entry"), call.body, call.actor)


async def delete_sku(call: Call) -> None:
    await call.services.skus.delete(call.path_id("stock entry"), call.actor)


async def adjust_sku(call: Call) -> SkuAdjusted:
    result = await call.services.skus.adjust(call.path_id("stock entry"), call.body, call.actor)
    return SkuAdjusted(**result.sku.model_dump(), change_id=result.change_id)


async def date_sku(call: Call) -> SkuOut:
    return await call.services.skus.date_units(call.path_id("stock entry"), call.body, call.actor)


async def move_sku(call: Call) -> SkuMoved:
    return await call.services.skus.move(call.path_id("stock entry"), call.body, call.actor)


ROUTES = [
    Route("GET", "/sku", list_skus, Policy.READ, "Stock entries (item x location)", "sku",
          query=SkuQuery, response=Page[SkuOut]),
    Route("POST", "/sku", create_sku, Policy.MEMBER, "Put an item in a location", "sku",
          body=SkuCreate, response=SkuOut, status=201, errors=(404, 409)),
    Route("GET", "/sku/{id}", get_sku, Policy.READ, "A stock entry", "sku", response=SkuOut),
    Route("PATCH", "/sku/{id}", update_sku, Policy.MEMBER, "Set the quantity", "sku",
          body=SkuUpdate, response=SkuOut),
    Route("DELETE", "/sku/{id}", delete_sku, Policy.MEMBER,
          "Delete a stock entry (only at quantity 0)", "sku", status=204, errors=(409,)),
    Route("POST", "/sku/{id}/adjust", adjust_sku, Policy.MEMBER,
          "Add or remove atomically; never below zero", "sku",
          body=SkuAdjust, response=SkuAdjusted, errors=(409,)),
    Route("POST", "/sku/{id}/date", date_sku, Policy.MEMBER,
          "Date undated units, or re-date units of from_best_before to another date "
          "or none (the count stays)", "sku",
          body=SkuDate, response=SkuOut, errors=(409,)),
    Route("POST", "/sku/{id}/move", move_sku, Policy.MEMBER,
          "Move some of the stock to another location, atomically", "sku",
          body=SkuMove, response=SkuMoved, errors=(409,)),
]
