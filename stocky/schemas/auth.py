from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import StrictBool, StringConstraints

from stocky.schemas.common import Input, Output
from stocky.schemas.user import UserOut


class LoginRequest(Input):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class LogoutRequest(Input):
    everywhere: StrictBool = False  # every browser, token and socket of the account


class TokenOut(Output):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


@dataclass(frozen=True)
class SignedIn:
    """A person whose password was just checked, and their token version as
    read in the same row as the password hash: a token minted for it dies
    with any password change or deactivation after that read, even one that
    lands while bcrypt runs."""

    user: UserOut
    token_version: int
