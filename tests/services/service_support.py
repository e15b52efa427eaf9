"""Helpers of the service-level tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from stocky.schemas.actor import SYSTEM, Actor
from stocky.services.container import Services
from stocky.services.users import actor_of

ROLES = ("Admin", "Member", "Read-only", "Scanner", "deactivated")


async def new_account(services: Services, role: str, source: str = "api") -> Actor:
    """A stored account of ``role`` and the actor a front door makes of it."""
    data = {"username": f"{role.lower()}-{uuid.uuid4().hex[:6]}", "role": role}
    if role != "Scanner":
        data["password"] = f"pw-{uuid.uuid4().hex}"
    return actor_of(await services.users.create(data, SYSTEM), source)


@dataclass
class Kitchen:
    """Fresh things to act on, made by Stocky itself (``SYSTEM``)."""

    services: Services
    pantry: uuid.UUID
    fridge: uuid.UUID

    async def item(self, upc: str | None = None) -> uuid.UUID:
        name = None if upc else f"Thing {uuid.uuid4().hex[:6]}"
        return (await self.services.items.create({"name": name, "upc": upc}, SYSTEM)).id

    async def barcode_item(self) -> uuid.UUID:
        return await self.item(upc=f"59{uuid.uuid4().int % 10**11:011d}")

    async def location(self) -> uuid.UUID:
        return (await self.services.locations.create({"name": f"Shelf {uuid.uuid4().hex[:6]}"}, SYSTEM)).id

    async def sku(self, quantity: int = 3, location: uuid.UUID | None = None) -> uuid.UUID:
        body = {"item_id": await self.item(), "location_id": location or self.pantry, "quantity": quantity}
        return (await self.services.skus.create(body, SYSTEM)).id

    async def alert(self) -> uuid.UUID:
        return (await self.services.alerts.create({"message": f"Check {uuid.uuid4().hex[:6]}"}, SYSTEM)).id

    async def scanner(self) -> uuid.UUID:
        return (await new_account(self.services, "Scanner")).user_id
