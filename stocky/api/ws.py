"""``/ws``: screens identify themselves, get commands and scan results meant
for them and, once authenticated, every change and new alert.

Which screen a command goes to is decided in the service layer (the
``UiRegistry``); this hub only registers its clients there. Each client has a
bounded send queue: one that cannot keep up is dropped, never allowed to
grow memory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from stocky.api import keys
from stocky.api.limits import limited
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
CLOSE_TIMEOUT = 2.0
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


async def close_quickly(ws: web.WebSocketResponse, request: web.Request, code: int, why: bytes) -> None:
    """Close politely, but never wait long on a client that stopped reading:
    its close frame may sit behind a full buffer forever, so after a grace
    period the connection is cut."""
    closing = asyncio.ensure_future(ws.close(code=code, message=why))
    await asyncio.wait({closing}, timeout=CLOSE_TIMEOUT)
    transport = request.transport
    if transport is not None and (not closing.done() or transport.get_write_buffer_size()):
        transport.abort()
    # The close ends (in error, once cut off); collect its outcome quietly.
    closing.add_done_callback(lambda task: task.cancelled() or task.exception())


class Client:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request, services: Services) -> None:
        self.ws = ws
        self.request = request
        self.sender: asyncio.Task[None] | None = None
        self.handler: asyncio.Task[Any] | None = None  # the request's own task
        self._dropping: asyncio.Task[None] | None = None
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
            self._dropping = asyncio.get_running_loop().create_task(self._drop())

    async def _drop(self) -> None:
        """Forget this client now, without waiting for it to read: its close
        frame goes behind what is already buffered, and the connection ends
        once the client reads or the operating system gives up on it."""
        if self.sender is not None:
            self.sender.cancel()
        closing = asyncio.ensure_future(self.ws.close(code=CLOSE_TOO_SLOW, message=b"too slow"))
        closing.add_done_callback(lambda task: task.cancelled() or task.exception())
        await asyncio.wait({closing}, timeout=0.1)  # long enough to queue the frame
        if self.handler is not None:
            self.handler.cancel()

    async def send_loop(self) -> None:
        try:
            while True:
                message = await self.queue.get()
                await self.ws.send_json(message)
        except ConnectionError:
            return  # the screen went away; the receive side notices too

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
    client = Client(ws, request, call.services)
    sockets = request.app[keys.SOCKETS]
    sockets[ws] = request
    sender = client.sender = asyncio.create_task(client.send_loop())
    client.handler = asyncio.current_task()
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
        sockets.pop(ws, None)
        client.close_registrations()
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
    return ws


async def close_all(app: web.Application) -> None:
    """On shutdown, say goodbye to every screen at once; one that stopped
    reading is cut off rather than allowed to hold the shutdown up."""
    await asyncio.gather(*(
        close_quickly(ws, request, WSCloseCode.GOING_AWAY, b"Stocky is shutting down")
        for ws, request in list(app[keys.SOCKETS].items())
    ))


ROUTES = [
    Route("GET", "/ws", limited(websocket), Policy.ANYONE,
          "WebSocket for screens: commands, scan results and (signed in) live changes",
          "system", prefixed=False, documented=False),
]
