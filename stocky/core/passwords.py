"""What a new password must be: long enough, and not one everybody tries.

The list is the 10,000 most common passwords of Royce Williams' public list
(the one Django's ``CommonPasswordValidator`` ships, most common first),
compared case-insensitively. The rule applies when a password is set;
accounts made before it keep signing in with theirs.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from stocky.core.errors import InvalidInput
from stocky.core.security import check_password_length

MIN_LENGTH = 10
COMMON_PASSWORDS = Path(__file__).with_name("data") / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().casefold() for line in lines if line.strip())


def check_new_password(password: str, field: str = "password") -> None:
    """``InvalidInput`` (422) naming the rule ``password`` breaks, if any."""
    check_password_length(password, field)
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"The password needs at least {MIN_LENGTH} characters.",
            [{"field": field, "message": f"at least {MIN_LENGTH} characters"}],
        )
    if password.strip().casefold() in common_passwords():
        raise InvalidInput(
            "That password is one of the most common ones, which are tried first; choose another.",
            [{"field": field, "message": "one of the most common passwords"}],
        )
