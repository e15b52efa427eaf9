from __future__ import annotations

import uuid

from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.schemas.common import Input, Page
from stocky.schemas.location import LocationCreate, LocationEmptied, LocationOut, LocationUpdate


class EmptyLocation(Input):
    into_location_id: uuid.UUID


async def list_locations(call: Call) -> Page[LocationOut]:
    return await call.services.locations.list(call.actor)


async def create_location(call: Call) -> LocationOut:
    return await call.services.locations.create(call.body, call.actor)


async def get_location(call: Call) -> LocationOut:
    return await call.services.locations.get(call.path_id("location"), call.actor)


async def update_location(call: Call) -> LocationOut:
    return await call.services.locations.update(call.path_id("location"), call.body, call.actor)


async def delete_location(call: Call) -> None:
    await call.services.locations.delete(call.path_id("location"), call.actor)


async def empty_location(call: Call) -> LocationEmptied:
    return await call.services.skus.empty_location(call.path_id("location"), call.body.into_location_id, call.actor)


ROUTES = [
    Route("GET", "/location", list_locations, Policy.READ, "All locations", "location",
          response=Page[LocationOut]),
    Route("POST", "/location", create_location, Policy.MEMBER, "Create a location", "location",
          body=LocationCreate, response=LocationOut, status=201, errors=(409,)),
    Route("GET", "/location/{id}", get_location, Policy.READ, "A location", "location",
          response=LocationOut),
    Route("PATCH", "/location/{id}", update_location, Policy.MEMBER, "Change a location",
          "location", body=LocationUpdate, response=LocationOut, errors=(409,)),
    Route("DELETE", "/location/{id}", delete_location, Policy.MEMBER,
          "Delete an empty location", "location", status=204, errors=(409,)),
    Route("POST", "/location/{id}/empty", empty_location, Policy.MEMBER,
          "Move everything in this location to another one: one change, undone whole by "
          "POST /stock-change/{change_id}/undo", "location",
          body=EmptyLocation, response=LocationEmptied, errors=(409,)),
]
