from __future__ import annotations

from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.schemas.common import Page
from stocky.schemas.user import ApiKeyOut, UserCreate, UserCreated, UserOut, UserUpdate


async def me(call: Call) -> UserOut:
    return call.user


async def list_users(call: Call) -> Page[UserOut]:
    return await call.services.users.list(call.actor)


async def create_user(call: Call) -> UserCreated:
    return await call.services.users.create(call.body, call.actor)


async def get_user(call: Call) -> UserOut:
    return await call.services.users.get(call.path_id("user"), call.actor)


async def update_user(call: Call) -> UserOut:
    return await call.services.users.update(call.path_id("user"), call.body, call.actor)


async def delete_user(call: Call) -> None:
    await call.services.users.delete(call.path_id("user"), call.actor)


async def rotate_api_key(call: Call) -> ApiKeyOut:
    return await call.services.users.rotate_api_key(call.path_id("user"), call.actor)


ROUTES = [
    Route("GET", "/user/me", me, Policy.PERSON, "Who am I", "user", response=UserOut),
    Route("GET", "/user", list_users, Policy.ADMIN, "All users", "user", response=Page[UserOut]),
    Route("POST", "/user", create_user, Policy.ADMIN,
          "Add a user; a Scanner gets an API key, shown only in this answer", "user",
          body=UserCreate, response=UserCreated, status=201, errors=(409, 429)),
    Route("GET", "/user/{id}", get_user, Policy.ADMIN, "A user", "user", response=UserOut),
    Route("PATCH", "/user/{id}", update_user, Policy.ADMIN,
          "Change role, password or active state (ends the user's sessions)", "user",
          body=UserUpdate, response=UserOut, errors=(409, 429)),
    Route("DELETE", "/user/{id}", delete_user, Policy.ADMIN, "Delete a user", "user",
          status=204, errors=(409,)),
    Route("POST", "/user/{id}/api-key", rotate_api_key, Policy.ADMIN,
          "Issue a new API key (the old one stops working); shown only in this answer", "user",
          response=ApiKeyOut),
]
