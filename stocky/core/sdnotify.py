"""systemd's readiness and watchdog protocol (sd_notify), in a few lines.

Without ``NOTIFY_SOCKET`` (not started by systemd) every call does nothing.
The watchdog ping runs as a task on the event loop itself, so a frozen loop
stops the pings and systemd restarts Stocky.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

from stocky.core.digits import is_digits

log = logging.getLogger("stocky.systemd")


class Notifier:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # abstract namespace
            address = "\0" + address[1:]
        self.address = address or None
        usec = env.get("WATCHDOG_USEC", "")
        self.watchdog_interval = int(usec) / 2_000_000 if is_digits(usec) and int(usec) > 0 else None
        self._ping: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, state: str) -> bool:
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self.address)
                sock.sendall(state.encode())
            return True
        except OSError as error:
            log.warning("Could not notify systemd (%s): %s", state.split("=")[0], error)
            return False

    def ready(self) -> None:
        self.send("READY=1")
        if self.watchdog_interval and self._ping is None:
            self._ping = asyncio.get_running_loop().create_task(self._watchdog())

    async def _watchdog(self) -> None:
        while True:
            self.send("WATCHDOG=1")
            await asyncio.sleep(self.watchdog_interval or 1.0)

    async def stopping(self) -> None:
        if self._ping is not None:
            self._ping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ping
            self._ping = None
        self.send("STOPPING=1")
