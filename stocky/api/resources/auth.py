from __future__ import annotations

import asyncio
from datetime import timedelta

from stocky.api import keys
from stocky.api.auth import client_address
from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.core import security
from stocky.core.errors import NotAuthenticated, TooManyAttempts
from stocky.schemas.auth import LoginRequest, TokenOut
from stocky.schemas.user import UserOut
from stocky.services.users import SignedIn

# A client that ignores Retry-After waits this long for each refusal: a
# crowd of them hammering from one address then costs Stocky a few dozen
# answers a second instead of as many as its CPU can give.
REFUSAL_DELAY = 0.5


async def check_password(call: Call) -> SignedIn:
    """The person whose password the body holds, with the token version the
    check saw. More than five failures for
    one name from one client, or twenty for any names from one client, within
    15 minutes lock that pair (or that client) out for a while. One client
    gets one password check at a time."""
    body: LoginRequest = call.body
    settings = call.services.settings
    throttle = call.request.app[keys.THROTTLE]
    client = client_address(call.request, settings.trust_forwarded_for)
    if wait := throttle.retry_after(body.username, client):
        await asyncio.sleep(REFUSAL_DELAY)
        raise TooManyAttempts(f"Too many failed sign-ins; try again in {wait} seconds.", wait)
    if not throttle.begin(client):
        await asyncio.sleep(REFUSAL_DELAY)
        raise TooManyAttempts("A sign-in from this address is being checked; try again in a second.", 1)
    try:
        signed_in = await call.services.users.sign_in(
            body.username, body.password, known_place=throttle.known(client)
        )
    except NotAuthenticated:
        throttle.failed(body.username, client)
        raise
    finally:
        throttle.end(client)
    throttle.succeeded(body.username, client)
    return signed_in


def issue_token(call: Call, user: UserOut, version: int, minutes: int) -> TokenOut:
    """An access token for ``user`` at token ``version``: the version the
    check that vouched for them saw, not a later read (a password changed
    in between would otherwise leave this token valid)."""
    lifetime = timedelta(minutes=minutes)
    token = security.create_access_token(call.services.secret_key, user.id, version, lifetime)
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
