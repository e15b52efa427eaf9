from __future__ import annotations

import logging
import uuid

from sqlalchemy import delete
from sqlalchemy.orm import Session

from stocky.core.errors import Conflict, NotFound
from stocky.crud import location as crud
from stocky.crud import sku as sku_crud
from stocky.crud.common import get_or_404
from stocky.models import Location
from stocky.schemas.actor import Actor
from stocky.schemas.common import Page, parse
from stocky.schemas.location import LocationCreate, LocationOut, LocationUpdate
from stocky.services.base import Service, UnitOfWork
from stocky.services.permissions import Action
from stocky.services.stock import item_label

log = logging.getLogger("stocky.locations")


def _out(location: Location, total: int) -> LocationOut:
    return LocationOut(
        id=location.id,
        name=location.name,
        storage_type=location.storage_type,
        details=location.details,
        total_quantity=total,
        created_at=location.created_at,
        updated_at=location.updated_at,
    )


class LocationService(Service):
    async def list(self, actor: Actor) -> Page[LocationOut]:
        def query(session: Session) -> Page[LocationOut]:
            rows = crud.all_with_totals(session)
            return Page[LocationOut](data=[_out(loc, total) for loc, total in rows], total=len(rows))

        return await self.read(actor, Action.INVENTORY_READ, query)

    async def get(self, location_id: uuid.UUID, actor: Actor) -> LocationOut:
        found = await self.read(
            actor, Action.INVENTORY_READ, lambda session: crud.one_with_total(session, location_id)
        )
        if found is None:
            raise NotFound(f"No location with id {location_id}.", id=str(location_id))
        return _out(*found)

    async def create(self, data: LocationCreate | dict, actor: Actor) -> LocationOut:
        data = parse(LocationCreate, data)

        def change(work: UnitOfWork) -> Location:
            _check_name_free(work, data.name)
            location = Location(**data.model_dump())
            work.session.add(location)
            work.session.flush()
            work.emit("location", location.id, "created")
            work.log(log, logging.INFO, "Created location %s", location.name, source=actor.username)
            return location

        return _out(await self.write(actor, Action.INVENTORY_CHANGE, change), 0)

    async def update(self, location_id: uuid.UUID, data: LocationUpdate | dict, actor: Actor) -> LocationOut:
        data = parse(LocationUpdate, data)
        changes = data.model_dump(exclude_unset=True)

        def change(work: UnitOfWork) -> LocationOut:
            location = get_or_404(work.session, Location, location_id, "location")
            if changes.get("name") and changes["name"].lower() != location.name.lower():
                _check_name_free(work, changes["name"])
            for field, value in changes.items():
                setattr(location, field, value)
            work.session.flush()
            work.emit("location", location.id, "updated")
            work.log(log, logging.INFO, "Updated location %s", location.name, source=actor.username)
            return _out(location, crud.one_with_total(work.session, location_id)[1])

        return await self.write(actor, Action.INVENTORY_CHANGE, change)

    async def delete(self, location_id: uuid.UUID, actor: Actor) -> None:
        """Only an empty location can go; its zero-quantity SKUs go with it."""

        def change(work: UnitOfWork) -> None:
            location = get_or_404(work.session, Location, location_id, "location")
            stocked = crud.stocked_items(work.session, location_id)
            if stocked:
                names = ", ".join(f"{item_label(item)} ({sku.quantity})" for sku, item in stocked[:5])
                more = f" and {len(stocked) - 5} more" if len(stocked) > 5 else ""
                raise Conflict(
                    f"{location.name} is not empty: {names}{more}. Move or remove them first.",
                    items=len(stocked),
                )
            for sku_id in sku_crud.ids_of(work.session, location_id=location_id):
                work.emit("sku", sku_id, "deleted")
            work.session.execute(delete(Location).where(Location.id == location_id))
            work.emit("location", location_id, "deleted")
            work.log(log, logging.INFO, "Deleted location %s", location.name, source=actor.username)

        await self.write(actor, Action.INVENTORY_CHANGE, change)


def _check_name_free(work: UnitOfWork, name: str) -> None:
    if existing := crud.by_name(work.session, name):
        raise Conflict(f"There is already a location called {existing.name}.", id=str(existing.id))
