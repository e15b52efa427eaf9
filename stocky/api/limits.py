"""Limits that keep Stocky answering when clients hold on to connections.

Every connection costs a file descriptor. Without a bound, a few hundred
idle sockets use them all up: ``accept()`` then fails for everyone,
``/health`` included, and asyncio reports the failure again and again.

- ``cap_connections``: at most ``limit`` connections; one more closes the
  oldest connection that is doing nothing (no request under way), so a new
  request always gets in.
- ``SocketLimits``: at most so many WebSockets, and fewer of those not
  signed in; one more is refused at upgrade time (503 with ``Retry-After``).
- ``quiet_repeats``: the same complaint from asyncio or aiohttp's accept
  loop is logged at most once a second.
"""

from __future__ import annotations

import functools
import logging
import resource
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from stocky.api import keys
from stocky.api.auth import socket_credential
from stocky.api.errors import error_response

log = logging.getLogger("stocky.api")

# Descriptors kept for everything that is not a client connection: the
# database and its threads, log files, USB scanners, MQTT, product lookups.
RESERVED_DESCRIPTORS = 64
# asyncio accepts up to the listen backlog (aiohttp's default: 128) in one
# go before any of them reaches the cap: room for such a burst stays free.
ACCEPT_BURST = 128
RETRY_AFTER_SECONDS = 5


def connection_limit() -> int:
    """How many client connections fit under this process's descriptor limit."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 10_000
    return max(16, soft - RESERVED_DESCRIPTORS - ACCEPT_BURST)


def _idle(handler: Any) -> bool:
    # aiohttp's RequestHandler: no request being handled and none waiting.
    return not getattr(handler, "_request_in_progress", True) and not getattr(
        handler, "_messages", True
    )


def cap_connections(server: web.Server, limit: int) -> None:
    """Keep at most ``limit`` connections open on ``server`` (a running
    ``AppRunner.server``); the oldest idle one makes room for a new one."""
    made = server.connection_made
    connections: dict[Any, Any] = server._connections  # insertion order: oldest first
    warned = [0.0]

    @functools.wraps(made)
    def connection_made(handler: Any, transport: Any) -> None:
        made(handler, transport)
        if len(connections) <= limit:
            return
        # A closed connection stays listed until its handler has finished.
        live = [(old, t) for old, t in connections.items() if not t.is_closing()]
        if len(live) <= limit:
            return
        for old, old_transport in live:
            if old is not handler and _idle(old):
                old_transport.abort()
                break
        else:
            transport.abort()  # every other connection is busy: this one waits its turn
        now = time.monotonic()
        if now - warned[0] >= 60:
            warned[0] = now
            log.warning("More than %d connections at once: closing idle ones", limit)

    server.connection_made = connection_made  # type: ignore[method-assign]


class SocketLimits:
    """Counts the open WebSockets: all of them, and those not signed in yet.

    A socket is anonymous until it has proved who it is (a valid header
    credential, or a token in ``identify_ui`` later): a header that is merely
    there proves nothing. Anonymous sockets get ``anonymous`` places; the
    rest of ``total`` (one at least) stays for signed-in ones, so a
    household's screens get in however many strangers connect."""

    def __init__(self, total: int, anonymous: int) -> None:
        self.total = total
        self.anonymous = min(anonymous, total - 1)
        self.open = 0
        self.open_anonymous = 0
        # By id(request) (a request is not hashable); each entry lives as long as its socket.
        self._signed_in: dict[int, bool] = {}

    def refusal(self, request: web.Request) -> web.Response | None:
        if self.open >= self.total:
            why = f"Stocky already has {self.total} live connections; try again later."
        # A socket bringing a token or key may wait for its check in the room
        # kept for signed-in ones: /ws closes it at once if the check fails.
        elif self.open_anonymous >= self.anonymous and socket_credential(request) is None:
            why = (
                f"Stocky already has {self.anonymous} live connections without sign-in; "
                "send a token in the Authorization header or a key in X-API-Key."
            )
        else:
            return None
        response = error_response(503, "too_many_sockets", why)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    def opened(self, request: web.Request) -> Callable[[], None]:
        """Count ``request``'s socket as anonymous; returns what to call when it closes."""
        self.open += 1
        self.open_anonymous += 1
        self._signed_in[id(request)] = False

        def closed() -> None:
            self.open -= 1
            if not self._signed_in.pop(id(request)):
                self.open_anonymous -= 1

        return closed

    def signed_in(self, request: web.Request) -> None:
        """``request``'s socket has proved who it is: its anonymous place is free."""
        if self._signed_in.get(id(request)) is False:
            self._signed_in[id(request)] = True
            self.open_anonymous -= 1


def limited(handler: Callable[[Any], Awaitable[web.StreamResponse]]) -> Callable[[Any], Awaitable[web.StreamResponse]]:
    """Wrap the ``/ws`` handler: refuse an upgrade past the limits, and
    count the socket while its handler runs."""

    @functools.wraps(handler)
    async def admit(call: Any) -> web.StreamResponse:
        limits = call.request.app[keys.SOCKET_LIMITS]
        if (refusal := limits.refusal(call.request)) is not None:
            return refusal
        closed = limits.opened(call.request)
        try:
            return await handler(call)
        finally:
            closed()

    return admit


class _OncePerSecond(logging.Filter):
    """Lets one record of each message through per second; a later one says
    how many were left out meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg)[:200]
        now = time.monotonic()
        last, skipped = self._last.get(key, (float("-inf"), 0))
        if now - last < 1.0:
            self._last[key] = (last, skipped + 1)
            return False
        if len(self._last) > 1000:
            self._last.clear()
        self._last[key] = (now, 0)
        if skipped:
            record.msg = f"{record.msg} ({skipped} more like it since the last report)"
        return True


_QUIETED = ("asyncio", "aiohttp.server", "aiohttp.web")


def quiet_repeats() -> None:
    """Rate-limit the loggers an exhausted accept loop writes to (once per
    process, however many servers start)."""
    for name in _QUIETED:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _OncePerSecond) for f in logger.filters):
            logger.addFilter(_OncePerSecond())
