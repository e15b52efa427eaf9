"""``stocky bridge``: MQTT in, ``POST /api/v1/scanner/scan`` out.

The brief's standalone bridge, for a Stocky that should not talk to the
broker itself (or runs elsewhere). It keeps no state: each message becomes
one HTTP request carrying the scanner's own API key, so the backend applies
exactly the rules it applies to any other scanner. It never imports the
database or the services.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid
from typing import Any

import aiohttp

from stocky.core.backoff import retry_delay
from stocky.inputs.mqtt import (
    BACKOFF_INITIAL,
    BACKOFF_MAX,
    DEFAULT_QUEUE_SIZE,
    MqttSubscriber,
    ScanMessage,
    stop_task,
)

log = logging.getLogger("stocky.bridge")

DEFAULT_BACKEND = "http://127.0.0.1:8000"
SCAN_PATH = "/api/v1/scanner/scan"
ATTEMPTS = 5
RETRY_INITIAL = 0.5
RETRY_MAX = 5.0
REQUEST_TIMEOUT = 10.0
# Worth another try: the backend is down, restarting, overloaded or slow.
RETRY_STATUSES = frozenset({408, 429})


class Bridge:
    def __init__(
        self,
        broker_url: str,
        topic: str,
        backend_url: str = DEFAULT_BACKEND,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        attempts: int = ATTEMPTS,
        retry_initial: float = RETRY_INITIAL,
        retry_max: float = RETRY_MAX,
        request_timeout: float = REQUEST_TIMEOUT,
        backoff_initial: float = BACKOFF_INITIAL,
        backoff_max: float = BACKOFF_MAX,
        client_id: str | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.scan_url = backend_url.rstrip("/") + SCAN_PATH
        self.attempts = attempts
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.request_timeout = request_timeout
        self.subscriber = MqttSubscriber(
            broker_url,
            topic,
            self._forward,
            logger=log,
            queue_size=queue_size,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            client_id=client_id,
        )
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def connected(self) -> bool:
        return self.subscriber.connected

    async def wait_connected(self, timeout: float | None = None) -> None:
        await self.subscriber.wait_connected(timeout)

    async def run(self) -> None:
        """Forward messages until ``stop()``; then return normally."""
        if self._task is not None:
            raise RuntimeError("This bridge is already running.")
        if self._stopping:
            return
        log.info(
            "Bridge: %s topic %s -> %s",
            self.subscriber.address.display, self.subscriber.topic, self.scan_url,
        )
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        async with aiohttp.ClientSession(timeout=timeout, raise_for_status=False) as http:
            self._http = http
            self._task = asyncio.create_task(self.subscriber.run(), name="stocky-bridge")
            try:
                await asyncio.shield(self._task)
            except asyncio.CancelledError:
                if not self._stopping:
                    await stop_task(self._task)
                    raise
                await asyncio.wait({self._task})
            finally:
                self._http = None
                self._task = None
        log.info("Bridge stopped.")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            await stop_task(self._task)

    async def _forward(self, message: ScanMessage) -> None:
        assert self._http is not None
        # A scan id makes every retry safe: the backend counts it once even
        # when an earlier attempt got through but its answer was lost.
        body = {"msg": message.msg, "scan_id": message.scan_id or f"bridge-{uuid.uuid4()}"}
        headers = {"X-API-Key": message.api_key}
        for attempt in range(1, self.attempts + 1):
            try:
                async with self._http.post(self.scan_url, json=body, headers=headers) as response:
                    status = response.status
                    answer = await _json(response)
            except (aiohttp.ClientError, TimeoutError) as error:
                problem = f"{type(error).__name__}: {error}".rstrip(": ")
            else:
                if status < 400:
                    log.info("Bridge: %s", answer.get("message") or f"scan accepted ({status})")
                    return
                problem = f"HTTP {status}: {_error_message(answer)}"
                if status < 500 and status not in RETRY_STATUSES:
                    log.warning(
                        "Bridge: scan from key %s refused, dropped (%s)", message.key_hint, problem
                    )
                    return
            if attempt == self.attempts:
                break
            delay = retry_delay(self.retry_initial, self.retry_max, attempt)
            log.warning(
                "Bridge: attempt %d of %d failed (%s); retrying in %.1f s",
                attempt, self.attempts, problem, delay,
            )
            await asyncio.sleep(delay)
        log.error(
            "Bridge: scan from key %s dropped after %d attempts (%s)",
            message.key_hint, self.attempts, problem,
        )


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        data = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return {}
    return data if isinstance(data, dict) else {}


def _error_message(answer: dict[str, Any]) -> str:
    error = answer.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return "no details"


async def run_until_signalled(bridge: Bridge) -> None:
    """Run ``bridge`` until SIGTERM or SIGINT, then stop it cleanly."""
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def request_stop() -> None:
        if not stopping:
            log.info("Bridge: stopping on signal")
            stopping.append(loop.create_task(bridge.stop()))

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, request_stop)
    try:
        await bridge.run()
        if stopping:
            await stopping[0]
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
