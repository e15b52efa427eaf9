"""Browser sign-in that lasts: the refresh token travels only in an HttpOnly,
SameSite=Strict cookie scoped to ``/api/v1/auth``, so page scripts never see
it and other sites cannot send it; the short access token each answer carries
lives in the page's memory only."""

from __future__ import annotations

from aiohttp import web

from stocky.api.policy import Policy
from stocky.api.resources.auth import check_password, issue_token
from stocky.api.routing import PREFIX, Call, Route
from stocky.core.errors import NotAuthenticated
from stocky.schemas.auth import LoginRequest, TokenOut
from stocky.services.sessions import ENDED, Renewal

COOKIE = "stocky_refresh"
COOKIE_PATH = PREFIX + "/auth"


def _is_https(call: Call) -> bool:
    forwarded = call.request.headers.get("X-Forwarded-Proto", "")
    return call.request.secure or (
        call.services.settings.trust_forwarded_for and forwarded.lower() == "https"
    )


async def _answer(call: Call, renewal: Renewal) -> web.Response:
    settings = call.services.settings
    token: TokenOut = issue_token(
        call, renewal.user, renewal.token_version, settings.web_access_minutes
    )
    response = web.Response(text=token.model_dump_json(), content_type="application/json")
    response.set_cookie(
        COOKIE, renewal.refresh_token, path=COOKIE_PATH, httponly=True, samesite="Strict",
        secure=_is_https(call), max_age=settings.web_session_days * 24 * 3600,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _cookie(call: Call) -> str:
    if not (token := call.request.cookies.get(COOKIE, "")):
        raise NotAuthenticated(ENDED)
    return token


async def start_session(call: Call) -> web.Response:
    """Sign in a browser: an access token, and the cookie that renews it."""
    signed_in = await check_password(call)
    days = call.services.settings.web_session_days
    return await _answer(call, await call.services.sessions.start(signed_in, days))


async def refresh_session(call: Call) -> web.Response:
    """A fresh access token for the browser whose cookie this is; the cookie
    is replaced too."""
    try:
        renewal = await call.services.sessions.renew(_cookie(call), call.services.settings.web_session_days)
    except NotAuthenticated:
        response = web.json_response(
            {"error": {"code": "not_authenticated", "message": ENDED}}, status=401)
        response.del_cookie(COOKIE, path=COOKIE_PATH)
        return response
    return await _answer(call, renewal)


async def end_session(call: Call) -> web.Response:
    """Sign out this browser: its refresh token stops working at once."""
    if token := call.request.cookies.get(COOKIE):
        await call.services.sessions.end(token)
    response = web.Response(status=204)
    response.del_cookie(COOKIE, path=COOKIE_PATH)
    return response


ROUTES = [
    Route("POST", "/auth/session", start_session, Policy.ANYONE,
          "Sign a browser in: a short bearer token, and a refresh cookie", "auth",
          body=LoginRequest, response=TokenOut, errors=(401, 429)),
    Route("POST", "/auth/refresh", refresh_session, Policy.ANYONE,
          "Renew a browser's bearer token from its refresh cookie", "auth",
          response=TokenOut, errors=(401,)),
    Route("POST", "/auth/logout", end_session, Policy.ANYONE,
          "Sign this browser out (ends its refresh cookie)", "auth", status=204),
]
