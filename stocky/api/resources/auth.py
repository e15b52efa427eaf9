from __future__ import annotations

import uuid
from datetime import timedelta

from stocky.api.auth import client_address
from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.core import security
from stocky.schemas.auth import LoginRequest, SignedIn, TokenOut
from stocky.schemas.user import UserOut


async def check_password(call: Call) -> SignedIn:
    """The person whose password the body holds, with the token version the
    check saw; the users service throttles failures per name and address."""
    body: LoginRequest = call.body
    client = client_address(call.request, call.services.settings.trust_forwarded_for)
    return await call.services.users.sign_in(body.username, body.password, client)


def issue_token(
    call: Call, user: UserOut, version: int, minutes: int, session_id: uuid.UUID | None = None
) -> TokenOut:
    """An access token for ``user`` at token ``version``: the version the
    check that vouched for them saw, not a later read (a password changed
    in between would otherwise leave this token valid). A browser's token
    names its sign-in (``session_id``), so signing out ends it too."""
    lifetime = timedelta(minutes=minutes)
    token = security.create_access_token(
        call.services.secret_key, user.id, version, lifetime, session_id
    )
    return TokenOut(access_token=token, expires_in=int(lifetime.total_seconds()))


async def login(call: Call) -> TokenOut:
    """Password in, bearer token out."""
    signed_in = await check_password(call)
    return issue_token(
        call, signed_in.user, signed_in.token_version, call.services.settings.access_token_minutes
    )


ROUTES = [
    Route("POST", "/auth/login", login, Policy.ANYONE, "Sign in; returns a bearer token", "auth",
          body=LoginRequest, response=TokenOut, errors=(401, 429)),
]
