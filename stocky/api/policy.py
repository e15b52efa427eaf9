"""Who may call a route. Every route names one of these; there is no default."""

from __future__ import annotations

from enum import Enum


class Policy(Enum):
    ANYONE = "anyone"
    READ = "Read-only+"  # people: Read-only, Member, Admin
    MEMBER = "Member+"
    ADMIN = "Admin"
    SCAN = "Scanner"  # scanner keys, and people who may change stock
    PERSON = "signed-in person"  # any authenticated person (not a scanner key)

    def allows(self, role: str | None) -> bool:
        return role in ALLOWED_ROLES[self] if role is not None else self is Policy.ANYONE


ALLOWED_ROLES: dict[Policy, frozenset[str]] = {
    Policy.ANYONE: frozenset({"Admin", "Member", "Read-only", "Scanner"}),
    Policy.READ: frozenset({"Admin", "Member", "Read-only"}),
    Policy.PERSON: frozenset({"Admin", "Member", "Read-only"}),
    Policy.MEMBER: frozenset({"Admin", "Member"}),
    Policy.ADMIN: frozenset({"Admin"}),
    Policy.SCAN: frozenset({"Admin", "Member", "Scanner"}),
}
