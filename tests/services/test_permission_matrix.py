"""The services themselves enforce the permission table (DESIGN.md section 10).

Every public method of every service is called by an actor of each role,
and by a deactivated account that still carries the role its token said:
where the table allows, the call succeeds; otherwise the service raises
``PermissionDenied`` and the database is exactly as before. The expected
answers come from the table (``stocky.services.permissions.ALLOWED``) and
the list of methods below; a public method missing from the list fails the
first test, so no new method can skip the check.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from service_support import ROLES, Kitchen

from stocky.core.errors import NotAuthenticated, PermissionDenied
from stocky.schemas.actor import SYSTEM, Actor
from stocky.services.base import Service
from stocky.services.container import Services
from stocky.services.permissions import Action, allows

Make = Callable[[Kitchen], Awaitable[Any]]
Call = Callable[[Services, Kitchen, Actor, Any], Awaitable[Any]]


@dataclass(frozen=True)
class Case:
    action: Action
    call: Call  # (services, kitchen, actor, what make made)
    make: Make | None = None  # a fresh row to act on, made before the call


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


async def _stocked_location(k: Kitchen) -> uuid.UUID:
    location = await k.location()
    await k.sku(2, location)
    return location


async def _a_change(k: Kitchen) -> uuid.UUID:
    """A stock change Stocky itself made (so nobody's own)."""
    sku = await k.sku(0)
    return (await k.services.skus.adjust(sku, {"delta": 2}, SYSTEM)).change_id


def _empty_sku(k: Kitchen) -> Awaitable[uuid.UUID]:
    return k.sku(0)


READ, CHANGE, MANAGE = Action.INVENTORY_READ, Action.INVENTORY_CHANGE, Action.USER_MANAGE
OWN = Action.OWN_ACCOUNT


async def _wrong_current_password(s: Services, actor: Actor) -> None:
    """Allowed: the account gets as far as the check of its current password."""
    with pytest.raises(NotAuthenticated, match="current password"):
        await s.users.change_own_password(actor, "not the password", "a brand new kitchen", "tests")
CARD = '{"command": "set_mode", "payload": "add"}'

CASES: dict[str, Case] = {
    # items
    "items.list": Case(READ, lambda s, k, a, _: s.items.list(a, stock="all")),
    "items.get": Case(READ, lambda s, k, a, i: s.items.get(i, a), Kitchen.item),
    "items.by_upc": Case(READ, lambda s, k, a, _: s.items.by_upc("4006381333931", a)),
    "items.history": Case(READ, lambda s, k, a, i: s.items.history(i, a), Kitchen.item),
    "items.pending_lookups": Case(READ, lambda s, k, a, _: s.items.pending_lookups(a)),
    "items.create": Case(CHANGE, lambda s, k, a, _: s.items.create({"name": _unique("Rice")}, a)),
    "items.update": Case(CHANGE, lambda s, k, a, i: s.items.update(i, {"description": "x"}, a), Kitchen.item),
    "items.request_lookup": Case(CHANGE, lambda s, k, a, i: s.items.request_lookup(i, a), Kitchen.barcode_item),
    "items.record_lookup": Case(
        CHANGE, lambda s, k, a, i: s.items.record_lookup(i, a, name="Oat milk 1 l"), Kitchen.barcode_item
    ),
    "items.delete": Case(Action.ITEM_DELETE, lambda s, k, a, i: s.items.delete(i, a), Kitchen.item),
    # locations
    "locations.list": Case(READ, lambda s, k, a, _: s.locations.list(a)),
    "locations.get": Case(READ, lambda s, k, a, _: s.locations.get(k.pantry, a)),
    "locations.create": Case(CHANGE, lambda s, k, a, _: s.locations.create({"name": _unique("Cellar")}, a)),
    "locations.update": Case(CHANGE, lambda s, k, a, i: s.locations.update(i, {"details": "x"}, a), Kitchen.location),
    "locations.delete": Case(CHANGE, lambda s, k, a, i: s.locations.delete(i, a), Kitchen.location),
    # stock
    "skus.list": Case(READ, lambda s, k, a, _: s.skus.list(a)),
    "skus.get": Case(READ, lambda s, k, a, i: s.skus.get(i, a), Kitchen.sku),
    "skus.create": Case(
        CHANGE, lambda s, k, a, i: s.skus.create({"item_id": i, "location_id": k.pantry}, a), Kitchen.item
    ),
    "skus.set_quantity": Case(CHANGE, lambda s, k, a, i: s.skus.set_quantity(i, {"quantity": 7}, a), Kitchen.sku),
    "skus.adjust": Case(CHANGE, lambda s, k, a, i: s.skus.adjust(i, {"delta": -1}, a), Kitchen.sku),
    "skus.date_units": Case(
        CHANGE, lambda s, k, a, i: s.skus.date_units(i, {"best_before": "2030-01-31"}, a), Kitchen.sku
    ),
    "skus.add_to": Case(CHANGE, lambda s, k, a, i: s.skus.add_to(i, k.pantry, 2, a), Kitchen.item),
    "skus.move": Case(
        CHANGE, lambda s, k, a, i: s.skus.move(i, {"location_id": k.fridge, "quantity": 1}, a), Kitchen.sku
    ),
    "skus.empty_location": Case(
        CHANGE, lambda s, k, a, i: s.skus.empty_location(i, k.pantry, a), _stocked_location
    ),
    "skus.delete": Case(CHANGE, lambda s, k, a, i: s.skus.delete(i, a), _empty_sku),
    # lots
    "lots.expiring": Case(READ, lambda s, k, a, _: s.lots.expiring(a, 3)),
    "lots.announce_expiry": Case(CHANGE, lambda s, k, a, _: s.lots.announce_expiry(3, a)),
    # alerts
    "alerts.list": Case(READ, lambda s, k, a, _: s.alerts.list(a)),
    "alerts.unacknowledged_count": Case(READ, lambda s, k, a, _: s.alerts.unacknowledged_count(a)),
    "alerts.get": Case(READ, lambda s, k, a, i: s.alerts.get(i, a), Kitchen.alert),
    "alerts.create": Case(CHANGE, lambda s, k, a, _: s.alerts.create({"message": _unique("Door open")}, a)),
    "alerts.update": Case(CHANGE, lambda s, k, a, i: s.alerts.update(i, {"is_acknowledged": True}, a), Kitchen.alert),
    "alerts.acknowledge": Case(CHANGE, lambda s, k, a, i: s.alerts.acknowledge(i, a), Kitchen.alert),
    "alerts.acknowledge_all": Case(CHANGE, lambda s, k, a, _: s.alerts.acknowledge_all(a), Kitchen.alert),
    "alerts.delete": Case(CHANGE, lambda s, k, a, i: s.alerts.delete(i, a), Kitchen.alert),
    # users and keys
    "users.list": Case(MANAGE, lambda s, k, a, _: s.users.list(a)),
    "users.get": Case(MANAGE, lambda s, k, a, i: s.users.get(i, a), Kitchen.scanner),
    "users.by_username": Case(MANAGE, lambda s, k, a, _: s.users.by_username("nobody-at-all", a)),
    "users.create": Case(
        MANAGE, lambda s, k, a, _: s.users.create({"username": _unique("scanner"), "role": "Scanner"}, a)
    ),
    "users.update": Case(MANAGE, lambda s, k, a, i: s.users.update(i, {"is_active": False}, a), Kitchen.scanner),
    "users.deactivate": Case(MANAGE, lambda s, k, a, i: s.users.deactivate(i, a), Kitchen.scanner),
    "users.delete": Case(MANAGE, lambda s, k, a, i: s.users.delete(i, a), Kitchen.scanner),
    "users.rotate_api_key": Case(MANAGE, lambda s, k, a, i: s.users.rotate_api_key(i, a), Kitchen.scanner),
    # one's own account
    "users.me": Case(OWN, lambda s, k, a, _: s.users.me(a)),
    "users.sign_out_everywhere": Case(OWN, lambda s, k, a, _: s.users.sign_out_everywhere(a)),
    "users.change_own_password": Case(OWN, lambda s, k, a, _: _wrong_current_password(s, a)),
    # scanners
    "scans.states": Case(READ, lambda s, k, a, _: s.scans.states(a)),
    "scans.set_state": Case(
        Action.SCANNER_SET_STATE,
        lambda s, k, a, i: s.scans.set_state(i, {"current_location_id": k.fridge}, a),
        Kitchen.scanner,
    ),
    "scans.scan": Case(Action.SCAN, lambda s, k, a, _: s.scans.scan(a, CARD)),
    "scans.scan_into": Case(
        Action.SCANNER_SET_STATE, lambda s, k, a, i: s.scans.scan_into(i, k.pantry, CARD, a), Kitchen.scanner
    ),
    "items.unnamed": Case(READ, lambda s, k, a, _: s.items.unnamed(a)),
    "undo.undo": Case(CHANGE, lambda s, k, a, i: s.undo.undo(i, a), _a_change),
}

# Methods that take no actor, and why. They establish who is asking (or
# identify their scanner themselves and are tested in test_scan_service.py).
NO_ACTOR: dict[str, str] = {
    "users.sign_in": "signs a person in: makes the actor",
    "users.create_first_admin": "the first start: no account yet to act as; refused once an Admin exists",
    "users.ensure_kiosk_account": "the touch screen's own resting account, at its start",
    "users.has_admin": "the first start: is there an Admin yet",
    "users.people": "the names the touch screen offers to sign in with",
    "users.by_api_key": "identifies a key: makes the actor",
    "users.for_token": "identifies a token: makes the actor",
    "users.token_version": "a user's token version now (sign-in takes it from the password check)",
    "users.count": "the first start: are there any accounts yet",
    "scans.scan_with_key": "identifies its scanner by key, checks the row in the scan",
    "scans.scan_from_device": "identifies its device's scanner, checks the row in the scan",
    "sessions.start": "right after the password was checked: makes the actor",
    "sessions.renew": "identifies a browser's refresh token: makes the actor",
    "sessions.end": "signs out whoever holds the refresh token",
}


def _public_methods() -> set[str]:
    base = {name for name, _ in inspect.getmembers(Service)}
    found = set()
    for attribute, cls in inspect.get_annotations(Services, eval_str=True).items():
        if not (isinstance(cls, type) and issubclass(cls, Service)):
            continue
        for name, _ in inspect.getmembers(cls, inspect.iscoroutinefunction):
            if not name.startswith("_") and name not in base:
                found.add(f"{attribute}.{name}")
    return found


def test_every_public_service_method_is_in_the_matrix():
    public = _public_methods()
    assert len(public) > 40  # the walk found the services at all
    assert public - set(CASES) - set(NO_ACTOR) == set(), "add these to CASES (or NO_ACTOR, saying why)"
    assert set(CASES) - public == set(), "CASES names a method that is gone"


def _expected(role: str, action: Action) -> bool:
    return role != "deactivated" and allows(role, action)


SERVICES = sorted({method.split(".")[0] for method in CASES})


@pytest.mark.parametrize("service", SERVICES)
async def test_the_service_allows_or_refuses_as_the_table_says(
    services: Services, accounts: dict[str, Actor], kitchen: Kitchen, db_snapshot, service: str
):
    """Every method of one service, by every role; all mismatches are listed."""
    wrong: list[str] = []
    for method in (name for name in CASES if name.startswith(f"{service}.")):
        case = CASES[method]
        for role in ROLES:
            actor = accounts[role]
            made = await case.make(kitchen) if case.make is not None else None
            before = await db_snapshot()
            try:
                await case.call(services, kitchen, actor, made)
            except PermissionDenied:
                if _expected(role, case.action):
                    wrong.append(f"{method} refused {role}")
                elif await db_snapshot() != before:
                    wrong.append(f"{method} refused {role} but changed something")
            else:
                if not _expected(role, case.action):
                    wrong.append(f"{method} let {role} through")
    assert wrong == []


async def test_the_role_stored_now_decides_not_the_one_a_token_remembered(
    services: Services, accounts: dict[str, Actor], kitchen: Kitchen
):
    demoted = accounts["Member"]
    await services.users.update(demoted.user_id, {"role": "Read-only"}, SYSTEM)
    with pytest.raises(PermissionDenied):
        await services.items.create({"name": "Rice"}, demoted)  # the actor still says Member
    assert (await services.items.list(demoted)).total == 0  # reading is still allowed

    claims_admin = Actor(user_id=accounts["Read-only"].user_id, username="carol", role="Admin")
    with pytest.raises(PermissionDenied):
        await services.users.list(claims_admin)


async def test_a_deleted_account_is_refused(services: Services, accounts: dict[str, Actor]):
    gone = accounts["Member"]
    await services.users.delete(gone.user_id, SYSTEM)
    with pytest.raises(PermissionDenied, match="no longer exists"):
        await services.items.list(gone)
