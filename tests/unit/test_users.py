"""Users: bcrypt passwords, API keys stored hashed and shown once, deactivation,
and the last active Admin. bcrypt is slow on purpose, so few people are made
here; scanners need no password and cost nothing."""

from __future__ import annotations

import hashlib
import uuid

import bcrypt
import pytest
from sqlalchemy import select, text, update

from stocky.core import security
from stocky.core.errors import Conflict, InvalidInput, NotAuthenticated
from stocky.models import User
from stocky.schemas.actor import SYSTEM
from stocky.services import api_keys
from stocky.services.users import actor_of

PASSWORD_72_BYTES = "Grüne-Äpfel-" + "x" * 58  # two 2-byte letters: 72 bytes, 70 characters


async def user_row(services, user_id: uuid.UUID) -> User:
    return await services.db.read(lambda session: session.scalar(select(User).where(User.id == user_id)))


async def raw_user_columns(services, user_id: uuid.UUID) -> list[str]:
    """Every column of the user's row as the database file holds it."""
    row = await services.db.read(
        lambda session: session.execute(text('SELECT * FROM "user" WHERE id = :id'), {"id": str(user_id)}).one()
    )
    return [str(value) for value in row]


async def test_password_is_stored_as_bcrypt_and_signs_in(services, admin):
    assert len(PASSWORD_72_BYTES.encode()) == 72
    anna = await services.users.create(
        {"username": "anna", "role": "Member", "password": PASSWORD_72_BYTES}, admin
    )
    assert anna.api_key is None  # a person gets no key unless asked

    stored = (await user_row(services, anna.id)).password_hash
    assert stored.startswith("$2b$")
    assert PASSWORD_72_BYTES not in await raw_user_columns(services, anna.id)
    assert bcrypt.checkpw(PASSWORD_72_BYTES.encode(), stored.encode())

    signed_in = await services.users.sign_in("Anna", PASSWORD_72_BYTES, "tests")
    assert signed_in.user.id == anna.id

    with pytest.raises(NotAuthenticated, match="Wrong username or password"):
        await services.users.sign_in("anna", PASSWORD_72_BYTES[:-1] + "y", "tests")
    with pytest.raises(NotAuthenticated, match="Wrong username or password"):
        await services.users.sign_in("nobody", PASSWORD_72_BYTES, "tests")
    # bcrypt would ignore a 73rd byte; Stocky refuses it instead of letting it in.
    with pytest.raises(InvalidInput, match="72 bytes"):
        await services.users.sign_in("anna", PASSWORD_72_BYTES + "!", "tests")


@pytest.mark.parametrize(
    "password", ["p" * 73, "ä" * 37], ids=["73-ascii-bytes", "37-characters-74-bytes"]
)
async def test_a_password_over_72_bytes_is_refused(services, admin, db_snapshot, password):
    before = await db_snapshot()

    with pytest.raises(InvalidInput, match="longer than 72 bytes") as caught:
        await services.users.create({"username": "bob", "role": "Member", "password": password}, admin)

    assert [f["field"] for f in caught.value.fields] == ["password"]
    assert await db_snapshot() == before
    assert await services.users.by_username("bob", SYSTEM) is None


async def test_a_person_needs_a_password(services, admin):
    with pytest.raises(InvalidInput, match="needs a password"):
        await services.users.create({"username": "bob", "role": "Member"}, admin)

    assert await services.users.count() == 0


async def test_scanner_api_key_is_shown_once_and_stored_only_as_its_sha256(services, admin):
    scanner = await services.users.create({"username": "pantry-scanner", "role": "Scanner"}, admin)

    key = scanner.api_key
    assert key and len(key) >= 40
    assert scanner.api_key_prefix == key[:8]
    columns = await raw_user_columns(services, scanner.id)
    assert not any(key in column for column in columns)
    assert not any(key[8:] in column for column in columns)
    row = await user_row(services, scanner.id)
    assert row.api_key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.password_hash is None
    # Read back later, the key is nowhere to be seen.
    assert "api_key" not in (await services.users.get(scanner.id, SYSTEM)).model_dump()

    found = await services.users.by_api_key(key)
    assert found is not None and found.id == scanner.id
    assert await services.users.by_api_key(key + "x") is None
    assert await services.users.by_api_key(row.api_key_hash) is None


async def test_rotating_the_api_key_stops_the_old_one(services, admin):
    scanner = await services.users.create({"username": "pantry-scanner", "role": "Scanner"}, admin)
    old_key = scanner.api_key

    rotated = await services.users.rotate_api_key(scanner.id, admin)

    assert rotated.api_key != old_key
    assert await services.users.by_api_key(old_key) is None
    found = await services.users.by_api_key(rotated.api_key)
    assert found is not None and found.id == scanner.id
    assert found.api_key_prefix == rotated.api_key[:8]
    columns = await raw_user_columns(services, scanner.id)
    assert not any(rotated.api_key in column for column in columns)


async def test_deactivating_a_scanner_stops_its_key_and_ends_its_tokens(services, admin):
    scanner = await services.users.create({"username": "pantry-scanner", "role": "Scanner"}, admin)
    version = await services.users.token_version(scanner.id)

    deactivated = await services.users.deactivate(scanner.id, admin)

    assert deactivated.is_active is False
    assert await services.users.by_api_key(scanner.api_key) is None
    assert await services.users.token_version(scanner.id) == version + 1


async def test_a_deactivated_person_cannot_sign_in(services, admin):
    anna = await services.users.create(
        {"username": "anna", "role": "Member", "password": "correct horse staple"}, admin
    )
    version = await services.users.token_version(anna.id)

    await services.users.deactivate(anna.id, admin)

    with pytest.raises(NotAuthenticated):
        await services.users.sign_in("anna", "correct horse staple", "tests")
    assert await services.users.token_version(anna.id) == version + 1


async def test_the_last_active_admin_cannot_be_demoted_deactivated_or_deleted(
    services, admin, db_snapshot
):
    root = await services.users.create(
        {"username": "root", "role": "Admin", "password": "s3cret-enough"}, admin
    )
    before = await db_snapshot()

    for attempt in (
        services.users.update(root.id, {"role": "Member"}, admin),
        services.users.deactivate(root.id, admin),
        services.users.delete(root.id, admin),
    ):
        with pytest.raises(Conflict, match="at least one active Admin"):
            await attempt

    assert await db_snapshot() == before
    assert (await services.users.get(root.id, SYSTEM)).role == "Admin"

    # With a second active Admin, the first may step down.
    scanner = await services.users.create({"username": "helper", "role": "Scanner"}, admin)
    await services.users.update(scanner.id, {"role": "Admin"}, admin)
    demoted = await services.users.update(root.id, {"role": "Member"}, admin)
    assert demoted.role == "Member"
    # Now the helper is the last one.
    with pytest.raises(Conflict, match="at least one active Admin"):
        await services.users.delete(scanner.id, admin)


async def test_an_inactive_admin_does_not_count_as_the_other_admin(services, admin):
    first = await services.users.create({"username": "first", "role": "Scanner"}, admin)
    second = await services.users.create({"username": "second", "role": "Scanner"}, admin)
    for user in (first, second):
        await services.users.update(user.id, {"role": "Admin"}, admin)
    await services.users.deactivate(second.id, admin)

    with pytest.raises(Conflict, match="at least one active Admin"):
        await services.users.deactivate(first.id, admin)

    assert (await services.users.get(first.id, SYSTEM)).is_active is True


# --- the remembered API keys (stocky/services/api_keys.py) --------------------


async def _used_key(services, admin, role: str = "Scanner"):
    created = await services.users.create(
        {"username": f"{role.lower()}-one", "role": role, "password": "Long-enough-1", "with_api_key": True}
        if role != "Scanner" else {"username": "scanner-one", "role": "Scanner"},
        admin,
    )
    assert (await services.users.by_api_key(created.api_key)).id == created.id  # now remembered
    return created


@pytest.mark.parametrize("change", ["deactivate", "rotate", "delete"])
async def test_a_remembered_key_stops_working_the_moment_its_user_changes(services, admin, change):
    scanner = await _used_key(services, admin)
    if change == "deactivate":
        await services.users.deactivate(scanner.id, admin)
    elif change == "rotate":
        await services.users.rotate_api_key(scanner.id, admin)
    else:
        await services.users.delete(scanner.id, admin)
    assert await services.users.by_api_key(scanner.api_key) is None


async def test_a_remembered_key_carries_the_new_role(services, admin):
    member = await _used_key(services, admin, "Member")
    await services.users.update(member.id, {"role": "Read-only"}, admin)
    assert (await services.users.by_api_key(member.api_key)).role == "Read-only"


async def test_a_remembered_key_shows_the_scanners_state_after_each_scan(services, admin, locations):
    """``GET /user/me`` and the scan path read the caller from the key: the
    mode and place a scan just set must be there, not the state of before."""
    member = await _used_key(services, admin, "Member")
    caller = actor_of(await services.users.by_api_key(member.api_key), "scan")
    await services.scans.scan(caller, '{"command": "set_mode", "payload": "remove"}')
    await services.scans.scan(caller, str(locations["Fridge"].id))
    details = (await services.users.by_api_key(member.api_key)).details
    assert details["current_mode"] == "remove"
    assert details["current_location_id"] == str(locations["Fridge"].id)


async def test_a_change_made_by_another_process_is_seen_within_seconds(services, admin):
    """What this process did not change itself (another Stocky on the same
    PostgreSQL, a hand-edited database) it trusts for at most KEPT_SECONDS."""
    scanner = await _used_key(services, admin)
    now = [1000.0]
    services.users._keys._clock = lambda: now[0]
    services.users._keys.put(security.hash_api_key(scanner.api_key), await services.users.get(scanner.id, SYSTEM))

    await services.db.write(
        lambda session: session.execute(update(User).where(User.id == scanner.id).values(is_active=False))
    )
    assert await services.users.by_api_key(scanner.api_key) is not None  # still remembered
    now[0] += api_keys.KEPT_SECONDS
    assert await services.users.by_api_key(scanner.api_key) is None
