"""One event bus for several Stocky processes on one PostgreSQL database.

Every event this process publishes, and every message for a screen, also goes
out as a ``NOTIFY`` on PostgreSQL's own channel; every process ``LISTEN``s
there and hands what the others sent to its own bus and its own screens. So
a browser on one process sees a scan made through another, and a
``show_view`` card reaches a kiosk whichever process took the scan.

Both connections live on threads of their own (``psycopg``, blocking), so
the event loop never waits on the network. A payload carries the sending
process's id, so nobody hears its own events twice; it is compact JSON under
PostgreSQL's 8000-byte limit (an event too large goes without its details;
its "changed" message is what screens act on). A dropped connection is
reopened with back-off; events sent while the listener was away are missed,
as they are by a browser that reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import uuid
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from stocky.core.events import Event, EventBus
from stocky.services.ui_registry import UiRegistry

log = logging.getLogger("stocky.shared_bus")

CHANNEL = "stocky_events"
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
MAX_PAYLOAD = 7900
# Changes waiting while PostgreSQL is away; past this they are not sent.
OUTBOX = 10_000
CONNECT_TIMEOUT = 5
LISTEN_POLL_SECONDS = 0.5  # how soon the listener notices it should stop
FIRST_RETRY_SECONDS = 0.5
LAST_RETRY_SECONDS = 10.0
# application_name of the two connections, as pg_stat_activity shows them
LISTENER_NAME, SENDER_NAME = "stocky-listen", "stocky-notify"
SCREEN_KEYS = ("action", "ok", "message", "view", "result")


def libpq_url(database_url: str) -> str:
    """``database_url`` (a SQLAlchemy URL, any driver) as psycopg takes it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _compact(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), default=str)


class SharedBus:
    def __init__(self, database_url: str, bus: EventBus, screens: UiRegistry) -> None:
        self.conninfo = libpq_url(database_url)
        self.bus = bus
        self.screens = screens
        self.origin = uuid.uuid4().hex[:12]
        self._outbox: queue.Queue[str | None] = queue.Queue(maxsize=OUTBOX)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._from_peer = False
        self._unsubscribe = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = self.bus.subscribe(self._event_out)
        self.screens.relay = self._screen_out
        for target, name in ((self._listen, "listen"), (self._send, "notify")):
            thread = threading.Thread(target=target, name=f"stocky-bus-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.screens.relay = None
        self._stop.set()
        with contextlib.suppress(queue.Full):  # a full outbox: the sender sees _stop
            self._outbox.put_nowait(None)
        for thread in self._threads:
            await asyncio.to_thread(thread.join)

    def _connect(self, name: str) -> psycopg.Connection:
        return psycopg.connect(
            self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name=name
        )

    # -- out -------------------------------------------------------------------

    def _event_out(self, event: Event) -> None:
        if self._from_peer or event.local:
            return  # a peer's event went out from there; a local one stays here
        payload = _compact({"o": self.origin, "e": [event.entity, event.id, event.op, event.data]})
        if len(payload.encode()) > MAX_PAYLOAD:
            payload = _compact({"o": self.origin, "e": [event.entity, event.id, event.op, {}]})
        self._offer(payload)

    def _screen_out(self, ui_id: str, message: dict[str, Any]) -> None:
        payload = _compact({"o": self.origin, "u": ui_id, "m": message})
        if len(payload.encode()) > MAX_PAYLOAD:
            brief = {key: message[key] for key in SCREEN_KEYS if key in message}
            payload = _compact({"o": self.origin, "u": ui_id, "m": brief})
        self._offer(payload)

    def _offer(self, payload: str) -> None:
        # Full: PostgreSQL has been away a while (the sender said so); peers miss this one.
        with contextlib.suppress(queue.Full):
            self._outbox.put_nowait(payload)

    def _send(self) -> None:
        connection: psycopg.Connection | None = None
        retry = FIRST_RETRY_SECONDS
        payload = self._outbox.get()
        while payload is not None:
            try:
                if connection is None or connection.closed:
                    connection = self._connect(SENDER_NAME)
                connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
            except psycopg.Error as error:
                if retry == FIRST_RETRY_SECONDS:  # once per outage, not per try
                    log.warning("Cannot tell the other Stocky processes of changes (retrying): %s", error)
                if connection is not None:
                    connection.close()
                connection = None
                if self._stop.wait(retry):
                    break
                retry = min(retry * 2, LAST_RETRY_SECONDS)
                continue  # the same payload again
            if retry > FIRST_RETRY_SECONDS:
                log.info("Telling the other Stocky processes of changes again")
            retry = FIRST_RETRY_SECONDS
            payload = self._outbox.get()
        if connection is not None:
            connection.close()

    # -- in --------------------------------------------------------------------

    def _listen(self) -> None:
        retry = FIRST_RETRY_SECONDS
        while not self._stop.is_set():
            try:
                with self._connect(LISTENER_NAME) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    if retry > FIRST_RETRY_SECONDS:
                        log.info("Listening to the other Stocky processes again")
                    retry = FIRST_RETRY_SECONDS
                    while not self._stop.is_set():
                        for notify in connection.notifies(timeout=LISTEN_POLL_SECONDS):
                            self._heard(notify.payload)
            except psycopg.Error as error:
                if retry == FIRST_RETRY_SECONDS:
                    log.warning("Lost the other Stocky processes' changes (retrying): %s", error)
                self._stop.wait(retry)
                retry = min(retry * 2, LAST_RETRY_SECONDS)

    def _heard(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            if message["o"] == self.origin:
                return
            if "e" in message:
                entity, id_, op, data = message["e"]
                event = Event(entity=str(entity), id=str(id_), op=op, data=dict(data))
                self._hand_over(self._publish, event)
            else:
                self._hand_over(self.screens.deliver, str(message["u"]), dict(message["m"]))
        except (ValueError, KeyError, TypeError, RecursionError) as error:  # RecursionError: nested too deep
            log.warning("Ignored a malformed message from another Stocky process: %s", error)

    def _hand_over(self, action: Any, *args: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop is closing
            self._loop.call_soon_threadsafe(action, *args)

    def _publish(self, event: Event) -> None:
        self._from_peer = True
        try:
            self.bus.publish(event)
        finally:
            self._from_peer = False
