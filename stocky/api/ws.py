"""``/ws``: screens identify themselves, get commands and scan results meant
for them and, once authenticated, every change and new alert.

Which screen a command goes to is decided in the service layer (the
``UiRegistry``); this hub only registers its clients there. Each client has a
bounded send queue: one that cannot keep up is dropped, never allowed to
grow memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from stocky.api import keys
from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.core import security
from stocky.core.errors import NotAuthenticated
from stocky.core.events import Event
from stocky.schemas.user import UserOut
from stocky.services.container import Services

log = logging.getLogger("stocky.ws")

MAX_MESSAGE_BYTES = 64 * 1024
SEND_QUEUE = 256
HEARTBEAT_SECONDS = 20.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4408
PUBLIC_ACTIONS = frozenset({"show_view"})


async def _credentials(services: Services, token: str) -> UserOut:
    """A JWT or an API key, whichever ``token`` is."""
    if token.count(".") == 2:
        return await services.users.for_token(security.decode_access_token(services.secret_key, token))
    user = await services.users.by_api_key(token)
    if user is None:
        raise NotAuthenticated("The API key is not valid.")
    return user


def _header_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("X-API-Key") or request.query.get("token")


class Client:
    def __init__(self, ws: web.WebSocketResponse, services: Services) -> None:
        self.ws = ws
        self.services = services
        self.user: UserOut | None = None
        self.ui_id: str | None = None
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=SEND_QUEUE)
        self._cleanups: list[Callable[[], None]] = []
        self._dropped = False

    def offer(self, message: dict[str, Any]) -> None:
        """Queue a message; a client whose queue is full is dropped."""
        if self._dropped:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self._dropped = True
            log.warning("Dropped a screen that could not keep up (ui %s)", self.ui_id)
            asyncio.get_running_loop().create_task(
                self.ws.close(code=CLOSE_TOO_SLOW, message=b"too slow")
            )

    async def send_loop(self) -> None:
        while True:
            message = await self.queue.get()
            await self.ws.send_json(message)

    def authenticate(self, user: UserOut) -> None:
        if self.user is not None:
            return
        self.user = user
        self._cleanups.append(self.services.bus.subscribe(self._on_event))

    def _on_event(self, event: Event) -> None:
        self.offer(event.as_message())
        if event.entity == "alert" and event.op == "created":
            self.offer({"action": "alert", "id": event.id, **event.data})

    def _for_screen(self, message: dict[str, Any]) -> None:
        # Scan results name items and quantities: inventory data, for signed-in
        # screens only. An anonymous screen still follows view commands.
        if self.user is not None or message.get("action") in PUBLIC_ACTIONS:
            self.offer(message)

    def identify(self, ui_id: str) -> None:
        if self.ui_id is not None:
            self.close_registrations(screens_only=True)
        self.ui_id = ui_id
        self._screen_cleanup = self.services.screens.register(ui_id, self._for_screen)

    def close_registrations(self, screens_only: bool = False) -> None:
        if (cleanup := getattr(self, "_screen_cleanup", None)) is not None:
            cleanup()
            self._screen_cleanup = None
        if not screens_only:
            for cleanup in self._cleanups:
                cleanup()
            self._cleanups.clear()


async def _handle_message(client: Client, raw: str) -> None:
    try:
        data = json.loads(raw)
    except ValueError:
        client.offer({"action": "error", "message": "Messages are JSON objects."})
        return
    if not isinstance(data, dict) or data.get("action") != "identify_ui":
        client.offer({"action": "error", "message": "Unknown action; send identify_ui first."})
        return
    try:
        ui_id = str(uuid.UUID(str(data.get("ui_id"))))
    except ValueError:
        client.offer({"action": "error", "message": "identify_ui needs a ui_id (a UUID)."})
        return
    if isinstance(token := data.get("token"), str) and token:
        try:
            client.authenticate(await _credentials(client.services, token))
        except NotAuthenticated as error:
            await client.ws.close(code=CLOSE_UNAUTHORIZED, message=error.message.encode()[:120])
            return
    client.identify(ui_id)
    client.offer({"action": "identified", "ui_id": ui_id, "authenticated": client.user is not None})


async def websocket(call: Call) -> web.WebSocketResponse:
    """Live updates for screens (see DESIGN.md section 6)."""
    request = call.request
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    client = Client(ws, call.services)
    sockets = request.app[keys.SOCKETS]
    sockets.add(ws)
    sender = asyncio.create_task(client.send_loop())
    try:
        if token := _header_token(request):
            try:
                client.authenticate(await _credentials(call.services, token))
            except NotAuthenticated as error:
                await ws.close(code=CLOSE_UNAUTHORIZED, message=error.message.encode()[:120])
                return ws
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await _handle_message(client, message.data)
            elif message.type == WSMsgType.BINARY:
                client.offer({"action": "error", "message": "Send text frames with JSON."})
    finally:
        client.close_registrations()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        sockets.discard(ws)
    return ws


async def close_all(app: web.Application) -> None:
    """On shutdown, say goodbye to every screen instead of cutting it off."""
    for ws in list(app[keys.SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"Stocky is shutting down")


ROUTES = [
    Route("GET", "/ws", websocket, Policy.ANYONE,
          "WebSocket for screens: commands, scan results and (signed in) live changes",
          "system", prefixed=False, documented=False),
]
