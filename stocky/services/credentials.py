"""One credential check for every door: a bearer token or an API key in,
the account it speaks for out (or ``NotAuthenticated``). HTTP and ``/ws``
both ask here, and a socket asks again whenever its account or its browser
sign-in changes, so a credential works the same wherever it is shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from stocky.core import security
from stocky.core.errors import NotAuthenticated
from stocky.schemas.user import UserOut
from stocky.services.users import UserService

Kind = Literal["bearer", "key"]
MAX_LENGTH = 4096


@dataclass(frozen=True)
class Credential:
    kind: Kind
    secret: str

    @classmethod
    def guess(cls, token: str) -> Credential:
        """A token whose kind was not said (``identify_ui``'s ``token``): a
        JWT has three dot-separated parts, an API key none."""
        return cls("bearer" if token.count(".") == 2 else "key", token)


@dataclass(frozen=True)
class Identity:
    """Who a credential speaks for, and until when it may be used."""

    user: UserOut
    expires_at: datetime | None = None  # a token's own end; keys have none
    session_id: uuid.UUID | None = None  # the browser sign-in a token belongs to


class Credentials:
    def __init__(self, secret_key: str, users: UserService) -> None:
        self._secret = secret_key
        self._users = users

    async def identify(self, credential: Credential) -> Identity:
        secret = credential.secret
        if credential.kind == "bearer":
            if len(secret) > MAX_LENGTH or not secret.isascii() or not secret.isprintable():
                raise NotAuthenticated("The token is not valid.")
            claims = security.decode_access_token(self._secret, secret)
            user = await self._users.for_token(claims)
            return Identity(user, claims.expires_at, claims.session_id)
        # Any text may be tried as a key: it is hashed, and matches none.
        user = await self._users.by_api_key(secret) if secret else None
        if user is None:
            raise NotAuthenticated("The API key is not valid.")
        return Identity(user)
