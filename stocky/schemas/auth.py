from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from stocky.schemas.common import Input, Output


class LoginRequest(Input):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class TokenOut(Output):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
