"""Scans over MQTT (DESIGN.md sections 1 and 4).

A scanner publishes ``{"id": "<API key>", "msg": "<scan>", "scan_id": "..."}``
on the configured topic. ``MqttScanInput`` subscribes inside the Stocky
process and hands each message to ``ScanService.scan_with_key``; the
standalone bridge (``stocky.inputs.bridge``) reuses the same subscriber and
message rules but forwards over HTTP.

The subscriber must outlive everything a kitchen can throw at it: a broker
that restarts, a scanner that sends garbage, a scan the rules refuse. Each of
those is logged and dropped; only ``stop()`` ends the loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import aiomqtt

from stocky.core.backoff import retry_delay
from stocky.core.errors import (
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
    StockyError,
    StorageFault,
)

if TYPE_CHECKING:
    from stocky.services.container import Services

log = logging.getLogger("stocky.mqtt")

MAX_MESSAGE_BYTES = 4096
MAX_SCAN_ID_LENGTH = 100  # as ScanRequest.scan_id over HTTP
KEY_HINT_LENGTH = 6
DEFAULT_QUEUE_SIZE = 1000
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 30.0
STOP_TIMEOUT = 5.0

_SCHEMES = {"mqtt": (False, 1883), "tcp": (False, 1883), "mqtts": (True, 8883), "ssl": (True, 8883)}


# -- broker address ---------------------------------------------------------


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @property
    def display(self) -> str:
        """The address without credentials, for logs."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """``mqtt://user:pass@host:1883`` or ``mqtts://host`` (TLS, port 8883 by default)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise InvalidInput(
            "The MQTT broker URL must look like mqtt://user:password@host:1883 "
            "(or mqtts:// for TLS).",
            [{"field": "mqtt_url", "message": "scheme must be mqtt or mqtts"}],
        )
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port == -1:
        raise InvalidInput(
            "The MQTT broker URL needs a host name and an optional port: mqtt://host:1883.",
            [{"field": "mqtt_url", "message": "host or port missing or invalid"}],
        )
    tls, default_port = _SCHEMES[scheme]
    return BrokerAddress(
        host=parts.hostname,
        port=port or default_port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=tls,
    )


# -- messages ---------------------------------------------------------------


class BadMessage(Exception):
    """A message that cannot be a scan; ``reason`` is safe to log."""

    def __init__(self, reason: str, key_hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key_hint = key_hint


@dataclass(frozen=True)
class ScanMessage:
    api_key: str
    msg: str
    scan_id: str | None = None

    @property
    def key_hint(self) -> str:
        return key_hint(self.api_key)


def key_hint(api_key: str) -> str:
    """Enough of an API key to tell scanners apart in a log, never enough to use it."""
    return api_key[:KEY_HINT_LENGTH] + "…"


def decode_message(payload: Any) -> ScanMessage:
    """Read one MQTT payload as a scan message, or raise ``BadMessage``."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogatepass")
    if not isinstance(payload, bytes | bytearray):
        raise BadMessage("the payload is not text")
    if len(payload) > MAX_MESSAGE_BYTES:
        raise BadMessage(f"the message is longer than {MAX_MESSAGE_BYTES} bytes ({len(payload)})")
    try:
        text = bytes(payload).decode("utf-8")
    except UnicodeDecodeError:
        raise BadMessage("the message is not valid UTF-8") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise BadMessage("the message is not JSON (or nested too deep)") from None
    if not isinstance(data, dict):
        raise BadMessage("the message is not a JSON object")
    api_key = data.get("id")
    if not isinstance(api_key, str) or not api_key.strip():
        raise BadMessage('"id" (the scanner\'s API key) is missing or not a string')
    hint = key_hint(api_key)
    msg = data.get("msg")
    if not isinstance(msg, str):
        raise BadMessage('"msg" (the scan) is missing or not a string', hint)
    scan_id = data.get("scan_id")
    # Devices often number their scans; a number is as good an id as a string.
    if isinstance(scan_id, int) and not isinstance(scan_id, bool):
        scan_id = str(scan_id)
    if scan_id is not None and (
        not isinstance(scan_id, str) or not 1 <= len(scan_id) <= MAX_SCAN_ID_LENGTH
    ):
        raise BadMessage(f'"scan_id" must be a string of 1 to {MAX_SCAN_ID_LENGTH} characters', hint)
    return ScanMessage(api_key=api_key.strip(), msg=msg, scan_id=scan_id)


# -- the subscriber ---------------------------------------------------------


Handler = Callable[[ScanMessage], Awaitable[None]]


class MqttSubscriber:
    """Keeps one QoS 1 subscription alive and hands each good message to ``handle``.

    Messages are handled one at a time, in order: a ``set_location`` card and
    the barcode scanned after it must not swap places.
    """

    def __init__(
        self,
        url: str,
        topic: str,
        handle: Handler,
        *,
        logger: logging.Logger = log,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        backoff_initial: float = BACKOFF_INITIAL,
        backoff_max: float = BACKOFF_MAX,
        client_id: str | None = None,
        keepalive: int = 30,
        timeout: float = 10.0,
    ) -> None:
        if not topic or not topic.strip():
            raise InvalidInput("The MQTT topic is empty.", [{"field": "mqtt_topic", "message": "empty"}])
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.address = parse_broker_url(url)
        self.topic = topic.strip()
        self.handle = handle
        self.log = logger
        self.queue_size = queue_size
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        # A fixed client id asks the broker to keep the session, so QoS 1
        # messages sent while Stocky restarts wait for it.
        self.client_id = client_id
        self.keepalive = keepalive
        self.timeout = timeout
        self._connected = asyncio.Event()
        self.sessions = 0  # subscriptions made so far
        self.dropped = 0  # messages lost because the queue was full
        subscriber = self

        class _Queue(asyncio.Queue):  # aiomqtt's incoming queue, telling us when it overflows
            def put_nowait(self, item: Any) -> None:
                try:
                    super().put_nowait(item)
                except asyncio.QueueFull:
                    subscriber._overflow()
                    raise

        self._queue_type = _Queue

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the subscription is in place (``TimeoutError`` after ``timeout``)."""
        await asyncio.wait_for(self._connected.wait(), timeout)

    def _overflow(self) -> None:
        self.dropped += 1
        # The first loss, then now and then: a flood must not flood the log too.
        if self.dropped == 1 or self.dropped % 100 == 0:
            self.log.warning(
                "MQTT: %d messages are already waiting; dropping new ones until Stocky "
                "catches up (%d dropped so far)",
                self.queue_size, self.dropped,
            )

    def _client(self) -> aiomqtt.Client:
        address = self.address
        client = aiomqtt.Client(
            address.host,
            address.port,
            username=address.username,
            password=address.password,
            identifier=self.client_id,
            clean_session=self.client_id is None,
            keepalive=self.keepalive,
            timeout=self.timeout,
            queue_type=self._queue_type,
            max_queued_incoming_messages=self.queue_size,
            tls_context=ssl.create_default_context() if address.tls else None,
        )
        # Acknowledge a scan only once it is applied: paho would acknowledge
        # on receipt, and a crash would then lose what the broker let go of.
        # aiomqtt has no public switch for this.
        client._client.manual_ack_set(True)  # noqa: SLF001
        return client

    async def run(self) -> None:
        """Subscribe, and subscribe again after every loss, until cancelled."""
        failures = 0
        while True:
            sessions = self.sessions
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except aiomqtt.MqttError as error:
                reason = str(error) or type(error).__name__
            except Exception as error:  # noqa: BLE001 - TLS, DNS, a paho surprise: retry all the same
                reason = f"{type(error).__name__}: {error}"
            else:
                reason = "the connection ended"
            if self.sessions != sessions:  # it was up: start the backoff over
                failures = 0
            failures += 1
            delay = retry_delay(self.backoff_initial, self.backoff_max, failures)
            # One warning per outage, not one per attempt: the log is the kitchen's.
            level = logging.WARNING if failures == 1 else logging.DEBUG
            self.log.log(
                level,
                "MQTT broker %s unreachable (%s); retrying in %.1f s",
                self.address.display, reason, delay,
            )
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        async with self._client() as client:
            granted = await client.subscribe(self.topic, qos=1)
            if any(_refused(code) for code in granted):
                raise aiomqtt.MqttError(f"the broker refused the subscription to {self.topic!r}")
            self.sessions += 1
            self._connected.set()
            self.log.info("MQTT: listening for scans on %s at %s", self.topic, self.address.display)
            try:
                async for message in client.messages:
                    await self._dispatch(message)
                    if message.qos:
                        # In order, one at a time; a repeat after a crash is
                        # caught by its scan_id.
                        client._client.ack(message.mid, message.qos)  # noqa: SLF001
            finally:
                self._connected.clear()

    async def _dispatch(self, message: aiomqtt.Message) -> None:
        try:
            scan = decode_message(message.payload)
        except BadMessage as bad:
            who = f" (key {bad.key_hint})" if bad.key_hint else ""
            self.log.warning("MQTT message on %s dropped%s: %s", message.topic, who, bad.reason)
            return
        try:
            await self.handle(scan)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug or a broken database must not end the subscription.
            self.log.exception("MQTT scan (key %s) failed and was dropped", scan.key_hint)


def _refused(code: Any) -> bool:
    value = getattr(code, "value", code)
    return isinstance(value, int) and value >= 0x80


# -- in-process input -------------------------------------------------------


class MqttScanInput:
    """The kiosk's and ``stocky serve``'s own MQTT subscriber."""

    def __init__(
        self,
        services: Services,
        url: str,
        topic: str,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        backoff_initial: float = BACKOFF_INITIAL,
        backoff_max: float = BACKOFF_MAX,
        client_id: str | None = None,
    ) -> None:
        self.services = services
        self.subscriber = MqttSubscriber(
            url,
            topic,
            self._scan,
            logger=log,
            queue_size=queue_size,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            client_id=client_id,
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self.subscriber.connected

    async def wait_connected(self, timeout: float | None = None) -> None:
        await self.subscriber.wait_connected(timeout)

    async def start(self) -> None:
        """Start listening; returns at once, the broker may come later."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.subscriber.run(), name="stocky-mqtt")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await stop_task(task)

    async def _scan(self, message: ScanMessage) -> None:
        try:
            result = await self.services.scans.scan_with_key(message.api_key, message.msg, message.scan_id)
        except (NotAuthenticated, PermissionDenied) as error:
            log.warning("MQTT scan from key %s dropped: %s", message.key_hint, error.message)
        except StockyError as error:
            # ScanService has already logged the refusal under the scanner's
            # name; a storage fault is logged once for its whole burst.
            level = logging.DEBUG if isinstance(error, StorageFault) else logging.INFO
            log.log(level, "MQTT scan from key %s not applied: %s", message.key_hint, error.message)
        else:
            log.debug("MQTT scan applied: %s", result.message)


async def stop_task(task: asyncio.Task[Any], timeout: float = STOP_TIMEOUT) -> None:
    """Cancel ``task`` and wait for it to finish its cleanup, within reason."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        log.warning("MQTT: the subscriber did not stop within %.0f s", timeout)
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
        return
    if not task.cancelled() and task.exception() is not None:
        log.error("MQTT: the subscriber ended with an error", exc_info=task.exception())
