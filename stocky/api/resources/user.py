from __future__ import annotations

from stocky.api.auth import client_address
from stocky.api.policy import Policy
from stocky.api.resources.auth import issue_token
from stocky.api.routing import Call, Route
from stocky.schemas.auth import TokenOut
from stocky.schemas.common import Page
from stocky.schemas.user import (
    ApiKeyOut,
    MeOut,
    PasswordChange,
    UserCreate,
    UserCreated,
    UserOut,
    UserUpdate,
)


async def me(call: Call) -> MeOut:
    return await call.services.users.me(call.actor)


async def change_own_password(call: Call) -> TokenOut:
    """Every other sign-in of the account ends; the one asking goes on with
    the fresh access token in the answer (a browser keeps its cookie)."""
    body: PasswordChange = call.body
    settings = call.services.settings
    session_id = call.identity.session_id
    signed_in = await call.services.users.change_own_password(
        call.actor, body.current_password, body.new_password,
        client_address(call.request, settings.trust_forwarded_for), keep_session=session_id,
    )
    minutes = settings.web_access_minutes if session_id else settings.access_token_minutes
    return issue_token(call, signed_in.user, signed_in.token_version, minutes, session_id)


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
    Route("GET", "/user/me", me, Policy.PERSON, "Who am I, and what may I do (can)", "user",
          response=MeOut),
    Route("PUT", "/user/me/password", change_own_password, Policy.PERSON,
          "Change one's own password; every other sign-in of the account ends", "user",
          body=PasswordChange, response=TokenOut, errors=(401, 422, 429)),
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
