"""The composition root: settings, database, services, the HTTP site and the
background parts, started in order and stopped in reverse. ``stocky serve``
and the kiosk both run one of these on their event loop."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from aiohttp import web

from stocky.api import create_app
from stocky.api.limits import cap_connections, connection_limit, quiet_repeats
from stocky.core.sdnotify import Notifier
from stocky.core.settings import Settings, ensure_mqtt_client_id
from stocky.db import migrations
from stocky.db.backup import running_lock
from stocky.db.demo_data import DemoLogins, load_demo
from stocky.inputs.hid import HidScanInput
from stocky.services.container import Services
from stocky.services.lookup_worker import LookupWorker

log = logging.getLogger("stocky.runtime")


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        demo: bool = False,
        host: str | None = None,
        port: int | None = None,
        ui_id: str | None = None,
        hid: bool = True,
    ) -> None:
        self.settings = settings
        self.demo = demo
        self.host = host or settings.host
        self.port = settings.port if port is None else port
        self.ui_id = ui_id  # the kiosk's screen, which USB scanners talk to
        self.hid = hid
        self.services: Services | None = None
        self.demo_logins: DemoLogins | None = None
        self.systemd = Notifier()
        self._runner: web.AppRunner | None = None
        self._stack = AsyncExitStack()

    @property
    def bound_port(self) -> int:
        """The port actually listened on (useful with port 0)."""
        assert self._runner is not None
        for address in self._runner.addresses:
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
        self._stack.enter_context(running_lock(settings.data_dir))
        await migrations.upgrade(settings.resolved_database_url)
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
        runner = web.AppRunner(
            create_app(services),
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
        await web.TCPSite(runner, self.host, self.port).start()
        log.info("Stocky is listening on http://%s:%d", self.host, self.bound_port)

        lookups = LookupWorker(services)
        await lookups.start()
        self._stack.push_async_callback(lookups.stop)
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

    def ready(self) -> None:
        """Tell systemd Stocky is up (the kiosk calls this once its window shows)."""
        self.systemd.ready()

    async def stop(self) -> None:
        await self.systemd.stopping()
        await self._stack.aclose()
