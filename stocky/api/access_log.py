"""Requests are logged with method, path, status and time: never the query
string or headers, so no key or token can end up in a log."""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web

ACCESS_LOGGER = "stocky.http"
log = logging.getLogger(ACCESS_LOGGER)


@web.middleware
async def access_log_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        elapsed = (time.perf_counter() - started) * 1000
        log.info("%s %s %d %.1fms", request.method, request.path, status, elapsed)
