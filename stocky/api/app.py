"""The application factory: builds routes and middlewares, does no I/O."""

from __future__ import annotations

from aiohttp import web

from stocky.api import keys, ws
from stocky.api.access_log import access_log_middleware
from stocky.api.errors import error_middleware
from stocky.api.headers import add_headers
from stocky.api.limits import SocketLimits
from stocky.api.resources import (
    alert,
    auth,
    connect,
    item,
    location,
    log,
    lot,
    product,
    qr,
    scanner,
    session,
    sku,
    stock_change,
    system,
    user,
)
from stocky.api.routing import Route, add_routes, check_policies
from stocky.api.web import web_ui_middleware
from stocky.https import Https
from stocky.services.container import Services
from stocky.services.lookup_worker import LookupWorker

MAX_BODY_BYTES = 256 * 1024

RESOURCES = (auth, session, connect, user, item, product, location, sku, lot, stock_change, alert, scanner, log, qr, system)



def all_routes() -> list[Route]:
    return [route for module in (*RESOURCES, ws) for route in module.ROUTES]


async def _refuse_undeclared_routes(app: web.Application) -> None:
    # Run again at start-up so a route added after the factory is caught too.
    check_policies(app)


def create_app(
    services: Services, https: Https | None = None, products: LookupWorker | None = None
) -> web.Application:
    """``https``: what Stocky serves over HTTPS, filled in by the runtime once
    it listens (the /connect page and /ca.pem read it); ``products``: the
    product lookup a phone's New item form asks (/product/{barcode})."""
    app = web.Application(
        middlewares=[access_log_middleware, error_middleware, web_ui_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[keys.SERVICES] = services
    app[keys.ROUTES] = {}
    app[keys.SOCKETS] = {}
    app[keys.HTTPS] = https or Https()
    if products is not None:
        app[keys.PRODUCTS] = products
    settings = services.settings
    app[keys.SOCKET_LIMITS] = SocketLimits(settings.ws_max_sockets, settings.ws_max_anonymous)
    add_routes(app, all_routes())
    check_policies(app)
    app.on_startup.append(_refuse_undeclared_routes)
    app.on_response_prepare.append(add_headers)
    app.on_shutdown.append(ws.close_all)
    return app
