"""Who may do what: the one permission table (DESIGN.md section 10).

Every service method that reads or changes data asks this table about the
``Actor`` it was given; the route table, ``/ws`` and the touch UI ask the
same table for early feedback (a 403, a hidden button), never a copy of it.
"""

from __future__ import annotations

from enum import Enum

from stocky.core.errors import PermissionDenied
from stocky.core.vocabulary import Role

PEOPLE: frozenset[str] = frozenset({"Admin", "Member", "Read-only"})
CHANGERS: frozenset[str] = frozenset({"Admin", "Member"})
ADMINS: frozenset[str] = frozenset({"Admin"})


class Action(Enum):
    INVENTORY_READ = "inventory.read"  # inventory, locations, alerts, log, scanner status
    INVENTORY_CHANGE = "inventory.change"  # stock, items, locations, alerts, undo
    SCAN = "scan"  # HTTP, MQTT, USB, key wedge, camera
    SCANNER_SET_STATE = "scanner.set_state"  # a scanner's mode and location, from a screen
    ITEM_DELETE = "item.delete"
    USER_MANAGE = "user.manage"  # users and their API keys


ALLOWED: dict[Action, frozenset[str]] = {
    Action.INVENTORY_READ: PEOPLE,
    Action.INVENTORY_CHANGE: CHANGERS,
    Action.SCAN: CHANGERS | {"Scanner"},
    Action.SCANNER_SET_STATE: CHANGERS,
    Action.ITEM_DELETE: ADMINS,
    Action.USER_MANAGE: ADMINS,
}

_REFUSALS: dict[Action, str] = {
    Action.INVENTORY_READ: "This account may not look at the inventory.",
    Action.INVENTORY_CHANGE: "This account may look but not change anything.",
    Action.SCAN: "This account may not scan.",
    Action.SCANNER_SET_STATE: "This account may not change a scanner's mode or location.",
    Action.ITEM_DELETE: "Only an Admin can delete an item.",
    Action.USER_MANAGE: "Only an Admin can manage users and keys.",
}


def allows(role: Role | str | None, action: Action) -> bool:
    return role is not None and role in ALLOWED[action]


def require(role: Role | str | None, action: Action) -> None:
    """Raise ``PermissionDenied`` unless ``role`` may do ``action``."""
    if not allows(role, action):
        raise PermissionDenied(_REFUSALS[action])
