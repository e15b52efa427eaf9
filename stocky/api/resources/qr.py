from __future__ import annotations

from aiohttp import web

from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.core import qr
from stocky.core.pools import QR_CODES
from stocky.schemas.commands import ScanCommand
from stocky.schemas.queries import QrQuery


async def _image(call: Call, text: str, name: str) -> web.Response:
    fmt = call.query.format
    data = await QR_CODES.run(qr.render, text, fmt)
    return web.Response(
        body=data,
        content_type=qr.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'inline; filename="{name}.{fmt}"'},
    )


async def item_qr(call: Call) -> web.Response:
    """An item's label: its id, which a scan treats as the item's barcode."""
    item = await call.services.items.get(call.path_id("item"), call.actor)
    return await _image(call, str(item.id), f"item-{item.id}")


async def location_qr(call: Call) -> web.Response:
    """A location's label: scanning it sets the scanner's location."""
    location = await call.services.locations.get(call.path_id("location"), call.actor)
    command = ScanCommand(command="set_location", payload=str(location.id))
    return await _image(call, command.encode(), f"location-{location.id}")


async def command_qr(call: Call) -> web.Response:
    command: ScanCommand = call.body
    return await _image(call, command.encode(), f"{command.command}-{command.payload}")


_IMAGE = {"media_type": "image/png", "query": QrQuery, "errors": (429,)}

ROUTES = [
    Route("GET", "/qr/item/{id}", item_qr, Policy.READ, "QR label of an item", "qr", **_IMAGE),
    Route("GET", "/qr/location/{id}", location_qr, Policy.READ,
          "QR label of a location (holds the set_location command)", "qr", **_IMAGE),
    Route("POST", "/qr/command", command_qr, Policy.READ,
          "QR card for a scanner command (associate_ui, show_view, set_mode, set_location)",
          "qr", body=ScanCommand, **_IMAGE),
]
