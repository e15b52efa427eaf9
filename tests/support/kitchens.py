"""Seed kitchens: the places and scanners a test starts from, made through
Stocky's own services (``SYSTEM`` unless a test says who acts)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from stocky.core.settings import Settings
from stocky.schemas.actor import SYSTEM, Actor
from stocky.schemas.location import LocationOut
from stocky.services.container import Services, open_services

# One location per storage type; suites add their own storage-less one
# (``Counter``, ``Shelf``) where a test needs it.
STORAGE_ROOMS: dict[str, str | None] = {
    "Pantry": "Ambient",
    "Fridge": "Refrigerated",
    "Freezer": "Frozen",
}

# Product lookups never leave the machine: port 9 (discard) refuses at once.
OFFLINE_LOOKUP = "http://127.0.0.1:9/{upc}"


async def add_locations(
    services: Services, rooms: dict[str, str | None], actor: Actor = SYSTEM
) -> dict[str, LocationOut]:
    """Create each named location with its storage type, in order."""
    return {
        name: await services.locations.create({"name": name, "storage_type": storage_type}, actor)
        for name, storage_type in rooms.items()
    }


@dataclass
class Seeded:
    location_id: str
    keys: dict[str, str]  # scanner name -> API key
    item_ids: dict[str, str]  # upc -> item id


async def seed_kitchen(
    data_dir: Path,
    *,
    scanners: list[str],
    items: dict[str, str],
    location: str = "Shelf",
    viewers: tuple[str, ...] = (),
    database_url: str | None = None,
) -> Seeded:
    """Set a stopped Stocky's database up through its services (no HTTP): one
    location, named items, scanners already scanning into it, and Read-only
    users with an API key (their keys go in ``keys`` too). The database is
    ``database_url``'s, or else the SQLite file in ``data_dir``."""
    settings = Settings(
        _env_file=None,
        data_dir=data_dir,
        # The file a ``stocky serve`` over ``data_dir`` serves, whatever DATABASE_URL the shell has.
        database_url=database_url or f"sqlite+aiosqlite:///{data_dir / 'stocky.db'}",
        uda_api_url=OFFLINE_LOOKUP,
    )
    async with open_services(settings) as services:
        place = (await add_locations(services, {location: None}))[location]
        item_ids = {}
        for upc, name in items.items():
            item_ids[upc] = str(
                (await services.items.create({"name": name, "upc": upc}, SYSTEM)).id
            )
        keys = {}
        for name in scanners:
            created = await services.users.create({"username": name, "role": "Scanner"}, SYSTEM)
            assert created.api_key
            await services.scans.set_state(created.id, {"current_location_id": place.id}, SYSTEM)
            keys[name] = created.api_key
        for name in viewers:
            viewer = await services.users.create(
                {
                    "username": name,
                    "role": "Read-only",
                    "password": uuid.uuid4().hex,
                    "with_api_key": True,
                },
                SYSTEM,
            )
            assert viewer.api_key
            keys[name] = viewer.api_key
    return Seeded(location_id=str(place.id), keys=keys, item_ids=item_ids)
