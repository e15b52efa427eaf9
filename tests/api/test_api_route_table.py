"""Who may call what, generated from the route table itself.

Every route of ``stocky.api.app.all_routes()`` is called by everyone
(anonymous, Read-only, Scanner, Member, Admin) with a request that is valid
for an allowed caller. Refused callers get 401 (anonymous) or 403 (signed in,
wrong role) and change nothing; allowed ones get the route's own 2xx. A route
added to the table without a valid request below fails here until one is
written, so no route can slip past the matrix.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from stocky.api import keys
from stocky.api.app import all_routes, create_app
from stocky.api.policy import ALLOWED_ROLES, Policy
from stocky.api.routing import check_policies
from stocky.core.tls import ensure_box_certificate

ROLES = ("anonymous", "Read-only", "Scanner", "Member", "Admin")
MILK_UPC = "4006381333931"


@dataclass
class Request:
    path: str  # as in the route table, ids filled in
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)


Factory = Callable[[Any], Awaitable[Request]]


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


async def _fresh_zero_item(api) -> str:
    return await api.new_item(unique("Empty jar"))


async def _fresh_stocked_location(api) -> str:
    location = await api.new_location()
    await api.new_sku(await _fresh_zero_item(api), location, 1)
    return location


async def _fresh_zero_sku(api) -> str:
    return await api.new_sku(await _fresh_zero_item(api), api.loc("Pantry"), 0)


def const(path: str, json: Any = None, **params: str) -> Factory:
    async def build(api) -> Request:
        return Request(path.format(**_ids(api)), json, params)

    return build


def _ids(api) -> dict[str, str]:
    return {
        "milk": api.item("milk"),
        "pantry": api.loc("Pantry"),
        "shelf": api.loc("Shelf"),
        "member": api.user("Member"),
        "scanner": api.user("Scanner"),
        "milk_sku": api.sku("milk@Fridge"),
        "own_password": api.seed.passwords["Admin"],  # the caller's own, as the Admin calls
    }


async def _login(api) -> Request:
    return Request(
        "/api/v1/auth/login", {"username": "bob", "password": api.seed.passwords["Member"]}
    )


async def _session(api) -> Request:
    return Request(
        "/api/v1/auth/session", {"username": "bob", "password": api.seed.passwords["Member"]}
    )


async def _refresh(api) -> Request:
    # The client's cookie jar keeps the refresh cookie this sign-in sets.
    signed_in = await api.post("/auth/session", who="anonymous", json=(await _session(api)).json)
    assert signed_in.status == 200, signed_in
    return Request("/api/v1/auth/refresh")


async def _create_user(api) -> Request:
    return Request("/api/v1/user", {"username": unique("scanner"), "role": "Scanner"})


async def _on_fresh_scanner(api, path: str, json: Any = None) -> Request:
    scanner_id, _ = await api.new_scanner()
    return Request(path.format(id=scanner_id), json)


async def _create_sku(api) -> Request:
    return Request(
        "/api/v1/sku", {"item_id": await _fresh_zero_item(api), "location_id": api.loc("Pantry")}
    )


async def _fresh_scan(api) -> Request:
    """A change the scanner made itself: Members, Admins and that scanner may undo it."""
    reply = await api.post("/scanner/scan", who="Scanner", json={"msg": MILK_UPC})
    assert reply.status == 200, reply
    return Request(f"/api/v1/stock-change/{reply.json['change_id']}/undo")


async def _scan_into(api) -> Request:
    """A fresh scanner's scan of the milk, put in the pantry by a person."""
    scanner_id, _ = await api.new_scanner()
    return Request(f"/api/v1/scanner/{scanner_id}/scan-into", {"location_id": api.loc("Pantry"), "msg": MILK_UPC})


async def _fresh_alert(api, path: str, json: Any = None) -> Request:
    return Request(path.format(id=await api.new_alert()), json)


# route key -> a request an allowed caller gets a 2xx for.
VALID: dict[str, Factory] = {
    "POST /api/v1/stock-change/{id}/undo": _fresh_scan,
    "POST /api/v1/auth/login": _login,
    "POST /api/v1/auth/session": _session,
    "POST /api/v1/auth/refresh": _refresh,
    "POST /api/v1/auth/logout": const("/api/v1/auth/logout", {"everywhere": False}),
    "GET /api/v1/user/me": const("/api/v1/user/me"),
    "PUT /api/v1/user/me/password": const(
        "/api/v1/user/me/password",
        {"current_password": "{own_password}", "new_password": "a kitchen with 3 shelves"},
    ),
    "GET /api/v1/user": const("/api/v1/user"),
    "POST /api/v1/user": _create_user,
    "GET /api/v1/user/{id}": const("/api/v1/user/{member}"),
    "PATCH /api/v1/user/{id}": lambda api: _on_fresh_scanner(
        api, "/api/v1/user/{id}", {"is_active": False}
    ),
    "DELETE /api/v1/user/{id}": lambda api: _on_fresh_scanner(api, "/api/v1/user/{id}"),
    "POST /api/v1/user/{id}/api-key": lambda api: _on_fresh_scanner(
        api, "/api/v1/user/{id}/api-key"
    ),
    "GET /api/v1/item": const("/api/v1/item", search="milk", stock="all"),
    "POST /api/v1/item": lambda api: const("/api/v1/item", {"name": unique("Biscuits")})(api),
    "GET /api/v1/item/{id}": const("/api/v1/item/{milk}"),
    "PATCH /api/v1/item/{id}": const("/api/v1/item/{milk}", {"description": "Semi-skimmed"}),
    "DELETE /api/v1/item/{id}": lambda api: _with_id(api, "/api/v1/item/{id}", _fresh_zero_item),
    "POST /api/v1/item/{id}/refresh": const("/api/v1/item/{milk}/refresh"),
    "GET /api/v1/item/{id}/history": const("/api/v1/item/{milk}/history"),
    # A barcode an item has answers that item: no product service needed here.
    "GET /api/v1/product/{barcode}": const(f"/api/v1/product/{MILK_UPC}"),
    "GET /api/v1/location": const("/api/v1/location"),
    "POST /api/v1/location": lambda api: const("/api/v1/location", {"name": unique("Drawer")})(api),
    "GET /api/v1/location/{id}": const("/api/v1/location/{pantry}"),
    "PATCH /api/v1/location/{id}": const(
        "/api/v1/location/{pantry}", {"details": "Left of the oven"}
    ),
    "DELETE /api/v1/location/{id}": lambda api: _with_id(
        api, "/api/v1/location/{id}", lambda a: a.new_location()
    ),
    "POST /api/v1/location/{id}/empty": lambda api: _empty_location(api),
    "GET /api/v1/sku": const("/api/v1/sku"),
    "POST /api/v1/sku": _create_sku,
    "GET /api/v1/sku/{id}": const("/api/v1/sku/{milk_sku}"),
    "PATCH /api/v1/sku/{id}": const("/api/v1/sku/{milk_sku}", {"quantity": 4}),
    "DELETE /api/v1/sku/{id}": lambda api: _with_id(api, "/api/v1/sku/{id}", _fresh_zero_sku),
    "POST /api/v1/sku/{id}/adjust": const("/api/v1/sku/{milk_sku}/adjust", {"delta": 1}),
    "POST /api/v1/sku/{id}/date": const("/api/v1/sku/{milk_sku}/date", {"best_before": "2030-01-31"}),
    "POST /api/v1/sku/{id}/move": const(
        "/api/v1/sku/{milk_sku}/move", {"location_id": "{shelf}", "quantity": 1}
    ),
    "GET /api/v1/lot": const("/api/v1/lot?expiring_within_days=3"),
    "GET /api/v1/alert": const("/api/v1/alert"),
    "POST /api/v1/alert": const("/api/v1/alert", {"message": "The freezer door is open"}),
    "POST /api/v1/alert/acknowledge": const("/api/v1/alert/acknowledge"),
    "GET /api/v1/alert/{id}": lambda api: _fresh_alert(api, "/api/v1/alert/{id}"),
    "PATCH /api/v1/alert/{id}": lambda api: _fresh_alert(
        api, "/api/v1/alert/{id}", {"is_acknowledged": True}
    ),
    "DELETE /api/v1/alert/{id}": lambda api: _fresh_alert(api, "/api/v1/alert/{id}"),
    "POST /api/v1/scanner/scan": const("/api/v1/scanner/scan", {"msg": MILK_UPC}),
    "GET /api/v1/scanner/status": const("/api/v1/scanner/status"),
    "PUT /api/v1/scanner/{id}/state": const(
        "/api/v1/scanner/{scanner}/state", {"current_mode": "remove"}
    ),
    "POST /api/v1/scanner/{id}/scan-into": lambda api: _scan_into(api),
    "GET /api/v1/log": const("/api/v1/log", severity="INFO"),
    "GET /api/v1/qr/item/{id}": const("/api/v1/qr/item/{milk}"),
    "GET /api/v1/qr/location/{id}": const("/api/v1/qr/location/{pantry}", format="svg"),
    "POST /api/v1/qr/command": const(
        "/api/v1/qr/command", {"command": "set_mode", "payload": "add"}
    ),
    "GET /health": const("/health"),
    "GET /connect": const("/connect"),
    "GET /ca.pem": lambda api: _own_ca(api),
    "GET /api/v1/health": const("/api/v1/health"),
    "GET /api/v1/openapi.json": const("/api/v1/openapi.json"),
    "GET /api/v1/docs": const("/api/v1/docs"),
    "GET /api/v1/docs/assets/{name}": const("/api/v1/docs/assets/swagger-ui.css"),
    "GET /ws": const("/ws"),  # a WebSocket handshake, see _call_ws
}


async def _own_ca(api) -> Request:
    """Stocky with a certificate authority of its own (as when it serves HTTPS)."""
    https = api.client.server.app[keys.HTTPS]
    https.ca = ensure_box_certificate(api.data_dir / "tls", ["localhost", "127.0.0.1"]).ca
    return Request("/ca.pem")


async def _with_id(api, path: str, make: Callable[[Any], Awaitable[str]]) -> Request:
    return Request(path.format(id=await make(api)))


async def _empty_location(api) -> Request:
    return Request(
        f"/api/v1/location/{await _fresh_stocked_location(api)}/empty",
        {"into_location_id": api.loc("Shelf")},
    )


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


ROUTES = all_routes()


def allowed(policy: Policy, who: str) -> bool:
    return policy is Policy.ANYONE or (who != "anonymous" and who in ALLOWED_ROLES[policy])


def test_every_route_has_a_valid_request_in_this_table():
    assert set(VALID) == {route.key for route in ROUTES}


def test_every_route_names_a_policy_the_matrix_knows():
    for route in ROUTES:
        assert isinstance(route.policy, Policy), route.key
        assert route.policy in ALLOWED_ROLES, route.key


async def _call_ws(api, who: str) -> int:
    async with api.client.ws_connect("/ws", headers=api.headers(who)) as ws:
        await ws.send_json({"action": "identify_ui", "ui_id": str(uuid.uuid4())})
        message = await ws.receive_json(timeout=5)
        assert message["action"] == "identified", message
        assert message["authenticated"] is (who != "anonymous"), message
    return 101


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=[route.key for route in ROUTES])
async def test_permission_matrix(api, route, who):
    factory = VALID.get(route.key)
    if factory is None:
        pytest.fail(f"{route.key} has no valid request in VALID: add one")
    if route.key == "GET /ws":  # a WebSocket handshake, not a request/answer
        if allowed(route.policy, who):
            assert await _call_ws(api, who) == 101
        else:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await _call_ws(api, who)
            assert refused.value.status == (401 if who == "anonymous" else 403)
        return
    request = await factory(api)
    body = _fill(request.json, {**_ids(api), "own_password": api.seed.passwords.get(who, "")})
    before = await api.snapshot()
    kwargs: dict[str, Any] = {"who": who, "params": request.params or None}
    if body is not None:
        kwargs["json"] = body
    reply = await api.call(route.method, request.path, **kwargs)

    if allowed(route.policy, who):
        assert reply.status == route.status, (route.key, who, reply)
        return
    expected = 401 if who == "anonymous" else 403
    api.error(reply, expected, "not_authenticated" if expected == 401 else "forbidden")
    if expected == 401:
        assert reply.headers.get("WWW-Authenticate", "").lower().startswith("bearer")
    assert await api.snapshot() == before, f"{who} was refused {route.key} but something changed"


# -- deny by default -----------------------------------------------------------------


async def _backdoor(request: web.Request) -> web.Response:
    return web.Response(text="every item, no questions asked")


async def test_a_route_without_a_policy_is_refused(api):
    app = create_app(api.services)
    check_policies(app)  # the control: the declared routes all have one
    app.router.add_get("/api/v1/backdoor", _backdoor)
    with pytest.raises(RuntimeError, match="backdoor"):
        check_policies(app)

    runner = web.AppRunner(app)
    try:
        with pytest.raises(RuntimeError, match="backdoor"):
            await runner.setup()  # start-up runs the check again
    finally:
        await runner.cleanup()


async def test_a_new_method_on_a_declared_path_needs_a_policy_too(api):
    app = create_app(api.services)
    app.router.add_route("PUT", "/api/v1/item", _backdoor)
    with pytest.raises(RuntimeError, match="PUT /api/v1/item"):
        check_policies(app)


# -- the error statuses every route with a body or an id can give -------------------

BODY_ROUTES = [route for route in ROUTES if route.body is not None]
# A barcode is no id: any printable text may be one (tests/integration/test_product_form.py).
ID_ROUTES = [route for route in ROUTES if route.path_params and route.path_params != ["barcode"]]


async def _valid_request(api, route) -> tuple[str, Any]:
    request = await VALID[route.key](api)
    return request.path, _fill(request.json, _ids(api))


MALFORMED = [b'{"name": "Milk",', b"milk", b"{'single': 'quotes'}", b"", b"  ", b"\xff\xfe{}"]


@pytest.mark.parametrize("route", BODY_ROUTES, ids=[route.key for route in BODY_ROUTES])
async def test_malformed_json_is_400(api, route):
    path, _ = await _valid_request(api, route)
    before = await api.snapshot()
    for raw in MALFORMED:
        if route.body_optional and not raw:
            continue  # no body at all: the defaults (sign out this browser)
        reply = await api.call(route.method, path, data=raw)
        api.error(reply, 400, "bad_request")
    assert await api.snapshot() == before


@pytest.mark.parametrize("route", BODY_ROUTES, ids=[route.key for route in BODY_ROUTES])
async def test_a_valid_body_not_sent_as_json_is_415_and_documented(api, route):
    path, body = await _valid_request(api, route)
    before = await api.snapshot()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        reply = await api.call(
            route.method, path, data=json.dumps(body).encode(), headers={"Content-Type": content_type}
        )
        api.error(reply, 415, "unsupported_media_type")
    assert await api.snapshot() == before
    spec = (await api.get("/openapi.json", who="anonymous")).json
    assert "415" in spec["paths"][route.full_path][route.method.lower()]["responses"]


@pytest.mark.parametrize("route", BODY_ROUTES, ids=[route.key for route in BODY_ROUTES])
async def test_a_body_over_256_kib_is_413(api, route):
    path, body = await _valid_request(api, route)
    # Valid JSON, just too big: refused for its size, before anything reads it.
    padded = json.dumps({**body, "padding": "x" * (256 * 1024)}).encode()
    before = await api.snapshot()
    reply = await api.call(route.method, path, data=padded)
    api.error(reply, 413, "too_large")
    assert await api.snapshot() == before


@pytest.mark.parametrize("route", BODY_ROUTES, ids=[route.key for route in BODY_ROUTES])
async def test_a_body_just_under_the_limit_is_not_413(api, route):
    path, body = await _valid_request(api, route)
    padded = json.dumps({**body, "padding": "x" * (250 * 1024)}).encode()
    reply = await api.call(route.method, path, data=padded)
    # Unknown fields are refused, by name: the size was fine.
    assert "padding" in api.failing_fields(reply)


@pytest.mark.parametrize("route", BODY_ROUTES, ids=[route.key for route in BODY_ROUTES])
async def test_a_body_that_is_not_an_object_is_422(api, route):
    path, _ = await _valid_request(api, route)
    before = await api.snapshot()
    for raw in (b"[]", b'"milk"', b"null", b"42", b"true"):
        api.failing_fields(await api.call(route.method, path, data=raw))
    assert await api.snapshot() == before


@pytest.mark.parametrize("route", ID_ROUTES, ids=[route.key for route in ID_ROUTES])
async def test_unknown_and_malformed_ids_are_404(api, route):
    _, body = await _valid_request(api, route)
    name = route.path_params[0]
    wrong_ids = [str(uuid.uuid4()), "not-an-id", "12345", str(uuid.uuid4()).replace("-", "")[:31]]
    if name == "name":  # the docs' files are named, not numbered
        wrong_ids = ["swagger-ui.min.css", "..%2Fsecret_key", "index.html"]
    before = await api.snapshot()
    kwargs = {"json": body} if body is not None else {}
    for wrong in wrong_ids:
        path = route.full_path.replace("{" + name + "}", wrong)
        api.error(await api.call(route.method, path, **kwargs), 404, "not_found")
    assert await api.snapshot() == before


# -- what no route gives away -------------------------------------------------------


async def test_an_unknown_address_is_a_json_404(api):
    api.error(await api.get("/api/v1/items"), 404, "not_found")
    api.error(await api.get("/nothing/here", who="anonymous"), 404, "not_found")


async def test_a_wrong_method_is_a_json_405_with_allow(api):
    reply = await api.call("PUT", "/item")
    api.error(reply, 405)
    assert set(reply.headers["Allow"].split(",")) == {"GET", "POST"}


async def test_an_unexpected_failure_is_a_500_without_a_traceback(api, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals: /srv/stocky/db password=hunter2")

    monkeypatch.setattr(api.services.items, "list", broken)
    reply = await api.get("/item")
    detail = api.error(reply, 500, "internal")
    assert "hunter2" not in reply.text and "RuntimeError" not in reply.text
    assert 'File "' not in reply.text
    # The next request is served as usual.
    assert (await api.get("/location")).status == 200
    assert detail["message"]


async def test_a_plain_get_of_the_websocket_is_a_json_400(api):
    api.error(await api.get("/ws", who="anonymous"), 400, "bad_request")


async def test_deeply_nested_json_is_a_client_error_not_a_500(api):
    nested = b"[" * 5000 + b"]" * 5000
    statuses = {}
    for route in BODY_ROUTES:
        path, _ = await _valid_request(api, route)
        for raw in (nested, b'{"name": ' + nested + b"}"):
            who = "anonymous" if route.policy is Policy.ANYONE else "Admin"
            reply = await api.call(route.method, path, who=who, data=raw)
            statuses[route.key] = reply.status
    assert all(status in (400, 422) for status in statuses.values()), statuses
    errors = api.page(await api.get("/log", params={"severity": "ERROR"}))
    assert errors == []


# -- the route table against DESIGN.md section 5 -------------------------------------

PEOPLE_ROLES = frozenset({"Admin", "Member", "Read-only"})
EVERYONE = frozenset(ALLOWED_ROLES[Policy.ANYONE])
READ = frozenset({"Admin", "Member", "Read-only"})
MEMBER = frozenset({"Admin", "Member"})
ADMIN = frozenset({"Admin"})

# Who DESIGN.md section 5 lets call each route. Routes the table has beyond
# the design follow their neighbours (reading is Read-only+, changing Member+).
DESIGN_ROLES: dict[str, frozenset[str]] = {
    "POST /api/v1/auth/login": EVERYONE,
    # DESIGN.md says "any authenticated user"; the API issue, newer, says
    # scanner keys can scan and nothing else.
    "GET /api/v1/user/me": frozenset({"Admin", "Member", "Read-only"}),
    # Everyone who has a password changes their own (the doors issue).
    "PUT /api/v1/user/me/password": frozenset({"Admin", "Member", "Read-only"}),
    **{
        key: ADMIN
        for key in (
            "GET /api/v1/user",
            "POST /api/v1/user",
            "GET /api/v1/user/{id}",
            "PATCH /api/v1/user/{id}",
            "DELETE /api/v1/user/{id}",
            "POST /api/v1/user/{id}/api-key",
            "DELETE /api/v1/item/{id}",
        )
    },
    **{
        key: READ
        for key in (
            "GET /api/v1/item",
            "GET /api/v1/item/{id}",
            "GET /api/v1/item/{id}/history",
            "GET /api/v1/location",
            "GET /api/v1/location/{id}",
            "GET /api/v1/sku",
            "GET /api/v1/sku/{id}",
            "GET /api/v1/lot",
            "GET /api/v1/alert",
            "GET /api/v1/alert/{id}",
            "GET /api/v1/log",
            "GET /api/v1/scanner/status",
            "GET /api/v1/qr/item/{id}",
            "GET /api/v1/qr/location/{id}",
            "POST /api/v1/qr/command",
        )
    },
    **{
        key: MEMBER
        for key in (
            "POST /api/v1/item",
            "PATCH /api/v1/item/{id}",
            "POST /api/v1/item/{id}/refresh",
            "GET /api/v1/product/{barcode}",  # it asks the product service, as a new scan does
            "POST /api/v1/location",
            "PATCH /api/v1/location/{id}",
            "DELETE /api/v1/location/{id}",
            "POST /api/v1/location/{id}/empty",
            "POST /api/v1/sku",
            "PATCH /api/v1/sku/{id}",
            "DELETE /api/v1/sku/{id}",
            "POST /api/v1/sku/{id}/adjust",
            "POST /api/v1/sku/{id}/date",
            "POST /api/v1/sku/{id}/move",
            "POST /api/v1/alert",
            "POST /api/v1/alert/acknowledge",
            "PATCH /api/v1/alert/{id}",
            "DELETE /api/v1/alert/{id}",
            # DESIGN.md sections 5 and 10: anyone who may scan a command card
            # may set the same on a screen.
            "PUT /api/v1/scanner/{id}/state",
            "POST /api/v1/scanner/{id}/scan-into",  # the same, and the scan the scanner sent
        )
    },
    # DESIGN says "Scanner (API key)"; the code also lets people who may change
    # stock scan (a phone app), which gives them nothing /sku does not.
    "POST /api/v1/scanner/scan": frozenset({"Scanner", "Member", "Admin"}),
    # "Member+, or the scanner that made it": the route lets scanners in, the
    # service refuses a change that is not their own.
    "POST /api/v1/stock-change/{id}/undo": frozenset({"Scanner", "Member", "Admin"}),
    **{
        key: EVERYONE
        for key in (
            "GET /health",
            "GET /connect",
            "GET /ca.pem",
            "GET /api/v1/health",
            "GET /api/v1/openapi.json",
            "GET /api/v1/docs",
            "GET /api/v1/docs/assets/{name}",
            "GET /ws",
            # StockyWeb's sign-in (section 11): a password or the refresh cookie is the proof.
            "POST /api/v1/auth/session",
            "POST /api/v1/auth/refresh",
            "POST /api/v1/auth/logout",
        )
    },
}

@pytest.mark.parametrize(
    "route",
    [
        route
        for route in ROUTES
    ],
    ids=[route.key for route in ROUTES],
)
def test_route_policy_matches_design(route):
    assert route.key in DESIGN_ROLES, f"{route.key} is not in DESIGN.md section 5 nor in this table"
    assert ALLOWED_ROLES[route.policy] == DESIGN_ROLES[route.key], route.policy
