"""``/ws``: screens identify themselves, get commands and scan results meant
for them and, once authenticated, every change and new alert their account
may read (the permission table decides, event by event). A socket keeps
obeying: when its user changes, it is checked again and closed (4401) if it
may no longer listen.

Which screen a command goes to is decided in the service layer (the
``UiRegistry``); this hub only registers its clients there. Each client has a
bounded send queue: one that cannot keep up is dropped, never allowed to
grow memory.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from stocky.api import keys
from stocky.api.auth import credential_in_address, socket_credential
from stocky.api.limits import limited
from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.core.digits import parse_uuid
from stocky.core.errors import Conflict, NotAuthenticated, StockyError, StorageFault
from stocky.core.events import Event
from stocky.schemas.user import UserOut
from stocky.services.container import Services
from stocky.services.credentials import Credential, Identity
from stocky.services.permissions import Action, allows

log = logging.getLogger("stocky.ws")

MAX_MESSAGE_BYTES = 64 * 1024
SEND_QUEUE = 256
HEARTBEAT_SECONDS = 20.0
CLOSE_TIMEOUT = 2.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4408
PUBLIC_ACTIONS = frozenset({"show_view"})
QUERY_REFUSED = (
    "Credentials in the address are refused: send the token in identify_ui, "
    "or in the Authorization or X-API-Key header."
)


REVOKED = b"Signed out: this account may no longer listen"
EXPIRED = b"The sign-in token expired: identify again with a fresh one"
OTHER_USER = "This socket is signed in as someone else; open another one to sign in as {name}."


def _may_see(user: UserOut | None, message: dict[str, Any]) -> bool:
    """Screen commands are for anyone; scan results name items and quantities."""
    if message.get("action") in PUBLIC_ACTIONS:
        return True
    return user is not None and allows(user.role, Action.INVENTORY_READ)


def _event_action(event: Event) -> Action | None:
    """What a listener must be allowed to hear of ``event``; None: nobody
    (a browser's sign-in ending concerns only its own sockets)."""
    if event.entity == "session":
        return None
    return Action.USER_MANAGE if event.entity == "user" else Action.INVENTORY_READ


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
        self.credential: Credential | None = None
        self.session_id: str | None = None  # the browser sign-in its token belongs to
        self._expiry: asyncio.TimerHandle | None = None
        self._closing: asyncio.Task[None] | None = None
        self._held: list[Event] | None = None  # events waiting for a re-check
        self._again = False  # the user changed again during a re-check
        self._rechecking: asyncio.Task[None] | None = None
        self._screen_cleanup: Callable[[], None] | None = None

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

    async def authenticate(self, credential: Credential) -> None:
        """Sign the socket in with ``credential``; a bad one raises
        ``NotAuthenticated``. It listens from before the account is read, so
        a change of the account made meanwhile is not missed: it is checked
        again. A signed-in socket may identify again with a fresh token of
        the same account (before its token expires), and lives on."""
        if self.user is not None:
            await self._renew(credential)
            return
        self._held = []
        unsubscribe = self.services.bus.subscribe(self._on_event)
        try:
            identity = await self.services.credentials.identify(credential)
        except BaseException:
            unsubscribe()
            self._held = None
            raise
        self._cleanups.append(unsubscribe)
        self.user, self.credential = identity.user, credential
        self._follow(identity)
        self.request.app[keys.SOCKET_LIMITS].signed_in(self.request)  # no longer anonymous
        held, self._held = self._held, None
        if any(self._about_me(event) for event in held):
            self._held = held
            self._rechecking = asyncio.get_running_loop().create_task(self._recheck())
            return
        for event in held:
            self._deliver(event)

    async def _renew(self, credential: Credential) -> None:
        identity = await self.services.credentials.identify(credential)
        if identity.user.id != self.user.id:
            raise Conflict(OTHER_USER.format(name=identity.user.username))
        self.user, self.credential = identity.user, credential
        self._follow(identity)

    def _follow(self, identity: Identity) -> None:
        """Live no longer than the credential: close when it expires, and
        hear when its browser sign-in ends."""
        self.session_id = str(identity.session_id) if identity.session_id else None
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if identity.expires_at is not None:
            loop = asyncio.get_running_loop()
            delay = (identity.expires_at - datetime.now(UTC)).total_seconds()
            self._expiry = loop.call_later(max(0.0, delay), self._expired)

    def _expired(self) -> None:
        self._expiry = None
        log.debug("A screen's sign-in token expired (ui %s)", self.ui_id)
        self._closing = asyncio.get_running_loop().create_task(
            self._close_unchecked(CLOSE_UNAUTHORIZED, EXPIRED))

    def _about_me(self, event: Event) -> bool:
        if self.user is None:
            return False
        if event.entity == "session":
            return event.id == self.session_id
        return event.entity == "user" and event.id == str(self.user.id)

    def _on_event(self, event: Event) -> None:
        about_me = self._about_me(event)
        if self._held is not None:  # a re-check is under way: hold on until it answers
            self._held.append(event)
            self._again = self._again or about_me
            return
        if about_me:
            self._held = [event]
            self._rechecking = asyncio.get_running_loop().create_task(self._recheck())
            return
        self._deliver(event)

    def _deliver(self, event: Event) -> None:
        action = _event_action(event)
        if self.user is None or action is None or not allows(self.user.role, action):
            return
        self.offer(event.as_message())
        if event.entity == "alert" and event.op == "created":
            self.offer({"action": "alert", "id": event.id, **event.data})

    async def _recheck(self) -> None:
        """The user changed: may the socket still listen? A deactivated or
        deleted account, a new password (its tokens end) or a role that may
        not read the inventory any more close it with 4401. Events wait
        meanwhile, so none reaches a user who may no longer see it."""
        again = True
        while again:
            self._again = False
            was = self.user
            try:
                now = await self._current_user()
            except StorageFault:
                # Unknown is not "signed out": the screen reconnects and is
                # checked again, rather than lose its sign-in to a storage blip.
                await self._close_unchecked(WSCloseCode.TRY_AGAIN_LATER, b"The database cannot be read")
                return
            reads = was is not None and allows(was.role, Action.INVENTORY_READ)
            if now is None or (reads and not allows(now.role, Action.INVENTORY_READ)):
                await self._revoke(was)
                return
            self.user = now
            again = self._again  # changed again while this check ran
        held, self._held, self._rechecking = self._held or [], None, None
        for event in held:
            self._deliver(event)

    async def _current_user(self) -> UserOut | None:
        """The account as stored now; None when it may not sign in any more.
        A storage fault is raised: it says nothing about the account."""
        try:
            if self.credential is None:
                return None
            return (await self.services.credentials.identify(self.credential)).user
        except StorageFault:
            raise
        except StockyError:
            return None
        except Exception:
            log.exception("Re-checking a screen's user failed; closing it to be safe")
            return None

    async def _revoke(self, was: UserOut | None) -> None:
        log.info("Closed a screen of %s: it may no longer listen", was.username if was else "a user")
        await self._close_unchecked(CLOSE_UNAUTHORIZED, REVOKED)

    async def _close_unchecked(self, code: int, why: bytes) -> None:
        """Close without delivering the events held for the re-check."""
        self.user, self._held, self._rechecking = None, None, None
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        self.close_registrations()
        await close_quickly(self.ws, self.request, code, why)

    def _for_screen(self, message: dict[str, Any]) -> None:
        if _may_see(self.user, message):
            self.offer(message)

    def _replaced(self) -> None:
        """The same user connected this screen again elsewhere."""
        self._screen_cleanup = None
        self.offer({"action": "replaced", "ui_id": self.ui_id,
                    "message": "This screen connected again; this connection no longer gets its commands."})
        self.ui_id = None

    def identify(self, ui_id: str) -> None:
        """Take ``ui_id``; ``Conflict`` when another connection holds it."""
        if ui_id == self.ui_id:
            return
        owner = f"user:{self.user.id}" if self.user is not None else None
        cleanup = self.services.screens.register(ui_id, self._for_screen, owner, self._replaced)
        self.close_registrations(screens_only=True)
        self.ui_id = ui_id
        self._screen_cleanup = cleanup

    def close_registrations(self, screens_only: bool = False) -> None:
        if (cleanup := self._screen_cleanup) is not None:
            cleanup()
            self._screen_cleanup = None
        if not screens_only:
            for cleanup in self._cleanups:
                cleanup()
            self._cleanups.clear()


def _error(client: Client, message: str) -> None:
    client.offer({"action": "error", "message": message})


def _storage_error(fault: StorageFault) -> dict[str, Any]:
    """What a screen hears when the database cannot check its sign-in: a
    fault of the box, not of the screen (the storage report logs it once)."""
    return {"action": "error", "code": fault.code, "message": fault.message}


async def _handle_message(client: Client, raw: str) -> None:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        _error(client, "Messages are JSON objects.")
        return
    if not isinstance(data, dict) or data.get("action") != "identify_ui":
        _error(client, "Unknown action; send identify_ui first.")
        return
    raw_id, token = data.get("ui_id"), data.get("token")
    try:
        ui_id = str(parse_uuid(raw_id)) if isinstance(raw_id, str) else None
    except ValueError:
        ui_id = None
    if ui_id is None:
        _error(client, "identify_ui needs a ui_id (a UUID).")
        return
    if token is not None and not isinstance(token, str):
        _error(client, "token must be a string.")
        return
    if token:
        try:
            await client.authenticate(Credential.guess(token))
        except NotAuthenticated as error:
            await client.ws.close(code=CLOSE_UNAUTHORIZED, message=error.message.encode()[:120])
            return
        except Conflict as error:  # another account's token
            _error(client, error.message)
            return
        except StorageFault as fault:  # the screen may identify again
            client.offer(_storage_error(fault))
            return
    try:
        client.identify(ui_id)
    except Conflict as error:
        _error(client, error.message)
        return
    client.offer({"action": "identified", "ui_id": ui_id, "authenticated": client.user is not None})


async def _handle_frame(client: Client, message: WSMessage) -> None:
    """One frame; whatever is in it, the socket and the hub carry on."""
    if message.type == WSMsgType.BINARY:
        _error(client, "Send text frames with JSON.")
        return
    try:
        await _handle_message(client, message.data)
    except Exception:
        log.exception("A screen's message could not be handled")
        _error(client, "That message could not be handled.")


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
        if credential_in_address(request):
            await ws.send_json({"action": "error", "message": QUERY_REFUSED})
            await ws.close(code=CLOSE_UNAUTHORIZED, message=b"Credentials in the address are refused")
            return ws
        if credential := socket_credential(request):
            try:
                await client.authenticate(credential)
            except NotAuthenticated as error:
                await ws.close(code=CLOSE_UNAUTHORIZED, message=error.message.encode()[:120])
                return ws
            except StorageFault as fault:  # signed in it is not: it may connect again
                await ws.send_json(_storage_error(fault))
                await ws.close(
                    code=WSCloseCode.TRY_AGAIN_LATER, message=b"The database cannot be read"
                )
                return ws
        async for message in ws:
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                await _handle_frame(client, message)
    finally:
        sockets.pop(ws, None)
        client.close_registrations()
        if client._rechecking is not None:
            client._rechecking.cancel()
        if client._expiry is not None:
            client._expiry.cancel()
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
