from __future__ import annotations

from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.schemas.journal import StockChangeOut


async def undo_stock_change(call: Call) -> StockChangeOut:
    # Members and Admins undo any change, a scanner only its own: the service decides.
    return await call.services.undo.undo(call.path_id("stock change"), call.actor)


ROUTES = [
    Route("POST", "/stock-change/{id}/undo", undo_stock_change, Policy.SCAN,
          "Undo a stock change: its exact inverse, journalled (Member+, or the scanner that made it); "
          "a row of a move undoes the whole move, and the answer is that row's inverse",
          "sku", response=StockChangeOut, errors=(403, 404, 409)),
]
