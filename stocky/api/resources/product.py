"""A barcode looked up before an item is made (StockyWeb's New item form):
the same product service and guarded client a scan's lookup uses. A barcode
an item has already answers that item, so the form opens it instead of
making a second one."""

from __future__ import annotations

from stocky.api import keys
from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.core.barcodes import normalize_barcode
from stocky.core.errors import LookupFailed, NotFound
from stocky.core.outbound import OutboundError
from stocky.schemas.item import ProductOut


async def look_up_product(call: Call) -> ProductOut:
    barcode = normalize_barcode(call.request.match_info["barcode"])
    existing = await call.services.items.by_upc(barcode, call.actor)
    if existing is not None:
        return ProductOut(barcode=barcode, found=True, name=existing.name,
                          description=existing.description, item_id=existing.id)
    worker = call.request.app.get(keys.PRODUCTS)
    if worker is None:
        raise LookupFailed("The product lookup is not running here.")
    try:
        product = await worker.fetch(barcode)
    except OutboundError as failure:
        raise LookupFailed(f"The product service {failure.reason}.") from None
    if product is None:
        raise NotFound(f"The product service does not know {barcode}: type its name.")
    return ProductOut(barcode=barcode, found=True, name=product.name, description=product.description)


ROUTES = [
    Route("GET", "/product/{barcode}", look_up_product, Policy.MEMBER,
          "What the product service says of a barcode (the item that has it already, if any)",
          "item", response=ProductOut, errors=(404, 422, 502)),
]
