"""Doors that hold, against the real app: everyone changes their own
password (which ends their other sign-ins), new passwords follow one rule,
scanner keys open no browser sessions, and the cookie doors answer only
Stocky's own pages."""

from __future__ import annotations

import uuid

import bcrypt
import pytest
from test_api_sessions import (
    COOKIE,
    LOGOUT,
    REFRESH,
    SESSION,
    me,
    post_with,
    refresh_cookie,
    sign_in,
)

from stocky.core.passwords import MIN_LENGTH, common_passwords
from stocky.models import User

PASSWORD = "/user/me/password"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- one's own password -----------------------------------------------------------


@pytest.mark.parametrize("role", ["Read-only", "Member", "Admin"])
async def test_everyone_changes_their_own_password_and_the_old_one_stops(api, role):
    name, old = api.seed.usernames[role], api.seed.passwords[role]
    reply = await api.put(PASSWORD, who=role, json={"current_password": old, "new_password": "three shelves of jam"})
    assert reply.status == 200, reply
    assert (await me(api, reply.json["access_token"])).json["username"] == name
    login = await api.post("/auth/login", who="anonymous", json={"username": name, "password": old})
    api.error(login, 401, "not_authenticated")
    login = await api.post("/auth/login", who="anonymous",
                           json={"username": name, "password": "three shelves of jam"})
    assert login.status == 200, login
    # The token it was asked with (minted before the change) has ended.
    api.error(await api.get("/user/me", who=role), 401, "not_authenticated")


async def test_a_password_change_ends_the_other_browsers_but_not_this_one(api):
    this_access, this_cookie = await sign_in(api)
    other_access, other_cookie = await sign_in(api)
    reply = await api.put(PASSWORD, who="anonymous", headers=bearer(this_access), json={
        "current_password": api.seed.passwords["victim"], "new_password": "a pantry full of oats"})
    assert reply.status == 200, reply
    fresh = reply.json["access_token"]
    assert reply.json["expires_in"] == api.services.settings.web_access_minutes * 60
    assert (await me(api, fresh)).status == 200
    api.error(await me(api, this_access), 401, "not_authenticated")
    api.error(await me(api, other_access), 401, "not_authenticated")
    api.error(await post_with(api, REFRESH, other_cookie), 401, "not_authenticated")
    # This browser's cookie goes on renewing.
    renewed = await post_with(api, REFRESH, this_cookie)
    assert renewed.status == 200, renewed
    assert (await me(api, renewed.json["access_token"])).status == 200


async def test_a_wrong_current_password_changes_nothing(api):
    before = await api.snapshot()
    reply = await api.put(PASSWORD, who="Member", json={
        "current_password": "not my password", "new_password": "a pantry full of oats"})
    assert api.error(reply, 401, "not_authenticated")["message"] == "The current password is not right."
    assert await api.snapshot() == before
    assert (await api.get("/user/me", who="Member")).status == 200


async def test_scanner_keys_have_no_password_to_change(api):
    reply = await api.put(PASSWORD, who="Scanner", json={"current_password": "x", "new_password": "y" * 12})
    api.error(reply, 403, "forbidden")


# -- the password rule ---------------------------------------------------------------

COMMON = sorted(p for p in common_passwords() if len(p) >= MIN_LENGTH)[:3]


@pytest.mark.parametrize(
    ("password", "why"),
    [("short-1", f"at least {MIN_LENGTH} characters"),
     *[(common.upper(), "most common") for common in COMMON]],
)
async def test_a_short_or_common_password_is_refused_with_the_rule(api, password, why):
    before = await api.snapshot()
    for reply in (
        await api.post("/user", json={"username": "frank", "role": "Member", "password": password}),
        await api.patch(f"/user/{api.user('victim')}", json={"password": password}),
        await api.put(PASSWORD, who="Member", json={
            "current_password": api.seed.passwords["Member"], "new_password": password}),
    ):
        detail = api.error(reply, 422, "validation_error")
        assert why in detail["message"], detail
    assert await api.snapshot() == before


async def test_accounts_made_before_the_rule_keep_signing_in(api):
    """The rule is for passwords being set: an old short one still works."""
    old_hash = bcrypt.hashpw(b"old-pw", bcrypt.gensalt(4)).decode()

    def set_old_password(session) -> None:
        session.get(User, uuid.UUID(api.user("victim"))).password_hash = old_hash

    await api.services.db.write(set_old_password)
    login = await api.post("/auth/login", who="anonymous", json={"username": "erin", "password": "old-pw"})
    assert login.status == 200, login


# -- scanner accounts and other sites -------------------------------------------------


async def test_a_scanner_account_cannot_open_a_browser_session(api):
    name = "scanner-with-a-password"
    await api.post("/user", json={"username": name, "role": "Scanner", "password": "scanner pass phrase"})
    before = await api.snapshot("web_session")
    reply = await api.post(SESSION, who="anonymous", json={"username": name, "password": "scanner pass phrase"})
    api.error(reply, 403, "forbidden")
    assert "Set-Cookie" not in reply.headers
    assert await api.snapshot("web_session") == before


OTHER_SITES = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:1"},  # the same machine, another port: another site's page
]


@pytest.mark.parametrize("headers", OTHER_SITES, ids=["sec-fetch-site", "origin", "null", "port"])
async def test_the_cookie_doors_refuse_other_sites_and_change_nothing(api, headers):
    _, cookie = await sign_in(api)
    before = await api.snapshot()
    for path, body in ((LOGOUT, {}), (LOGOUT, {"everywhere": True}), (REFRESH, {}),
                       (SESSION, {"username": "erin", "password": api.seed.passwords["victim"]})):
        api.client.session.cookie_jar.clear()
        reply = await api.post(path, who="anonymous", json=body,
                               headers={**headers, "Cookie": f"{COOKIE}={cookie}"})
        api.error(reply, 403, "forbidden")
        assert "Set-Cookie" not in reply.headers
    assert await api.snapshot() == before
    assert (await post_with(api, REFRESH, cookie)).status == 200  # still signed in


async def test_stockys_own_pages_pass(api):
    """The same requests from Stocky's own page (its Origin, same-origin fetch)."""
    own = {"Origin": f"http://{api.client.host}:{api.client.port}", "Sec-Fetch-Site": "same-origin"}
    reply = await api.post(SESSION, who="anonymous", headers=own,
                           json={"username": "erin", "password": api.seed.passwords["victim"]})
    assert reply.status == 200, reply
    cookie = refresh_cookie(reply)
    api.client.session.cookie_jar.clear()
    reply = await api.post(LOGOUT, who="anonymous", json={}, headers={**own, "Cookie": f"{COOKIE}={cookie}"})
    assert reply.status == 204
