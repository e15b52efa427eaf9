"""/user: people and scanners, managed by an Admin; API keys shown once."""

from __future__ import annotations

import uuid

import pytest

USER_KEYS = {
    "id",
    "username",
    "role",
    "is_active",
    "api_key_prefix",
    "details",
    "created_at",
    "updated_at",
}


def assert_user(api, user: dict) -> None:
    assert USER_KEYS <= set(user), user
    assert api.is_uuid(user["id"])
    assert api.is_timestamp(user["created_at"]) and api.is_timestamp(user["updated_at"])
    assert not {"password", "password_hash", "api_key_hash", "token_version"} & set(user), user


async def test_me_is_whoever_asks(api):
    for who, name in (("Admin", "alice"), ("Member", "bob"), ("Read-only", "carol")):
        reply = await api.get("/user/me", who=who)
        assert reply.status == 200, reply
        assert_user(api, reply.json)
        assert (reply.json["username"], reply.json["role"]) == (name, who)


async def test_admin_lists_every_user_without_secrets(api):
    reply = await api.get("/user")
    rows = api.page(reply)
    assert [r["username"] for r in rows] == ["alice", "bob", "carol", "erin", "scanner-kitchen"]
    assert reply.json["total"] == 5
    for row in rows:
        assert_user(api, row)
        assert "api_key" not in row
    scanner = next(r for r in rows if r["role"] == "Scanner")
    assert scanner["api_key_prefix"] and api.seed.scanner_key.startswith(scanner["api_key_prefix"])
    assert api.seed.scanner_key not in reply.text


async def test_create_a_person(api):
    reply = await api.post(
        "/user", json={"username": "dave", "role": "Member", "password": "dave-Secret-6"}
    )
    assert reply.status == 201, reply
    user = reply.json
    assert_user(api, user)
    assert (user["username"], user["role"], user["is_active"]) == ("dave", "Member", True)
    assert user.get("api_key") is None
    assert "dave-Secret-6" not in reply.text
    login = await api.post(
        "/auth/login", who="anonymous", json={"username": "dave", "password": "dave-Secret-6"}
    )
    assert login.status == 200, login
    assert (await api.get(f"/user/{user['id']}")).json["username"] == "dave"


async def test_create_a_scanner_shows_its_key_once_and_the_key_works(api):
    reply = await api.post("/user", json={"username": "Pantry scanner", "role": "Scanner"})
    assert reply.status == 201, reply
    key = reply.json["api_key"]
    assert isinstance(key, str) and len(key) >= 32
    assert key.startswith(reply.json["api_key_prefix"])
    assert reply.json["details"].get("current_mode") == "add"
    # Authenticated by the key (403: a scanner may not read the inventory, but it is known).
    api.error(await api.get("/item", who="anonymous", headers={"X-API-Key": key}), 403)
    assert key not in (await api.get(f"/user/{reply.json['id']}")).text
    assert key not in (await api.get("/user")).text


async def test_rotating_a_key_retires_the_old_one(api):
    scanner = api.user("Scanner")
    old = {"X-API-Key": api.seed.scanner_key}
    api.error(await api.get("/user/me", who="anonymous", headers=old), 403)  # known, not allowed
    reply = await api.post(f"/user/{scanner}/api-key")
    assert reply.status == 200, reply
    assert set(reply.json) == {"api_key"}
    new = reply.json["api_key"]
    assert new != api.seed.scanner_key
    api.error(await api.get("/user/me", who="anonymous", headers=old), 401)
    api.error(await api.get("/user/me", who="anonymous", headers={"X-API-Key": new}), 403)
    listed = next(r for r in api.page(await api.get("/user")) if r["id"] == scanner)
    assert new.startswith(listed["api_key_prefix"])


@pytest.mark.parametrize("username", ["bob", "BOB", " Bob ", "scanner-KITCHEN"])
async def test_a_username_that_exists_is_409(api, username):
    reply = await api.post("/user", json={"username": username, "role": "Scanner"})
    api.error(reply, 409, "conflict")


async def test_usernames_are_unique_beyond_ascii_case(api):
    assert (await api.post("/user", json={"username": "jörg", "role": "Scanner"})).status == 201
    api.error(await api.post("/user", json={"username": "JÖRG", "role": "Scanner"}), 409)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "frank", "role": "Member"}, "body"),  # a person needs a password
        ({"username": "frank", "role": "Chef", "password": "x"}, "role"),
        ({"username": "", "role": "Scanner"}, "username"),
        ({"username": "frank", "role": "Scanner", "is_admin": True}, "is_admin"),
        ({"role": "Scanner"}, "username"),
        ({"username": "fr\x00nk", "role": "Scanner"}, "username"),
    ],
    ids=["no-password", "unknown-role", "empty-name", "unknown-field", "no-name", "nul-in-name"],
)
async def test_create_validation_names_the_field(api, body, field):
    before = await api.snapshot()
    assert field in api.failing_fields(await api.post("/user", json=body))
    assert await api.snapshot() == before


async def test_a_password_over_72_bytes_is_refused_not_truncated(api):
    reply = await api.post(
        "/user", json={"username": "frank", "role": "Member", "password": "p" * 73}
    )
    assert "password" in api.failing_fields(reply)
    reply = await api.patch(f"/user/{api.user('victim')}", json={"password": "ü" * 37})
    assert "password" in api.failing_fields(reply)


async def test_patch_changes_the_role(api):
    reply = await api.patch(f"/user/{api.user('victim')}", json={"role": "Read-only"})
    assert reply.status == 200, reply
    assert_user(api, reply.json)
    assert reply.json["role"] == "Read-only"
    assert (await api.get(f"/user/{api.user('victim')}")).json["role"] == "Read-only"


async def test_the_last_active_admin_cannot_be_demoted_deactivated_or_deleted(api):
    admin = api.user("Admin")
    before = await api.snapshot()
    api.error(await api.patch(f"/user/{admin}", json={"role": "Member"}), 409)
    api.error(await api.patch(f"/user/{admin}", json={"is_active": False}), 409)
    api.error(await api.delete(f"/user/{admin}"), 409)
    assert await api.snapshot() == before
    # With a second Admin, the first may step down.
    assert (await api.patch(f"/user/{api.user('victim')}", json={"role": "Admin"})).status == 200
    assert (await api.patch(f"/user/{admin}", json={"role": "Member"})).status == 200


async def test_delete_a_user(api):
    scanner_id, key = await api.new_scanner()
    reply = await api.delete(f"/user/{scanner_id}")
    assert reply.status == 204, reply
    api.error(await api.get(f"/user/{scanner_id}"), 404)
    api.error(await api.get("/item", who="anonymous", headers={"X-API-Key": key}), 401)


@pytest.mark.parametrize("bad_id", [str(uuid.uuid4()), "alice"])
async def test_unknown_or_malformed_user_id_is_404(api, bad_id):
    api.error(await api.get(f"/user/{bad_id}"), 404, "not_found")
    api.error(await api.patch(f"/user/{bad_id}", json={"role": "Member"}), 404)
    api.error(await api.delete(f"/user/{bad_id}"), 404)
    api.error(await api.post(f"/user/{bad_id}/api-key"), 404)


@pytest.mark.parametrize("who", ["Member", "Read-only"])
async def test_people_other_than_admins_cannot_see_or_change_users(api, who):
    before = await api.snapshot()
    api.error(await api.get("/user", who=who), 403, "forbidden")
    api.error(
        await api.post(
            "/user", who=who, json={"username": "mallory", "role": "Admin", "password": "x"}
        ),
        403,
    )
    api.error(await api.patch(f"/user/{api.user(who)}", who=who, json={"role": "Admin"}), 403)
    assert await api.snapshot() == before
