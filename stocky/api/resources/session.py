"""Browser sign-in that lasts: the refresh token travels only in an HttpOnly,
SameSite=Strict cookie scoped to ``/api/v1/auth``, so page scripts never see
it; the short access token each answer carries lives in the page's memory
only, and names the sign-in it belongs to, so signing out ends it too.

These doors answer only Stocky's own pages: a request another site's page
made (``Sec-Fetch-Site: cross-site``, or an ``Origin`` that is not the
address asked) is refused before anything changes, so no other site can
sign a browser in or out."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from stocky.api.auth import authenticate, header_credential
from stocky.api.policy import Policy
from stocky.api.resources.auth import check_password, issue_token
from stocky.api.routing import PREFIX, Call, Route
from stocky.core.errors import NotAuthenticated, PermissionDenied
from stocky.schemas.auth import LoginRequest, LogoutRequest, TokenOut
from stocky.services.sessions import ENDED, Renewal
from stocky.services.users import actor_of

COOKIE = "stocky_refresh"
COOKIE_PATH = PREFIX + "/auth"
OTHER_SITE = "Sign-in requests are taken only from Stocky's own pages."


def is_https(call: Call) -> bool:
    forwarded = call.request.headers.get("X-Forwarded-Proto", "")
    return call.request.secure or (
        call.services.settings.trust_forwarded_for and forwarded.lower() == "https"
    )


def _own_host(call: Call) -> str:
    request = call.request
    forwarded = request.headers.get("X-Forwarded-Host") if call.services.settings.trust_forwarded_for else None
    return (forwarded or request.host).strip().lower()


def refuse_other_sites(call: Call) -> None:
    """``PermissionDenied`` for a request another site's page sent."""
    headers = call.request.headers
    if headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        raise PermissionDenied(OTHER_SITE)
    origin = headers.get("Origin")
    if origin is None:
        return  # not sent by a browser's page (curl, an app)
    try:
        netloc = urlsplit(origin).netloc.lower()
    except ValueError:
        netloc = ""
    if origin == "null" or netloc != _own_host(call):
        raise PermissionDenied(OTHER_SITE)


async def answer(call: Call, renewal: Renewal) -> web.Response:
    """A fresh access token for the browser, and its refresh cookie."""
    settings = call.services.settings
    token: TokenOut = issue_token(
        call, renewal.user, renewal.token_version, settings.web_access_minutes, renewal.session_id
    )
    response = web.Response(text=token.model_dump_json(), content_type="application/json")
    response.set_cookie(
        COOKIE, renewal.refresh_token, path=COOKIE_PATH, httponly=True, samesite="Strict",
        secure=is_https(call), max_age=settings.web_session_days * 24 * 3600,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _cookie(call: Call) -> str:
    if not (token := call.request.cookies.get(COOKIE, "")):
        raise NotAuthenticated(ENDED)
    return token


async def start_session(call: Call) -> web.Response:
    """Sign in a browser: an access token, and the cookie that renews it.
    Scanner accounts scan with their keys; they open no browser sessions."""
    refuse_other_sites(call)
    signed_in = await check_password(call)
    if signed_in.user.role == "Scanner":
        raise PermissionDenied("Scanner accounts scan with their API key; they cannot sign in here.")
    days = call.services.settings.web_session_days
    return await answer(call, await call.services.sessions.start(signed_in, days))


async def refresh_session(call: Call) -> web.Response:
    """A fresh access token for the browser whose cookie this is; the cookie
    is replaced too."""
    refuse_other_sites(call)
    try:
        renewal = await call.services.sessions.renew(_cookie(call), call.services.settings.web_session_days)
    except NotAuthenticated:
        response = web.json_response(
            {"error": {"code": "not_authenticated", "message": ENDED}}, status=401)
        response.del_cookie(COOKIE, path=COOKIE_PATH)
        return response
    return await answer(call, renewal)


async def end_session(call: Call) -> web.Response:
    """Sign out this browser: its refresh cookie, the access tokens minted
    for it and its live sockets stop working at once. ``everywhere``: every
    browser, token and socket of the account (the browser's cookie or a
    bearer token says whose)."""
    refuse_other_sites(call)
    body: LogoutRequest = call.body
    owner = None
    if token := call.request.cookies.get(COOKIE):
        owner = await call.services.sessions.end(token)
    if body.everywhere:
        if owner is None and header_credential(call.request) is not None:
            owner = (await authenticate(call.request, call.services)).user
        if owner is None:
            raise NotAuthenticated("Sign in first: signing out everywhere needs to know whose sign-ins end.")
        await call.services.users.sign_out_everywhere(actor_of(owner))
    response = web.Response(status=204)
    response.del_cookie(COOKIE, path=COOKIE_PATH)
    return response


ROUTES = [
    Route("POST", "/auth/session", start_session, Policy.ANYONE,
          "Sign a browser in: a short bearer token, and a refresh cookie", "auth",
          body=LoginRequest, response=TokenOut, errors=(401, 403, 429)),
    Route("POST", "/auth/refresh", refresh_session, Policy.ANYONE,
          "Renew a browser's bearer token from its refresh cookie", "auth",
          response=TokenOut, errors=(401, 403)),
    Route("POST", "/auth/logout", end_session, Policy.ANYONE,
          "Sign this browser out; with everywhere, every sign-in of the account", "auth",
          body=LogoutRequest, body_optional=True, status=204, errors=(401, 403)),
]
