"""A product service for tests: a real aiohttp server on 127.0.0.1 that
speaks Open Food Facts v2 (``/api/v2/product/<barcode>.json``) and a plain
``{"name", "description"}`` format (``/plain/<barcode>``).

It can listen on another loopback address (``start("127.0.0.2")``).
Each barcode gets a script of replies, used in order; the last one repeats.
A barcode with no script is unknown (404 with ``{"status": 0}``, as Open Food
Facts answers). Every request is recorded with its arrival time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

Reply = Callable[[web.Request, "FakeProductService"], Awaitable[web.StreamResponse]]

HANG_LIMIT = 60.0  # a hanging reply gives up by itself even if nobody releases it


@dataclass(frozen=True)
class Seen:
    barcode: str
    path: str
    at: float  # time.monotonic()
    user_agent: str


def off_product(**product: object) -> dict:
    return {"code": "", "status": 1, "status_verbose": "product found", "product": product}


OFF_UNKNOWN = {"status": 0, "status_verbose": "product not found"}


def reply_json(data: object, status: int = 200) -> Reply:
    async def reply(request: web.Request, service: FakeProductService) -> web.StreamResponse:
        return web.json_response(data, status=status)

    return reply


def reply_raw(body: bytes, status: int = 200, content_type: str = "application/json") -> Reply:
    async def reply(request: web.Request, service: FakeProductService) -> web.StreamResponse:
        return web.Response(body=body, status=status, content_type=content_type)

    return reply


def reply_redirect(location: str, status: int = 302) -> Reply:
    async def reply(request: web.Request, service: FakeProductService) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": location})

    return reply


def reply_hang() -> Reply:
    """Say nothing until the test releases the service (or HANG_LIMIT)."""

    async def reply(request: web.Request, service: FakeProductService) -> web.StreamResponse:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(service.released.wait(), HANG_LIMIT)
        return web.json_response(OFF_UNKNOWN, status=404)

    return reply


def reply_endless_json(total: int, chunk: int = 64 * 1024) -> Reply:
    """A chunked answer of ``total`` bytes, made up as it is sent, so the
    server itself never holds more than one chunk."""
    block = b" " * chunk

    async def reply(request: web.Request, service: FakeProductService) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        sent = 0
        try:
            await response.write(b'{"status": 1, "product": {"product_name": "')
            while sent < total:
                await response.write(block)
                sent += len(block)
            await response.write(b'"}}')
            await response.write_eof()
        except (ConnectionError, RuntimeError, OSError):
            pass  # the client hung up: what it should do
        service.streamed.append(sent)
        return response

    return reply


class FakeProductService:
    def __init__(self) -> None:
        self.scripts: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self.streamed: list[int] = []
        self.released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0

    def on(self, barcode: str, *replies: Reply) -> None:
        self.scripts[barcode] = list(replies)

    def seen(self, barcode: str) -> list[Seen]:
        return [r for r in self.requests if r.barcode == barcode]

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def off_url(self) -> str:
        """An ``UDA_API_URL`` like the default: the barcode is appended."""
        return f"{self.base}/api/v2/product"

    @property
    def plain_url(self) -> str:
        """An ``UDA_API_URL`` with the ``{upc}`` placeholder."""
        return f"{self.base}/plain/{{upc}}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        barcode = request.match_info["code"].removesuffix(".json")
        self.requests.append(
            Seen(barcode, request.path, time.monotonic(), request.headers.get("User-Agent", ""))
        )
        script = self.scripts.get(barcode)
        if not script:
            return web.json_response(OFF_UNKNOWN, status=404)
        reply = script.pop(0) if len(script) > 1 else script[0]
        return await reply(request, self)

    async def start(self, host: str = "127.0.0.1") -> None:
        self.host = host
        app = web.Application()
        app.router.add_get("/api/v2/product/{code}", self._handle)
        app.router.add_get("/plain/{code}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        self.released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
