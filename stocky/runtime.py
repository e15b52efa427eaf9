"""The composition root: settings, database, services, the HTTP site and the
background parts, started in order and stopped in reverse. ``stocky serve``
and the kiosk both run one of these on their event loop."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import ssl
import uuid
from contextlib import AsyncExitStack

from aiohttp import web

from stocky.api import create_app
from stocky.api.limits import cap_connections, connection_limit, quiet_repeats
from stocky.core.errors import CannotListen, StorageRefused
from stocky.core.events import Event
from stocky.core.sdnotify import Notifier
from stocky.core.settings import Settings, ensure_mqtt_client_id
from stocky.db import guard
from stocky.db.watch import StorageWatch
from stocky.demo_data import DemoLogins, load_demo
from stocky.https import CertificateKeeper, Https, other_certificate
from stocky.inputs.hid import HidScanInput
from stocky.services.container import Services
from stocky.services.expiry import ExpiryWorker
from stocky.services.lookup_worker import LookupWorker

log = logging.getLogger("stocky.runtime")


# A demo's password is published: it answers on this machine only, unless
# --host or STOCKY_HOST says otherwise.
DEMO_HOST = "127.0.0.1"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        demo: bool = False,
        host: str | None = None,
        port: int | None = None,
        https_port: int | None = None,
        ui_id: str | None = None,
        hid: bool = True,
    ) -> None:
        self.settings = settings
        self.demo = demo
        self.host = host or (DEMO_HOST if demo and "host" not in settings.model_fields_set else settings.host)
        self.port = settings.port if port is None else port
        self.https_port = settings.https_port if https_port is None else https_port  # 0: no HTTPS
        self.https = Https()  # what /connect and the kiosk's Connect sheet show
        self.certificates: CertificateKeeper | None = None
        self.ui_id = ui_id  # the kiosk's screen, which USB scanners talk to
        self.hid = hid
        self.services: Services | None = None
        self.demo_logins: DemoLogins | None = None
        self.systemd = Notifier()
        self._runner: web.AppRunner | None = None
        self._stack = AsyncExitStack()
        # Set when the storage went away under Stocky: the commands stop the
        # runtime and exit non-zero, so that systemd restarts into the checks.
        self.storage_lost = asyncio.Event()
        self.lost_reason: str | None = None

    @property
    def bound_port(self) -> int:
        """The HTTP port actually listened on (useful with port 0)."""
        assert self._runner is not None
        for address in self._runner.addresses:  # HTTP's site opens first
            return int(address[1])
        return self.port

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        settings = self.settings
        self._stack.enter_context(guard.locks(settings))
        await guard.upgrade(settings)
        services = Services.create(settings)
        self.services = services
        self._stack.push_async_callback(services.close)
        if self.demo:
            self.demo_logins = await load_demo(services)
        if not await services.users.count():
            log.warning(
                "No users yet: create the first Admin with "
                "'stocky create-admin --username NAME --password-stdin'"
            )
        if not services.db.is_sqlite:
            # psycopg comes with the PostgreSQL extra only.
            from stocky.services.shared_bus import SharedBus

            shared = SharedBus(settings.resolved_database_url, services.bus, services.screens)
            await shared.start()
            self._stack.push_async_callback(shared.stop)
        # Now that the database has been read, its files are the ones open.
        loop = asyncio.get_running_loop()

        def lost(reason: str) -> None:  # on the watch's thread
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody to tell
                loop.call_soon_threadsafe(self._on_storage_lost, reason)

        watch = StorageWatch(settings, services.db.health, lost)
        watch.start()
        self._stack.callback(watch.stop)
        lookups = LookupWorker(services)
        runner = web.AppRunner(
            create_app(services, self.https, lookups),
            access_log=None,
            shutdown_timeout=5,
            # aiohttp's keep-alive timer also bounds how long unfinished
            # headers may take (its default is an hour).
            keepalive_timeout=settings.http_header_timeout,
        )
        await runner.setup()
        self._runner = runner
        # Descriptors never run out: idle connections make room for new ones.
        cap_connections(runner.server, connection_limit())
        quiet_repeats()
        self._stack.push_async_callback(runner.cleanup)
        await self._listen(runner, None, self.port, "--port (or STOCKY_PORT)")
        log.info("Stocky is listening on http://%s:%d", self.host, self.bound_port)
        if self.https_port:
            await self._listen(runner, await self._tls(), self.https_port,
                               "--https-port (or STOCKY_HTTPS_PORT; 0 turns HTTPS off)")
            self.https.port = self.https_port
            log.info("Stocky is listening on https://%s:%d", self.host, self.https_port)
        if settings.mdns and self.host not in LOOPBACK:  # on this machine only: no phone would reach it
            # Loaded only when wanted; zeroconf itself loads on a thread.
            from stocky.mdns import Announcer

            announcer = Announcer(self.https, self.bound_port, self.host)
            await announcer.start()
            self._stack.push_async_callback(announcer.stop)  # goodbye before the sites close

        await lookups.start()
        self._stack.push_async_callback(lookups.stop)
        expiry = ExpiryWorker(
            lambda: services.lots.announce_expiry(settings.expiry_warn_days), bus=services.bus
        )
        await expiry.start()
        self._stack.push_async_callback(expiry.stop)
        if settings.mqtt_url:
            # Loaded only when wanted: paho and aiomqtt cost a fifth of a
            # second of every start, and MQTT is off by default.
            from stocky.inputs.mqtt import MqttScanInput

            mqtt = MqttScanInput(
                services, settings.mqtt_url, settings.mqtt_topic,
                client_id=ensure_mqtt_client_id(settings),
            )
            await mqtt.start()
            self._stack.push_async_callback(mqtt.stop)
        if self.hid:
            hid = HidScanInput.from_settings(services, associate_ui=self.ui_id)
            await hid.start()
            self._stack.push_async_callback(hid.stop)

    async def _listen(self, runner: web.AppRunner, tls: ssl.SSLContext | None, port: int, how: str) -> None:
        """Open a site. A port another program holds is a person's choice
        to change, like a refused storage: one sentence, exit 1, no traceback."""
        try:
            await web.TCPSite(runner, self.host, port, ssl_context=tls).start()
        except OSError as error:
            raise CannotListen(why_not_listening(error, self.host, port, how)) from None

    async def _tls(self) -> ssl.SSLContext:
        """A certificate from elsewhere (STOCKY_TLS_CERT and STOCKY_TLS_KEY),
        or Stocky's own, kept current while it runs."""
        if self.settings.tls_cert and self.settings.tls_key:
            return other_certificate(self.settings, self.https)
        keeper = CertificateKeeper(self.settings, self.https)
        context = await keeper.start()
        self._stack.push_async_callback(keeper.stop)
        self.certificates = keeper
        return context

    def _on_storage_lost(self, reason: str) -> None:
        if self.storage_lost.is_set():
            return
        self.lost_reason = reason
        message = f"{reason}. Stocky takes no more changes and restarts to check its storage."
        log.error("%s", message)
        if self.services is not None:
            # Shown on every screen of this process, not stored (the database
            # may be gone), and not sent to other processes: their storage is fine.
            self.services.bus.publish(Event(
                "alert", str(uuid.uuid4()), "created", {"severity": "Error", "message": message},
                local=True,
            ))
        self.storage_lost.set()

    def raise_if_storage_lost(self) -> None:
        """After ``stop``: end the command with the reason, so it exits non-zero."""
        if self.lost_reason is not None:
            raise StorageRefused(
                f"Stopped: {self.lost_reason}. No change was acknowledged after that. Start "
                "Stocky again (systemd does) to check the storage; if the database is gone, "
                "restore the newest backup with 'stocky restore FILE'."
            )

    def where(self) -> str:
        """Where to reach Stocky, for the start message."""
        shown = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        text = f"http://{shown}:{self.bound_port}/"
        if self.https.port:
            # Listening on this machine only, its .local name would not answer.
            text += f" and {self.https.address('localhost' if self.host in LOOPBACK else None)}"
            if self.https.ca is not None:
                text += f" (phones: http://{shown}:{self.bound_port}/connect)"
        return text

    def ready(self) -> None:
        """Tell systemd Stocky is up (the kiosk calls this once its window shows)."""
        self.systemd.ready()

    async def stop(self) -> None:
        await self.systemd.stopping()
        await self._stack.aclose()


def why_not_listening(error: OSError, host: str, port: int, how: str = "--port (or STOCKY_PORT)") -> str:
    if error.errno == errno.EADDRINUSE:
        return f"Port {port} is in use by another program; choose another with {how}."
    return (f"Stocky cannot listen on {host} port {port} ({error.strerror or error}); "
            f"choose another with --host (or STOCKY_HOST) or {how}.")
