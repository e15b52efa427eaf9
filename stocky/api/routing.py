"""One declarative table of routes: path, policy, input and output models.

The table is the single place that says who may call what; the same
declarations validate requests and generate ``openapi.json``.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from stocky.api import keys
from stocky.api.auth import authenticate
from stocky.api.policy import Policy
from stocky.core.digits import parse_uuid
from stocky.core.errors import NotFound, PermissionDenied, StockyError
from stocky.schemas.actor import Actor
from stocky.schemas.common import parse
from stocky.schemas.user import UserOut
from stocky.services.container import Services
from stocky.services.credentials import Identity
from stocky.services.users import actor_of

PREFIX = "/api/v1"
_PATH_PARAM = re.compile(r"{(\w+)}")


class BadRequest(StockyError):
    code = "bad_request"


@dataclass
class Call:
    """What a handler gets: the request, validated input and who is asking."""

    request: web.Request
    services: Services
    identity: Identity | None
    body: Any = None
    query: Any = None

    @property
    def user(self) -> UserOut | None:
        return self.identity.user if self.identity is not None else None

    @property
    def actor(self) -> Actor:
        if self.user is None:
            raise PermissionDenied("Sign in first.")
        return actor_of(self.user, "api")

    def path_id(self, what: str, name: str = "id") -> uuid.UUID:
        raw = self.request.match_info[name]
        try:
            return parse_uuid(raw)
        except ValueError:
            raise NotFound(f"No {what} with id {raw}.") from None


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # below the prefix, e.g. "/item/{id}"
    handler: Handler
    policy: Policy
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    body_optional: bool = False  # no body at all means the model's defaults
    query: type[BaseModel] | None = None
    response: Any = None  # a pydantic model, a Page[...] or None (204)
    status: int = 200
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"  # of the success response
    prefixed: bool = True
    documented: bool = True  # in openapi.json (the WebSocket is not REST)

    @property
    def full_path(self) -> str:
        return PREFIX + self.path if self.prefixed else self.path

    @property
    def key(self) -> str:
        return f"{self.method} {self.full_path}"

    @property
    def operation_id(self) -> str:
        return self.handler.__name__ if self.prefixed else f"{self.handler.__name__}_unprefixed"

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)


async def _read_body(request: web.Request, model: type[BaseModel], deadline: float) -> BaseModel:
    # Only JSON declared as JSON: a cross-site form may post text/plain
    # without asking first, never application/json.
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(reason="Send the body as JSON (Content-Type: application/json).")
    try:
        # A body trickling in byte by byte would hold its connection (and
        # this handler) for ever: it gets as long as the headers got.
        async with asyncio.timeout(deadline):
            raw = await request.read()  # 413 past client_max_size
    except TimeoutError:
        raise web.HTTPRequestTimeout(reason="The request body did not arrive in time.") from None
    if not raw.strip():
        raise BadRequest("This request needs a JSON body.")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("The body is not valid JSON.") from None
    return parse(model, data)


def _to_response(result: Any, route: Route) -> web.StreamResponse:
    if isinstance(result, web.StreamResponse):
        return result
    if result is None:
        return web.Response(status=204)
    if isinstance(result, BaseModel):
        return web.Response(
            text=result.model_dump_json(), status=route.status, content_type="application/json"
        )
    return web.json_response(result, status=route.status)


def endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        services = request.app[keys.SERVICES]
        identity = None
        if route.policy is not Policy.ANYONE:
            identity = await authenticate(request, services)
            if not route.policy.allows(identity.user.role):
                raise PermissionDenied(
                    f"{identity.user.role} accounts may not do this; it needs {route.policy.value}."
                )
        call = Call(request=request, services=services, identity=identity)
        if route.body is not None and route.body_optional and not request.body_exists:
            call.body = route.body()
        elif route.body is not None:
            call.body = await _read_body(request, route.body, services.settings.http_header_timeout)
        if route.query is not None:
            call.query = parse(route.query, dict(request.query))
        return _to_response(await route.handler(call), route)

    handle.__name__ = route.handler.__name__
    return handle


def add_routes(app: web.Application, routes: list[Route]) -> None:
    table = app[keys.ROUTES]
    for route in routes:
        if route.key in table:
            raise RuntimeError(f"route declared twice: {route.key}")
        table[route.key] = route
        app.router.add_route(route.method, route.full_path, endpoint(route))


def undeclared_routes(app: web.Application) -> list[str]:
    """Routes on the router that the policy table does not know."""
    table = app[keys.ROUTES]
    missing = []
    for resource_route in app.router.routes():
        info = resource_route.resource.get_info() if resource_route.resource else {}
        path = info.get("formatter") or info.get("path") or info.get("prefix") or "?"
        key = f"{resource_route.method} {path}"
        if key not in table:
            missing.append(key)
    return missing


def check_policies(app: web.Application) -> None:
    """Deny by default: refuse to start with a route no policy covers."""
    if missing := undeclared_routes(app):
        raise RuntimeError("routes without a declared policy: " + ", ".join(sorted(missing)))


