"""Who is calling: a bearer token (people) or an ``X-API-Key`` (scanners,
services), read from the headers and checked by the one credential check
(``stocky.services.credentials``) that ``/ws`` uses too. Keys and tokens are
accepted in headers only."""

from __future__ import annotations

from aiohttp import web

from stocky.core.errors import NotAuthenticated
from stocky.services.container import Services
from stocky.services.credentials import Credential, Identity

# Query parameters that look like a credential: refused, so a key never
# lands in a proxy log, a browser history or our own access log.
CREDENTIAL_PARAMS = frozenset({"api_key", "apikey", "key", "x-api-key", "token", "access_token"})
IN_THE_ADDRESS = (
    "Credentials in the address are refused: send the key in the X-API-Key header "
    "or the token in the Authorization header."
)


def credential_in_address(request: web.Request) -> bool:
    return bool(CREDENTIAL_PARAMS & {name.lower() for name in request.query})


def header_credential(request: web.Request) -> Credential | None:
    """The credential the headers carry; ``NotAuthenticated`` for an
    ``Authorization`` header that is not a bearer token."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Use 'Authorization: Bearer <token>'.")
        return Credential("bearer", token.strip())
    key = request.headers.get("X-API-Key")
    return Credential("key", key.strip()) if key is not None else None


def socket_credential(request: web.Request) -> Credential | None:
    """A WebSocket's credential from its headers. An ``Authorization`` that
    is no bearer token is left aside: the socket stays anonymous until it
    identifies with a token."""
    try:
        return header_credential(request)
    except NotAuthenticated:
        key = request.headers.get("X-API-Key")
        return Credential("key", key.strip()) if key is not None else None


async def authenticate(request: web.Request, services: Services) -> Identity:
    if credential_in_address(request):
        raise NotAuthenticated(IN_THE_ADDRESS)
    credential = header_credential(request)
    if credential is None:
        raise NotAuthenticated("Sign in first: send a bearer token or an X-API-Key header.")
    return await services.credentials.identify(credential)


def client_address(request: web.Request, trust_forwarded_for: bool) -> str:
    if trust_forwarded_for and (forwarded := request.headers.get("X-Forwarded-For")):
        # The right-most address is the one our own proxy added; anything to
        # its left is whatever the caller chose to send.
        return forwarded.split(",")[-1].strip()
    return request.remote or "unknown"
