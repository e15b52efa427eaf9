from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import StringConstraints, model_validator

from stocky.core.vocabulary import Role, ScanMode
from stocky.schemas.common import Input, Output

Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=r"^[^\s].*$"),
]
Password = Annotated[str, StringConstraints(min_length=1)]


class UserCreate(Input):
    username: Username
    role: Role
    password: Password | None = None
    # People who drive Stocky from home automation get a key as well.
    with_api_key: bool = False

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if self.role != "Scanner" and self.password is None:
            raise ValueError("a person needs a password; only a Scanner signs in with a key alone")
        return self


class UserUpdate(Input):
    """Only the fields sent are changed."""

    role: Role | None = None
    password: Password | None = None
    is_active: bool | None = None


class UserOut(Output):
    id: uuid.UUID
    username: str
    role: Role
    is_active: bool
    api_key_prefix: str | None
    details: dict[str, Any]
    created_at: datetime
    updated_at: datetime


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
