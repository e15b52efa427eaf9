"""All services over one database and one event bus."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from stocky.core.events import EventBus
from stocky.core.logbuffer import BufferHandler, LogBuffer
from stocky.core.settings import Settings, ensure_secret_key
from stocky.db import guard, migrations
from stocky.db.engine import Database
from stocky.services.alerts import AlertService
from stocky.services.credentials import Credentials
from stocky.services.expiry import LotService
from stocky.services.items import ItemService
from stocky.services.locations import LocationService
from stocky.services.lookups import LookupQueue
from stocky.services.scanning import ScanService
from stocky.services.sessions import SessionService
from stocky.services.skus import SkuService
from stocky.services.storage_report import StorageReport
from stocky.services.ui_registry import UiRegistry
from stocky.services.undo import UndoService
from stocky.services.users import UserService


@dataclass
class Services:
    settings: Settings
    secret_key: str
    db: Database
    bus: EventBus
    logs: LogBuffer
    lookups: LookupQueue
    screens: UiRegistry
    items: ItemService
    locations: LocationService
    skus: SkuService
    lots: LotService
    alerts: AlertService
    users: UserService
    scans: ScanService
    sessions: SessionService
    credentials: Credentials
    undo: UndoService
    _log_handler: BufferHandler

    @classmethod
    def create(cls, settings: Settings) -> Services:
        db = Database(settings.resolved_database_url)
        bus = EventBus()
        logs = LogBuffer()
        handler = BufferHandler(logs)
        stocky_logger = logging.getLogger("stocky")
        stocky_logger.addHandler(handler)
        # The in-memory log keeps INFO whatever the console shows.
        if not stocky_logger.level or stocky_logger.level > logging.INFO:
            stocky_logger.setLevel(logging.INFO)
        lookups = LookupQueue()
        screens = UiRegistry()
        users = UserService(db, bus)
        alerts = AlertService(db, bus)
        db.on_burst(StorageReport(alerts))
        secret_key = ensure_secret_key(settings)
        return cls(
            settings=settings,
            secret_key=secret_key,
            db=db,
            bus=bus,
            logs=logs,
            lookups=lookups,
            screens=screens,
            items=ItemService(db, bus, lookups),
            locations=LocationService(db, bus),
            skus=SkuService(db, bus),
            lots=LotService(db, bus),
            alerts=alerts,
            users=users,
            scans=ScanService(db, bus, lookups, screens, users),
            sessions=SessionService(db, bus, secret_key),
            credentials=Credentials(secret_key, users),
            undo=UndoService(db, bus),
            _log_handler=handler,
        )

    async def close(self) -> None:
        logging.getLogger("stocky").removeHandler(self._log_handler)
        await self.db.dispose()


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Upgrade the database to the newest schema, then hand out the services."""
    guard.refuse_missing(settings)
    await migrations.upgrade(settings.resolved_database_url)
    services = Services.create(settings)
    try:
        yield services
    finally:
        await services.close()
