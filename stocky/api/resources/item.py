from __future__ import annotations

from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.schemas.common import Page
from stocky.schemas.item import ItemCreate, ItemDetail, ItemOut, ItemUpdate, ShoppingItem
from stocky.schemas.journal import StockChangeOut
from stocky.schemas.queries import HistoryQuery, ItemQuery


class ItemList(Page[ItemOut | ShoppingItem]):
    """Items; with ``stock=shopping`` each also says how many ``to_buy``."""


async def list_items(call: Call) -> Page[ItemOut] | Page[ShoppingItem]:
    q: ItemQuery = call.query
    return await call.services.items.list(call.actor, q.search, q.stock, q.limit, q.offset)


async def create_item(call: Call) -> ItemOut:
    return await call.services.items.create(call.body, call.actor)


async def get_item(call: Call) -> ItemDetail:
    return await call.services.items.get(call.path_id("item"), call.actor)


async def update_item(call: Call) -> ItemOut:
    return await call.services.items.update(call.path_id("item"), call.body, call.actor)


async def delete_item(call: Call) -> None:
    await call.services.items.delete(call.path_id("item"), call.actor)


async def refresh_item(call: Call) -> ItemOut:
    return await call.services.items.request_lookup(call.path_id("item"), call.actor)


class History(Page[StockChangeOut]):
    pass


async def item_history(call: Call) -> History:
    changes = await call.services.items.history(call.path_id("item"), call.actor, call.query.limit)
    return History(data=changes, total=len(changes))


ROUTES = [
    Route("GET", "/item", list_items, Policy.READ, "Search the inventory (stock=shopping: the shopping list, with to_buy)", "item",
          query=ItemQuery, response=ItemList),
    Route("POST", "/item", create_item, Policy.MEMBER, "Create an item", "item",
          body=ItemCreate, response=ItemOut, status=201, errors=(409,)),
    Route("GET", "/item/{id}", get_item, Policy.READ, "An item with its stock per location",
          "item", response=ItemDetail),
    Route("PATCH", "/item/{id}", update_item, Policy.MEMBER, "Change an item", "item",
          body=ItemUpdate, response=ItemOut, errors=(409,)),
    Route("DELETE", "/item/{id}", delete_item, Policy.ITEM_DELETE,
          "Delete an item (only at zero stock; its stock entries go too)", "item",
          status=204, errors=(409,)),
    Route("POST", "/item/{id}/refresh", refresh_item, Policy.MEMBER,
          "Look the product up again in the background", "item",
          response=ItemOut, status=202, errors=(409,)),
    Route("GET", "/item/{id}/history", item_history, Policy.READ,
          "The item's stock changes, newest first", "item",
          query=HistoryQuery, response=History),
]
