"""Who is calling: a bearer token (people) or an ``X-API-Key`` (scanners,
services). Keys and tokens are accepted in headers only."""

from __future__ import annotations

from aiohttp import web

from stocky.core import security
from stocky.core.errors import NotAuthenticated
from stocky.schemas.user import UserOut
from stocky.services.container import Services

# Query parameters that look like a credential: refused, so a key never
# lands in a proxy log, a browser history or our own access log.
CREDENTIAL_PARAMS = frozenset({"api_key", "apikey", "key", "x-api-key", "token", "access_token"})


async def authenticate(request: web.Request, services: Services) -> UserOut:
    if CREDENTIAL_PARAMS & {name.lower() for name in request.query}:
        raise NotAuthenticated(
            "Credentials in the address are refused: send the key in the X-API-Key header "
            "or the token in the Authorization header."
        )
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Use 'Authorization: Bearer <token>'.")
        claims = security.decode_access_token(services.secret_key, token.strip())
        return await services.users.for_token(claims)
    key = request.headers.get("X-API-Key")
    if key is not None:
        user = await services.users.by_api_key(key.strip())
        if user is None:
            raise NotAuthenticated("The API key is not valid.")
        return user
    raise NotAuthenticated("Sign in first: send a bearer token or an X-API-Key header.")


def client_address(request: web.Request, trust_forwarded_for: bool) -> str:
    if trust_forwarded_for and (forwarded := request.headers.get("X-Forwarded-For")):
        # The right-most address is the one our own proxy added; anything to
        # its left is whatever the caller chose to send.
        return forwarded.split(",")[-1].strip()
    return request.remote or "unknown"
