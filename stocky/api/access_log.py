"""Requests are logged with method, path, status and time: never the query
string or headers, so no key or token can end up in a log. A request whose
client went away is logged at DEBUG: the client's doing, not Stocky's."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web

from stocky.api.errors import client_gone

ACCESS_LOGGER = "stocky.http"
log = logging.getLogger(ACCESS_LOGGER)


@web.middleware
async def access_log_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    started = time.perf_counter()
    status: int | str = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except asyncio.CancelledError:
        # A shutdown cancels what is still running (and so does aiohttp, for a
        # closed connection, where handler_cancellation is on): no answer, no 500.
        status = "cancelled"
        raise
    finally:
        elapsed = (time.perf_counter() - started) * 1000
        level = logging.DEBUG if client_gone(request) or status == "cancelled" else logging.INFO
        log.log(level, "%s %s %s %.1fms", request.method, request.path, status, elapsed)
