"""Who may call a route. Every route names one of these; there is no default.

Each policy is an action of the permission table (``stocky.services.permissions``),
so the roles it lets through are the table's, never a copy: the route table
only answers early (403) what the service would refuse anyway.
"""

from __future__ import annotations

from enum import Enum

from stocky.core.vocabulary import ROLES
from stocky.services.permissions import ALLOWED, Action


class Policy(Enum):
    ANYONE = "anyone"
    READ = "Read-only+"  # people: Read-only, Member, Admin
    MEMBER = "Member+"
    ADMIN = "Admin"
    ITEM_DELETE = "Admin (delete items)"
    SCAN = "Scanner"  # scanner keys, and people who may change stock
    SCANNER_STATE = "Member+ (scanner state)"
    PERSON = "signed-in person"  # any authenticated person (not a scanner key)

    @property
    def action(self) -> Action | None:
        return _ACTIONS.get(self)

    def allows(self, role: str | None) -> bool:
        return role in ALLOWED_ROLES[self] if role is not None else self is Policy.ANYONE


_ACTIONS: dict[Policy, Action] = {
    Policy.READ: Action.INVENTORY_READ,
    Policy.MEMBER: Action.INVENTORY_CHANGE,
    Policy.ADMIN: Action.USER_MANAGE,
    Policy.ITEM_DELETE: Action.ITEM_DELETE,
    Policy.SCAN: Action.SCAN,
    Policy.SCANNER_STATE: Action.SCANNER_SET_STATE,
    Policy.PERSON: Action.OWN_ACCOUNT,
}

ALLOWED_ROLES: dict[Policy, frozenset[str]] = {
    policy: ALLOWED[policy.action] if policy.action is not None else frozenset(ROLES)
    for policy in Policy
}
