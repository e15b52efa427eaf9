"""Typed application state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from stocky.api.limits import SocketLimits
    from stocky.api.routing import Route
    from stocky.https import Https
    from stocky.services.container import Services
    from stocky.services.lookup_worker import LookupWorker

SERVICES: web.AppKey[Services] = web.AppKey("services")
ROUTES: web.AppKey[dict[str, Route]] = web.AppKey("routes")
SOCKET_LIMITS: web.AppKey[SocketLimits] = web.AppKey("socket_limits")
SOCKETS: web.AppKey[dict[web.WebSocketResponse, web.Request]] = web.AppKey("sockets")
HTTPS: web.AppKey[Https] = web.AppKey("https")
PRODUCTS: web.AppKey[LookupWorker] = web.AppKey("products")  # the product lookup, when it runs
