"""A browser's long sign-in (StockyWeb): a refresh token in an HttpOnly,
SameSite=Strict cookie beside a short bearer token. It renews itself for
weeks and ends at once on sign-out, a new password or deactivation; a copy of
an old refresh token ends the session it came from."""

from __future__ import annotations

import random
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select

from stocky.core.security import hash_api_key
from stocky.models import WebSession
from stocky.schemas.actor import SYSTEM
from stocky.services import sessions

SESSION, REFRESH, LOGOUT = "/auth/session", "/auth/refresh", "/auth/logout"
COOKIE = "stocky_refresh"


def refresh_cookie(reply) -> str:
    """The refresh token a reply set, after checking how the cookie is kept."""
    cookie = SimpleCookie()
    for header in reply.headers.getall("Set-Cookie", []):
        cookie.load(header)
    morsel = cookie[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert morsel["path"] == "/api/v1/auth"
    return morsel.value


async def post_with(api, path: str, token: str | None):
    """A call carrying exactly this cookie (none kept between calls)."""
    api.client.session.cookie_jar.clear()
    headers = {"Cookie": f"{COOKIE}={token}"} if token else {}
    reply = await api.post(path, who="anonymous", json={}, headers=headers)
    api.client.session.cookie_jar.clear()
    return reply


async def sign_in(api, who: str = "victim") -> tuple[str, str]:
    reply = await api.post(SESSION, who="anonymous", json={
        "username": api.seed.usernames[who], "password": api.seed.passwords[who]})
    assert reply.status == 200, reply
    api.client.session.cookie_jar.clear()
    return reply.json["access_token"], refresh_cookie(reply)


async def me(api, access: str):
    return await api.get("/user/me", who="anonymous", headers={"Authorization": f"Bearer {access}"})


async def test_sign_in_gives_a_short_token_and_a_cookie_scripts_cannot_read(api):
    reply = await api.post(SESSION, who="anonymous", json={
        "username": "erin", "password": api.seed.passwords["victim"]})
    assert reply.status == 200, reply
    assert reply.json["expires_in"] == api.services.settings.web_access_minutes * 60
    token = refresh_cookie(reply)
    assert token not in reply.text
    # Plain HTTP: a Secure cookie would never be sent back.
    assert "secure" not in reply.headers["Set-Cookie"].lower()
    assert (await me(api, reply.json["access_token"])).json["username"] == "erin"
    rows = (await api.snapshot("web_session"))["web_session"]
    assert len(rows) == 1 and token not in repr(rows)  # stored hashed


async def test_refresh_renews_the_token_and_replaces_the_cookie(api):
    _, first = await sign_in(api)
    reply = await post_with(api, REFRESH, first)
    assert reply.status == 200, reply
    second = refresh_cookie(reply)
    assert second != first
    assert (await me(api, reply.json["access_token"])).json["username"] == "erin"
    assert (await post_with(api, REFRESH, second)).status == 200


async def test_two_tabs_refreshing_at_once_share_one_successor(api):
    _, first = await sign_in(api)
    one = refresh_cookie(await post_with(api, REFRESH, first))
    # The other tab (or a retry of an answer lost on a poor line) shows the
    # same cookie a moment later: the same successor, not a second session.
    other = await post_with(api, REFRESH, first)
    assert other.status == 200, other
    assert refresh_cookie(other) == one
    assert (await me(api, other.json["access_token"])).status == 200
    assert (await post_with(api, REFRESH, one)).status == 200


async def test_a_cookie_two_rotations_old_ends_the_whole_family(api, caplog):
    access, first = await sign_in(api)
    second = refresh_cookie(await post_with(api, REFRESH, first))
    third = await post_with(api, REFRESH, second)
    owner_token, owner_cookie = third.json["access_token"], refresh_cookie(third)
    with caplog.at_level("WARNING", logger="stocky.sessions"):
        api.error(await post_with(api, REFRESH, first), 401, "not_authenticated")
    assert [r.levelname for r in caplog.records if r.name == "stocky.sessions"] == ["WARNING"]
    # Owner and copier alike are signed out, access tokens included.
    api.error(await post_with(api, REFRESH, owner_cookie), 401, "not_authenticated")
    api.error(await me(api, owner_token), 401, "not_authenticated")
    api.error(await me(api, access), 401, "not_authenticated")
    assert (await api.snapshot("web_session"))["web_session"] == []


async def test_a_copy_of_the_previous_cookie_after_the_race_ends_the_family(api, monkeypatch):
    _, first = await sign_in(api)
    owner = refresh_cookie(await post_with(api, REFRESH, first))
    monkeypatch.setattr(sessions, "RACE", timedelta(0))
    api.error(await post_with(api, REFRESH, first), 401, "not_authenticated")  # the thief
    api.error(await post_with(api, REFRESH, owner), 401, "not_authenticated")  # and the owner


async def test_no_sequence_leaves_a_copy_signed_in_while_its_owner_is_signed_out(api, monkeypatch):
    """A random walk of an owner refreshing, a thief replaying any cookie it
    ever saw (and refreshing what that gave it), and the race window opening
    and closing: once the owner is signed out, no cookie of the thief's lives."""
    rng = random.Random(19)
    for walk in range(8):
        _, cookie = await sign_in(api)
        owner, seen, thief, owner_out = cookie, [cookie], None, False
        for _ in range(14):
            monkeypatch.setattr(sessions, "RACE", timedelta(seconds=rng.choice([0, 10])))
            if not owner_out and rng.random() < 0.5:
                reply = await post_with(api, REFRESH, owner)
                owner_out = reply.status != 200
                if not owner_out:
                    owner = refresh_cookie(reply)
                    seen.append(owner)
            else:
                shown = thief if thief is not None and rng.random() < 0.5 else rng.choice(seen)
                reply = await post_with(api, REFRESH, shown)
                thief = refresh_cookie(reply) if reply.status == 200 else None
            if owner_out and thief is not None:
                assert not await live(api, thief), f"walk {walk}: the copy lives, its owner is out"


async def live(api, cookie: str) -> bool:
    """Would this cookie renew now? (Read from the table, changing nothing.)"""
    presented = hash_api_key(cookie)
    found = await api.services.db.read(lambda session: session.scalar(
        select(WebSession.id).where(WebSession.token_hash == presented)))
    return found is not None


async def test_sign_out_ends_the_cookie_at_once(api):
    _, token = await sign_in(api)
    reply = await post_with(api, LOGOUT, token)
    assert reply.status == 204
    assert f"{COOKIE}=\"\"" in reply.headers["Set-Cookie"] or f"{COOKIE}=;" in reply.headers["Set-Cookie"]
    api.error(await post_with(api, REFRESH, token), 401, "not_authenticated")


@pytest.mark.parametrize("change", [{"password": "a-New-Secret-9"}, {"is_active": False}],
                         ids=["new-password", "deactivated"])
async def test_a_new_password_or_deactivation_ends_every_browser_session(api, change):
    access, token = await sign_in(api)
    assert (await api.patch(f"/user/{api.user('victim')}", json=change)).status == 200
    api.error(await post_with(api, REFRESH, token), 401, "not_authenticated")
    assert (await me(api, access)).status == 401


@pytest.mark.parametrize("cookie", [None, "garbage", "x" * 5000], ids=["none", "unknown", "huge"])
async def test_refresh_without_a_valid_cookie_is_401(api, cookie):
    api.error(await post_with(api, REFRESH, cookie), 401, "not_authenticated")


async def test_session_sign_in_shares_the_login_throttle(api):
    for _ in range(5):
        await api.post(SESSION, who="anonymous", json={"username": "erin", "password": "wrong"})
    reply = await api.post(SESSION, who="anonymous", json={
        "username": "erin", "password": api.seed.passwords["victim"]})
    api.error(reply, 429)


@pytest.mark.parametrize("step", ["start", "renew"])
async def test_a_password_changed_while_the_token_is_minted_leaves_it_dead(api, monkeypatch, step):
    """The password changes just after the session is started or renewed and
    before the access token is made: that token must die with the old password."""
    _, token = await sign_in(api)
    sessions_service = api.services.sessions
    real = getattr(sessions_service, step)

    async def then_new_password(*args, **kwargs):
        renewal = await real(*args, **kwargs)
        await api.services.users.update(
            api.user("victim"), {"password": "a-New-Secret-9"}, SYSTEM)
        return renewal

    monkeypatch.setattr(sessions_service, step, then_new_password)
    if step == "start":
        reply = await api.post(SESSION, who="anonymous", json={
            "username": "erin", "password": api.seed.passwords["victim"]})
    else:
        reply = await post_with(api, REFRESH, token)
    assert reply.status == 200, reply
    api.error(await me(api, reply.json["access_token"]), 401, "not_authenticated")
