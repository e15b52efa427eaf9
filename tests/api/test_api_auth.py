"""Signing in and staying signed in: POST /auth/login, bearer tokens (JWT),
the X-API-Key of scanners, and the throttle on failed logins."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from stocky.core import security
from stocky.schemas.actor import SYSTEM

LOGIN = "/auth/login"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def claims_for(user_id: str, **changes) -> dict:
    now = datetime.now(UTC)
    claims = {"sub": user_id, "ver": 0, "iat": now, "exp": now + timedelta(hours=1)}
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- login --------------------------------------------------------------------


async def test_login_returns_a_bearer_token_that_works(api):
    reply = await api.post(
        LOGIN, who="anonymous", json={"username": "bob", "password": api.seed.passwords["Member"]}
    )
    assert reply.status == 200, reply
    body = reply.json
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 12 * 60 * 60
    me = await api.get("/user/me", who="anonymous", headers=bearer(body["access_token"]))
    assert me.status == 200, me
    assert me.json["username"] == "bob"
    assert me.json["role"] == "Member"
    assert api.is_uuid(me.json["id"])
    assert api.is_timestamp(me.json["created_at"]) and api.is_timestamp(me.json["updated_at"])
    assert "password" not in me.text and "password_hash" not in me.json


async def test_login_username_is_not_case_sensitive(api):
    reply = await api.post(
        LOGIN,
        who="anonymous",
        json={"username": "  BOB ", "password": api.seed.passwords["Member"]},
    )
    assert reply.status == 200, reply


async def test_wrong_password_and_unknown_user_get_the_same_401(api):
    wrong = await api.post(LOGIN, who="anonymous", json={"username": "bob", "password": "nope"})
    unknown = await api.post(
        LOGIN, who="anonymous", json={"username": "nobody", "password": "nope"}
    )
    wrong_detail = api.error(wrong, 401, "not_authenticated")
    unknown_detail = api.error(unknown, 401, "not_authenticated")
    # No way to tell from the answer whether the account exists.
    assert wrong_detail == unknown_detail
    assert "access_token" not in wrong.text


async def test_a_scanner_cannot_sign_in_with_a_password(api):
    reply = await api.post(
        LOGIN, who="anonymous", json={"username": "scanner-kitchen", "password": "x"}
    )
    api.error(reply, 401)


async def test_a_deactivated_person_cannot_sign_in(api):
    deactivated = await api.patch(f"/user/{api.user('victim')}", json={"is_active": False})
    assert deactivated.status == 200, deactivated
    reply = await api.post(
        LOGIN, who="anonymous", json={"username": "erin", "password": api.seed.passwords["victim"]}
    )
    api.error(reply, 401)


@pytest.mark.parametrize(
    "password",
    ["x" * 73, "ä" * 37, "p" * 1000],
    ids=["73-bytes", "37-umlauts-74-bytes", "1000-bytes"],
)
async def test_a_password_over_72_bytes_at_login_is_422_not_500(api, password):
    reply = await api.post(LOGIN, who="anonymous", json={"username": "bob", "password": password})
    assert "password" in api.failing_fields(reply)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "bob"}, "password"),
        ({"password": "x"}, "username"),
        ({"username": "bob", "password": ""}, "password"),
        ({"username": "", "password": "x"}, "username"),
        ({"username": "bob", "password": 12345}, "password"),
        ({"username": "bob", "password": "x", "remember": True}, "remember"),
    ],
    ids=[
        "no-password",
        "no-username",
        "empty-password",
        "empty-username",
        "number",
        "unknown-field",
    ],
)
async def test_login_validation_names_the_field(api, body, field):
    reply = await api.post(LOGIN, who="anonymous", json=body)
    assert field in api.failing_fields(reply)


async def test_login_with_malformed_json_is_400(api):
    reply = await api.post(LOGIN, who="anonymous", data=b'{"username": "bob", ')
    api.error(reply, 400, "bad_request")


# -- throttling ---------------------------------------------------------------


async def _fail_five_times(api, username: str, headers: dict[str, str] | None = None) -> None:
    for attempt in range(5):
        reply = await api.post(
            LOGIN,
            who="anonymous",
            headers=headers,
            json={"username": username, "password": f"wrong-{attempt}"},
        )
        api.error(reply, 401)


async def test_sixth_login_after_five_failures_is_429_even_with_the_right_password(api):
    await _fail_five_times(api, "bob")
    reply = await api.post(
        LOGIN, who="anonymous", json={"username": "bob", "password": api.seed.passwords["Member"]}
    )
    api.error(reply, 429, "too_many_requests")
    retry_after = reply.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit(), reply.headers
    assert 1 <= int(retry_after) <= 15 * 60
    assert "access_token" not in reply.text

    # The same name in other letters is the same account.
    again = await api.post(
        LOGIN, who="anonymous", json={"username": "BOB", "password": api.seed.passwords["Member"]}
    )
    api.error(again, 429)

    # Someone else at the same kitchen computer is not locked out.
    other = await api.post(
        LOGIN,
        who="anonymous",
        json={"username": "carol", "password": api.seed.passwords["Read-only"]},
    )
    assert other.status == 200, other


async def test_x_forwarded_for_does_not_escape_the_throttle(api):
    # STOCKY_TRUST_FORWARDED_FOR is off by default: the header is the caller's to invent.
    for attempt in range(5):
        reply = await api.post(
            LOGIN,
            who="anonymous",
            headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
            json={"username": "bob", "password": f"wrong-{attempt}"},
        )
        api.error(reply, 401)
    reply = await api.post(
        LOGIN,
        who="anonymous",
        headers={"X-Forwarded-For": "198.51.100.77"},
        json={"username": "bob", "password": api.seed.passwords["Member"]},
    )
    api.error(reply, 429)
    assert reply.headers["Retry-After"].isdigit()


async def test_behind_a_trusted_proxy_each_client_has_its_own_count(api, monkeypatch):
    """The control for the test below: with STOCKY_TRUST_FORWARDED_FOR on,
    the proxy's header tells two kitchens' clients apart."""
    monkeypatch.setattr(api.services.settings, "trust_forwarded_for", True)
    await _fail_five_times(api, "bob", headers={"X-Forwarded-For": "203.0.113.9"})
    locked = await api.post(
        LOGIN,
        who="anonymous",
        headers={"X-Forwarded-For": "203.0.113.9"},
        json={"username": "bob", "password": api.seed.passwords["Member"]},
    )
    api.error(locked, 429)
    other = await api.post(
        LOGIN,
        who="anonymous",
        headers={"X-Forwarded-For": "198.51.100.7"},
        json={"username": "bob", "password": api.seed.passwords["Member"]},
    )
    assert other.status == 200, other


async def test_behind_a_trusted_proxy_a_made_up_forwarded_for_does_not_escape_the_throttle(
    api, monkeypatch
):
    monkeypatch.setattr(api.services.settings, "trust_forwarded_for", True)
    # The attacker at 203.0.113.9 makes up the first entry; the proxy appends the real one.
    for attempt in range(5):
        reply = await api.post(
            LOGIN,
            who="anonymous",
            headers={"X-Forwarded-For": f"10.0.0.{attempt}, 203.0.113.9"},
            json={"username": "bob", "password": f"wrong-{attempt}"},
        )
        api.error(reply, 401)
    reply = await api.post(
        LOGIN,
        who="anonymous",
        headers={"X-Forwarded-For": "10.0.0.99, 203.0.113.9"},
        json={"username": "bob", "password": api.seed.passwords["Member"]},
    )
    api.error(reply, 429)


async def test_a_successful_login_before_the_limit_clears_the_failures(api):
    for attempt in range(4):
        api.error(
            await api.post(
                LOGIN, who="anonymous", json={"username": "bob", "password": f"wrong-{attempt}"}
            ),
            401,
        )
    ok = await api.post(
        LOGIN, who="anonymous", json={"username": "bob", "password": api.seed.passwords["Member"]}
    )
    assert ok.status == 200, ok
    for attempt in range(4):
        api.error(
            await api.post(
                LOGIN, who="anonymous", json={"username": "bob", "password": f"again-{attempt}"}
            ),
            401,
        )
    ok = await api.post(
        LOGIN, who="anonymous", json={"username": "bob", "password": api.seed.passwords["Member"]}
    )
    assert ok.status == 200, ok


# -- JWT ----------------------------------------------------------------------


async def test_a_correctly_built_token_is_accepted(api):
    """The control for the forged tokens below: built the same way, but right."""
    token = jwt.encode(claims_for(api.user("Admin")), api.services.secret_key, algorithm="HS256")
    reply = await api.get("/user/me", who="anonymous", headers=bearer(token))
    assert reply.status == 200, reply
    assert reply.json["username"] == "alice"


def _forged_tokens(secret: str, admin_id: str, member_id: str) -> dict[str, str]:
    good = jwt.encode(claims_for(admin_id), secret, algorithm="HS256")
    header, payload, signature = good.split(".")

    unsigned_header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    alg_none = f"{unsigned_header}.{payload}."
    alg_none_keeping_signature = f"{unsigned_header}.{payload}.{signature}"

    decoded = json.loads(unb64(payload))
    decoded["sub"] = member_id  # someone else, under the admin's signature
    tampered = f"{header}.{b64(json.dumps(decoded).encode())}.{signature}"
    decoded = json.loads(unb64(payload))
    decoded["exp"] = decoded["exp"] + 365 * 24 * 3600  # a longer life, same signature
    extended = f"{header}.{b64(json.dumps(decoded).encode())}.{signature}"

    now = datetime.now(UTC)
    return {
        "alg-none": alg_none,
        "alg-none-with-signature": alg_none_keeping_signature,
        "alg-none-pyjwt": jwt.encode(claims_for(admin_id), None, algorithm="none"),
        "hs512-right-key": jwt.encode(claims_for(admin_id), secret, algorithm="HS512"),
        "no-exp": jwt.encode(claims_for(admin_id, exp=None), secret, algorithm="HS256"),
        "expired": jwt.encode(
            claims_for(admin_id, iat=now - timedelta(hours=2), exp=now - timedelta(minutes=5)),
            secret,
            algorithm="HS256",
        ),
        "wrong-key": jwt.encode(
            claims_for(admin_id), "another-secret-" + "x" * 40, algorithm="HS256"
        ),
        "tampered-sub": tampered,
        "tampered-exp": extended,
        "no-sub": jwt.encode(claims_for(admin_id, sub=None), secret, algorithm="HS256"),
        "no-iat": jwt.encode(claims_for(admin_id, iat=None), secret, algorithm="HS256"),
        "sub-not-an-id": jwt.encode(claims_for("alice"), secret, algorithm="HS256"),
        "sub-unknown-user": jwt.encode(claims_for(str(uuid.uuid4())), secret, algorithm="HS256"),
        "old-token-version": jwt.encode(claims_for(admin_id, ver=-1), secret, algorithm="HS256"),
        "no-token-version": jwt.encode(claims_for(admin_id, ver=None), secret, algorithm="HS256"),
        "truncated": good[:-5],
        "garbage": "not.a.token",
    }


FORGERIES = [
    "alg-none",
    "alg-none-with-signature",
    "alg-none-pyjwt",
    "hs512-right-key",
    "no-exp",
    "expired",
    "wrong-key",
    "tampered-sub",
    "tampered-exp",
    "no-sub",
    "no-iat",
    "sub-not-an-id",
    "sub-unknown-user",
    "old-token-version",
    "no-token-version",
    "truncated",
    "garbage",
]


@pytest.mark.parametrize("kind", FORGERIES)
async def test_a_forged_or_broken_token_is_401(api, kind):
    token = _forged_tokens(api.services.secret_key, api.user("Admin"), api.user("Member"))[kind]
    reply = await api.get("/user", who="anonymous", headers=bearer(token))
    api.error(reply, 401, "not_authenticated")
    assert reply.headers.get("WWW-Authenticate", "").lower().startswith("bearer")


@pytest.mark.parametrize(
    "header",
    ["Token abc", "Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer   ", "bearer"],
    ids=["token-scheme", "basic", "bearer-only", "bearer-blank", "lowercase-only"],
)
async def test_an_authorization_header_that_is_not_a_bearer_token_is_401(api, header):
    reply = await api.get("/item", who="anonymous", headers={"Authorization": header})
    api.error(reply, 401)


async def test_token_dies_when_the_password_changes(api):
    victim = {"Authorization": f"Bearer {api.seed.tokens['victim']}"}
    assert (await api.get("/item", who="anonymous", headers=victim)).status == 200

    changed = await api.patch(f"/user/{api.user('victim')}", json={"password": "a-brand-new-one"})
    assert changed.status == 200, changed
    assert "password" not in changed.json

    api.error(await api.get("/item", who="anonymous", headers=victim), 401)
    # The new password signs in; the old one does not.
    api.error(
        await api.post(
            LOGIN,
            who="anonymous",
            json={"username": "erin", "password": api.seed.passwords["victim"]},
        ),
        401,
    )
    fresh = await api.post(
        LOGIN, who="anonymous", json={"username": "erin", "password": "a-brand-new-one"}
    )
    assert fresh.status == 200, fresh
    assert (
        await api.get("/item", who="anonymous", headers=bearer(fresh.json["access_token"]))
    ).status == 200


async def _sign_in_while_the_password_changes(api, monkeypatch, path: str):
    """Sign in as erin at ``path`` and, after her password was checked but
    before the answer, change it (as an Admin does, over the API)."""
    creds = {"username": "erin", "password": api.seed.passwords["victim"]}
    # Erin signed in from here before, so her next check runs on the known
    # addresses' pool while the change hashes the new password on the other.
    assert (await api.post(LOGIN, who="anonymous", json=creds)).status == 200
    checked, changed = threading.Event(), threading.Event()
    real_check = security.verify_password

    def check_then_let_the_change_in(password: str, hashed: str | None) -> bool:
        ok = real_check(password, hashed)
        checked.set()
        changed.wait(10)
        return ok

    monkeypatch.setattr(security, "verify_password", check_then_let_the_change_in)
    signing_in = asyncio.ensure_future(api.post(path, who="anonymous", json=creds))
    assert await asyncio.get_running_loop().run_in_executor(None, checked.wait, 10)
    change = await api.patch(f"/user/{api.user('victim')}", json={"password": "a-brand-new-one"})
    assert change.status == 200, change
    changed.set()
    return await signing_in


async def test_a_password_change_during_a_login_ends_the_token_it_gets(api, monkeypatch):
    reply = await _sign_in_while_the_password_changes(api, monkeypatch, LOGIN)
    assert reply.status == 200, reply  # the password was right when it was checked
    api.error(await api.get("/item", who="anonymous", headers=bearer(reply.json["access_token"])), 401)


async def test_a_password_change_during_a_browser_sign_in_refuses_the_session(api, monkeypatch):
    reply = await _sign_in_while_the_password_changes(api, monkeypatch, "/auth/session")
    api.error(reply, 401, "not_authenticated")
    assert "stocky_refresh" not in reply.headers.get("Set-Cookie", "")


async def test_token_dies_when_the_user_is_deactivated(api):
    victim = {"Authorization": f"Bearer {api.seed.tokens['victim']}"}
    assert (await api.get("/item", who="anonymous", headers=victim)).status == 200
    reply = await api.patch(f"/user/{api.user('victim')}", json={"is_active": False})
    assert reply.status == 200 and reply.json["is_active"] is False, reply
    api.error(await api.get("/item", who="anonymous", headers=victim), 401)
    # Reactivating does not bring the old token back.
    reply = await api.patch(f"/user/{api.user('victim')}", json={"is_active": True})
    assert reply.status == 200, reply
    api.error(await api.get("/item", who="anonymous", headers=victim), 401)


async def test_token_dies_when_the_user_is_deleted(api):
    victim = {"Authorization": f"Bearer {api.seed.tokens['victim']}"}
    assert (await api.get("/item", who="anonymous", headers=victim)).status == 200
    assert (await api.delete(f"/user/{api.user('victim')}")).status == 204
    api.error(await api.get("/item", who="anonymous", headers=victim), 401)


async def test_a_role_change_takes_effect_on_the_next_request(api):
    victim = {"Authorization": f"Bearer {api.seed.tokens['victim']}"}
    assert (
        await api.post("/location", who="anonymous", headers=victim, json={"name": "Attic"})
    ).status == 201
    assert (
        await api.patch(f"/user/{api.user('victim')}", json={"role": "Read-only"})
    ).status == 200
    api.error(
        await api.post("/location", who="anonymous", headers=victim, json={"name": "Cellar"}), 403
    )


# -- API keys -----------------------------------------------------------------


async def test_an_unknown_or_empty_api_key_is_401(api):
    # The control: the real key is known (a scanner may not read stock: 403, not 401).
    api.error(await api.get("/item", who="Scanner"), 403)
    for key in ("sk_" + "A" * 43, api.seed.scanner_key[:-1], api.seed.scanner_key + "x", " "):
        reply = await api.get("/item", who="anonymous", headers={"X-API-Key": key})
        api.error(reply, 401, "not_authenticated")


@pytest.mark.parametrize("param", ["api_key", "apikey", "token", "access_token", "X-API-Key"])
async def test_credentials_in_the_query_string_are_refused(api, param):
    """Even a valid key or token in the address gives 401: it would land in logs and history."""
    value = api.seed.tokens["Admin"] if "token" in param else api.seed.scanner_key
    reply = await api.get("/item", who="anonymous", params={param: value})
    api.error(reply, 401)
    # Also when a valid header is sent alongside.
    reply = await api.get("/item", who="Admin", params={param: value})
    api.error(reply, 401)


async def test_a_deactivated_scanner_key_stops_working(api):
    scanner_id, key = await api.new_scanner()
    # Authenticated, though a scanner may not read the inventory: 403, not 401.
    api.error(await api.get("/item", who="anonymous", headers={"X-API-Key": key}), 403)
    assert (await api.patch(f"/user/{scanner_id}", json={"is_active": False})).status == 200
    api.error(await api.get("/item", who="anonymous", headers={"X-API-Key": key}), 401)


async def test_a_person_with_an_api_key_can_use_it(api):
    created = await api.services.users.create(
        {
            "username": "homeassistant",
            "role": "Member",
            "password": "ha-Secret-5",
            "with_api_key": True,
        },
        SYSTEM,
    )
    assert created.api_key
    reply = await api.get("/item", who="anonymous", headers={"X-API-Key": created.api_key})
    assert reply.status == 200, reply
