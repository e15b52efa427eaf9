from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, StrictBool, StringConstraints, model_validator

from stocky.core.vocabulary import Role, ScanMode
from stocky.schemas.common import Input, Output

# Letters, marks and spaces that draw nothing (zero-width spaces, joiners,
# direction marks, control characters) do not make a name anyone can read.
INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})


def _visible(name: str) -> str:
    if not any(unicodedata.category(char) not in INVISIBLE for char in name):
        raise ValueError("must contain at least one visible character")
    return name


Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=r"^[^\s].*$"),
    AfterValidator(_visible),
]
Password = Annotated[str, StringConstraints(min_length=1)]


class UserCreate(Input):
    username: Username
    role: Role
    password: Password | None = None
    # People who drive Stocky from home automation get a key as well.
    with_api_key: StrictBool = False

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if self.role != "Scanner" and self.password is None:
            raise ValueError("a person needs a password; only a Scanner signs in with a key alone")
        return self


class UserUpdate(Input):
    """Only the fields sent are changed."""

    role: Role | None = None
    password: Password | None = None
    is_active: StrictBool | None = None


class UserOut(Output):
    id: uuid.UUID
    username: str
    role: Role
    is_active: bool
    api_key_prefix: str | None
    details: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class MeOut(UserOut):
    """One's own account, and the actions (``inventory.change``,
    ``user.manage``, ...) the permission table lets it do."""

    can: list[str]


class PasswordChange(Input):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    new_password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class UserCreated(UserOut):
    api_key: str | None = None  # shown once


class ApiKeyOut(Output):
    api_key: str


class ScannerState(Output):
    id: uuid.UUID
    username: str
    current_mode: ScanMode = "add"
    current_location_id: uuid.UUID | None = None
    current_location_name: str | None = None  # filled in by ScanService.states
    last_scan_timestamp: datetime | None = None
    associated_ui_id: str | None = None
