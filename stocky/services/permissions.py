"""Who may do what: the one permission table (DESIGN.md section 10).

Every service method that reads or changes data asks this table about the
``Actor`` it was given, inside its own transaction (``check``): the account
must still exist and be active, and its role as stored now (not as a token
or a screen remembered it) must allow the action. The route table, ``/ws``
and the touch UI ask the same table for early feedback (a 403, a hidden
button), never a copy of it.
"""

from __future__ import annotations

from enum import Enum

from sqlalchemy.orm import Session

from stocky.core.errors import PermissionDenied
from stocky.core.vocabulary import Role
from stocky.models import User
from stocky.schemas.actor import Actor

PEOPLE: frozenset[str] = frozenset({"Admin", "Member", "Read-only"})
CHANGERS: frozenset[str] = frozenset({"Admin", "Member"})
ADMINS: frozenset[str] = frozenset({"Admin"})
SCANNERS: frozenset[str] = CHANGERS | {"Scanner"}


class Action(Enum):
    INVENTORY_READ = "inventory.read"  # inventory, locations, alerts, log, scanner status
    INVENTORY_CHANGE = "inventory.change"  # stock, items, locations, alerts, undo
    SCAN = "scan"  # HTTP, MQTT, USB, key wedge, camera
    SCANNER_SET_STATE = "scanner.set_state"  # a scanner's mode and location, from a screen
    ITEM_DELETE = "item.delete"
    USER_MANAGE = "user.manage"  # users and their API keys
    OWN_ACCOUNT = "account.own"  # see one's own account ("who am I"): people, not keys


ALLOWED: dict[Action, frozenset[str]] = {
    Action.INVENTORY_READ: PEOPLE,
    Action.INVENTORY_CHANGE: CHANGERS,
    Action.SCAN: SCANNERS,
    Action.SCANNER_SET_STATE: CHANGERS,
    Action.ITEM_DELETE: ADMINS,
    Action.USER_MANAGE: ADMINS,
    Action.OWN_ACCOUNT: PEOPLE,
}

_REFUSALS: dict[Action, str] = {
    Action.INVENTORY_READ: "This account may not look at the inventory.",
    Action.INVENTORY_CHANGE: "This account may look but not change anything.",
    Action.SCAN: "This account may not scan.",
    Action.SCANNER_SET_STATE: "This account may not change a scanner's mode or location.",
    Action.ITEM_DELETE: "Only an Admin can delete an item.",
    Action.USER_MANAGE: "Only an Admin can manage users and keys.",
    Action.OWN_ACCOUNT: "Scanner keys have no account page.",
}


def allows(role: Role | str | None, action: Action) -> bool:
    return role is not None and role in ALLOWED[action]


def allowed_actions(role: Role | str | None) -> list[str]:
    """Every action ``role`` may do, by name: what a client shows controls for."""
    return [action.value for action in Action if allows(role, action)]


def require(role: Role | str | None, action: Action) -> None:
    """Raise ``PermissionDenied`` unless ``role`` may do ``action``."""
    if not allows(role, action):
        raise PermissionDenied(_REFUSALS[action])


def require_account(user: User | None, action: Action) -> User:
    """``user``'s stored row may do ``action``: it exists, is active, and its
    role allows it."""
    if user is None:
        raise PermissionDenied("This account no longer exists.")
    if not user.is_active:
        raise PermissionDenied(f"{user.username} is deactivated.")
    require(user.role, action)
    return user


def check(session: Session, actor: Actor, action: Action) -> User | None:
    """Inside a transaction: may ``actor`` do ``action`` now? Returns the
    actor's stored row (None for Stocky's own in-process actors, which have
    no account: ``SYSTEM``, start-up, the product lookup)."""
    require(actor.role, action)  # the cheap answer first
    if actor.user_id is None:
        return None
    return require_account(session.get(User, actor.user_id), action)
