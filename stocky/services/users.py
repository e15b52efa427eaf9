from __future__ import annotations

import asyncio
import logging
import secrets
import uuid

from sqlalchemy.orm import Session

from stocky.core import security
from stocky.core.errors import Conflict, NotAuthenticated, TooManyAttempts
from stocky.core.events import EventBus
from stocky.core.passwords import check_new_password
from stocky.core.pools import KNOWN_PASSWORDS, PASSWORDS
from stocky.core.throttle import LoginThrottle
from stocky.crud import user as crud
from stocky.crud.common import get_or_404
from stocky.db.engine import Database
from stocky.models import User, WebSession
from stocky.models.types import utcnow
from stocky.schemas.actor import Actor
from stocky.schemas.auth import SignedIn
from stocky.schemas.common import Page, parse
from stocky.schemas.user import (
    ApiKeyOut,
    MeOut,
    ScannerState,
    UserCreate,
    UserCreated,
    UserOut,
    UserUpdate,
)
from stocky.services.api_keys import ApiKeyCache
from stocky.services.base import Service, UnitOfWork
from stocky.services.permissions import Action, allowed_actions, require, require_account
from stocky.services.sessions import end_user_sessions

# A client that ignores Retry-After waits this long for each refusal: a
# crowd of them hammering from one address then costs Stocky a few dozen
# answers a second instead of as many as its CPU can give.
REFUSAL_DELAY = 0.5
# Where the touch screen's own sign-ins come from, for the throttle: the
# person standing at the box, never behind a flood from the network.
AT_THE_SCREEN = "the touch screen"

log = logging.getLogger("stocky.users")


def actor_of(user: UserOut, source: str = "api") -> Actor:
    return Actor(user_id=user.id, username=user.username, role=user.role, source=source)


class UserService(Service):
    def __init__(self, db: Database, bus: EventBus, throttle: LoginThrottle | None = None) -> None:
        super().__init__(db, bus)
        self._keys = ApiKeyCache()
        self.throttle = throttle or LoginThrottle()
        bus.subscribe(self._keys.on_event)

    async def me(self, actor: Actor) -> MeOut:
        """The actor's own account, with what the permission table lets it do."""

        def query(session: Session) -> MeOut:
            user = session.get(User, actor.user_id)
            return MeOut(**UserOut.model_validate(user).model_dump(), can=allowed_actions(user.role))

        return await self.read(actor, Action.OWN_ACCOUNT, query)

    async def list(self, actor: Actor) -> Page[UserOut]:
        def query(session: Session) -> Page[UserOut]:
            rows = crud.all(session)
            return Page[UserOut](data=[UserOut.model_validate(u) for u in rows], total=len(rows))

        return await self.read(actor, Action.USER_MANAGE, query)

    async def count(self) -> int:
        """How many accounts there are (none: the first start asks for an Admin)."""
        return await self.db.read(crud.count)

    async def get(self, user_id: uuid.UUID, actor: Actor) -> UserOut:
        return await self.read(
            actor, Action.USER_MANAGE, lambda session: UserOut.model_validate(get_or_404(session, User, user_id, "user"))
        )

    async def by_username(self, username: str, actor: Actor) -> UserOut | None:
        def query(session: Session) -> UserOut | None:
            user = crud.by_username(session, username)
            return UserOut.model_validate(user) if user else None

        return await self.read(actor, Action.USER_MANAGE, query)

    async def create(self, data: UserCreate | dict, actor: Actor) -> UserCreated:
        """A Scanner (or anyone asked ``with_api_key``) gets a key, shown once."""
        data = parse(UserCreate, data)
        require(actor.role, Action.USER_MANAGE)  # before a quarter second of bcrypt
        password_hash = await _new_password_hash(data.password)
        key = security.new_api_key() if data.role == "Scanner" or data.with_api_key else None

        def change(work: UnitOfWork) -> UserCreated:
            if existing := crud.by_username(work.session, data.username):
                raise Conflict(f"The username {existing.username} is taken.")
            user = User(
                username=data.username,
                role=data.role,
                password_hash=password_hash,
                api_key_hash=key.key_hash if key else None,
                api_key_prefix=key.prefix if key else None,
                details={"current_mode": "add"} if data.role == "Scanner" else {},
                is_active=True,
                token_version=0,
            )
            work.session.add(user)
            work.session.flush()
            work.emit("user", user.id, "created")
            work.log(log, logging.INFO, "Created %s user %s", user.role, user.username, source=actor.username)
            return UserCreated(**UserOut.model_validate(user).model_dump(), api_key=key.key if key else None)

        return await self.write(actor, Action.USER_MANAGE, change)

    async def update(self, user_id: uuid.UUID, data: UserUpdate | dict, actor: Actor) -> UserOut:
        """A new password or deactivation ends every token issued before."""
        data = parse(UserUpdate, data)
        require(actor.role, Action.USER_MANAGE)  # before a quarter second of bcrypt
        password_hash = await _new_password_hash(data.password)

        def change(work: UnitOfWork) -> UserOut:
            user = get_or_404(work.session, User, user_id, "user")
            losing_admin = user.role == "Admin" and user.is_active and (
                (data.role is not None and data.role != "Admin") or data.is_active is False
            )
            if losing_admin:
                _keep_one_admin(work)
            if data.role is not None:
                user.role = data.role
            if password_hash is not None:
                user.password_hash = password_hash
                _end_sessions(work, user)
            if data.is_active is not None and data.is_active != user.is_active:
                user.is_active = data.is_active
                _end_sessions(work, user)
            work.session.flush()
            work.emit("user", user.id, "updated")
            work.log(log, logging.INFO, "Updated user %s", user.username, source=actor.username)
            return UserOut.model_validate(user)

        return await self.write(actor, Action.USER_MANAGE, change)

    async def deactivate(self, user_id: uuid.UUID, actor: Actor) -> UserOut:
        return await self.update(user_id, UserUpdate(is_active=False), actor)

    async def delete(self, user_id: uuid.UUID, actor: Actor) -> None:
        def change(work: UnitOfWork) -> None:
            user = get_or_404(work.session, User, user_id, "user")
            if user.role == "Admin" and user.is_active:
                _keep_one_admin(work)
            work.session.delete(user)
            work.emit("user", user_id, "deleted")
            work.log(log, logging.INFO, "Deleted user %s", user.username, source=actor.username)

        await self.write(actor, Action.USER_MANAGE, change)

    async def rotate_api_key(self, user_id: uuid.UUID, actor: Actor) -> ApiKeyOut:
        """A new key replaces the old one at once; it is shown only here."""
        key = security.new_api_key()

        def change(work: UnitOfWork) -> ApiKeyOut:
            user = get_or_404(work.session, User, user_id, "user")
            user.api_key_hash = key.key_hash
            user.api_key_prefix = key.prefix
            work.emit("user", user.id, "updated")
            work.log(log, logging.INFO, "New API key for %s", user.username, source=actor.username)
            return ApiKeyOut(api_key=key.key)

        return await self.write(actor, Action.USER_MANAGE, change)

    async def sign_in(self, username: str, password: str, client: str) -> SignedIn:
        """The user whose password this is, with the token version to issue
        tokens for, or ``NotAuthenticated``. Every door's sign-in comes here,
        so all obey one throttle: more than five failures for one name from
        one ``client`` (an address, or the touch screen), or twenty for any
        names from one client, within 15 minutes lock that pair (or that
        client) out for a while, and one client gets one password check at a
        time. An unknown name costs the same bcrypt round as a wrong password."""
        throttle = self.throttle
        if wait := throttle.retry_after(username, client):
            await asyncio.sleep(REFUSAL_DELAY)
            raise TooManyAttempts(f"Too many failed sign-ins; try again in {wait} seconds.", wait)
        if not throttle.begin(client):
            await asyncio.sleep(REFUSAL_DELAY)
            raise TooManyAttempts("A sign-in from this address is being checked; try again in a second.", 1)
        try:
            signed_in = await self._check_password(username, password, known_place=(
                client == AT_THE_SCREEN or throttle.known(client)))
        except NotAuthenticated:
            throttle.failed(username, client)
            raise
        finally:
            throttle.end(client)
        throttle.succeeded(username, client)
        return signed_in

    async def _check_password(self, username: str, password: str, known_place: bool) -> SignedIn:
        """``known_place``: the touch screen, or an address someone signed in
        from before (its check gets a pool a flood cannot fill)."""
        security.check_password_length(password)
        user = await self.db.read(lambda session: crud.by_username(session, username))
        stored = user.password_hash if user and user.is_active else None
        pool = KNOWN_PASSWORDS if known_place else PASSWORDS
        if not await pool.run(security.verify_password, password, stored):
            raise NotAuthenticated("Wrong username or password.")
        return SignedIn(UserOut.model_validate(user), user.token_version)

    async def change_own_password(
        self, actor: Actor, current: str, new: str, client: str, keep_session: uuid.UUID | None = None
    ) -> SignedIn:
        """Everyone with a password changes their own, proving the current one
        (through the same throttle as a sign-in). Every other sign-in of the
        account ends: its tokens, its browsers but ``keep_session`` (the one
        asking), its sockets. Returns the new token version to mint for."""
        await self.read(actor, Action.OWN_ACCOUNT, lambda session: None)  # an active account
        check_new_password(new, "new_password")
        try:
            await self.sign_in(actor.username, current, client)
        except NotAuthenticated:
            raise NotAuthenticated("The current password is not right.") from None
        password_hash = await PASSWORDS.run(security.hash_password, new)

        def change(work: UnitOfWork) -> SignedIn:
            user = require_account(work.session.get(User, actor.user_id), Action.OWN_ACCOUNT)
            user.password_hash = password_hash
            _end_sessions(work, user, keep=keep_session)
            work.log(log, logging.INFO, "%s changed their password", user.username, source=user.username)
            return SignedIn(UserOut.model_validate(user), user.token_version)

        return await self.write(actor, Action.OWN_ACCOUNT, change)

    async def sign_out_everywhere(self, actor: Actor) -> None:
        """End every session, token and socket of the actor's account."""

        def change(work: UnitOfWork) -> None:
            user = require_account(work.session.get(User, actor.user_id), Action.OWN_ACCOUNT)
            _end_sessions(work, user)
            work.log(log, logging.INFO, "%s signed out everywhere", user.username, source=user.username)

        await self.write(actor, Action.OWN_ACCOUNT, change)

    async def create_first_admin(self, username: str, password: str) -> UserCreated:
        """The household's first Admin, made at the first start (the touch
        screen's welcome, ``stocky create-admin``); refused once any Admin exists."""
        check_new_password(password)
        password_hash = await PASSWORDS.run(security.hash_password, password)

        def change(work: UnitOfWork) -> UserCreated:
            if crud.active_admin_count(work.session):
                raise Conflict("Stocky has an Admin already; ask them to add you.")
            user = _add_user(work, username, "Admin", password_hash)
            work.log(log, logging.INFO, "Created the first Admin, %s", user.username, source=user.username)
            return UserCreated(**UserOut.model_validate(user).model_dump())

        return await self.write(None, None, change)

    async def ensure_kiosk_account(self, username: str) -> UserOut:
        """The Member account the touch screen rests as, made at its first
        start. Nobody signs in with its password (a random one): the screen
        is signed in as it. An existing account is returned as it is."""
        password_hash = None

        def change(work: UnitOfWork) -> UserOut:
            if (user := crud.by_username(work.session, username)) is not None:
                return UserOut.model_validate(user)
            user = _add_user(work, username, "Member", password_hash)
            work.log(log, logging.INFO, "Created %s, the Member account the touch screen rests as",
                     user.username)
            return UserOut.model_validate(user)

        if not await self.db.read(lambda session: crud.by_username(session, username)):
            password_hash = await PASSWORDS.run(security.hash_password, secrets.token_urlsafe(24))
        return await self.write(None, None, change)

    async def has_admin(self) -> bool:
        """Is there an active Admin (none: the first start asks for one)?"""
        return bool(await self.db.read(crud.active_admin_count))

    async def people(self) -> list[UserOut]:
        """The active people who may sign in at the touch screen, by name:
        the names it offers (anyone at the screen sees them)."""
        return await self.db.read(lambda session: [
            UserOut.model_validate(user) for user in crud.all(session)
            if user.is_active and user.role != "Scanner" and user.password_hash
        ])

    async def by_api_key(self, key: str) -> UserOut | None:
        key_hash = security.hash_api_key(key)
        if (known := self._keys.get(key_hash)) is not None:
            return known
        user = await self.db.read(lambda session: crud.by_key_hash(session, key_hash))
        if user is None or not user.is_active or not security.api_key_matches(key, user.api_key_hash or ""):
            return None  # never remembered: a key made a moment later must work at once
        known = UserOut.model_validate(user)
        self._keys.put(key_hash, known)
        return known

    async def for_token(self, claims: security.TokenClaims) -> UserOut:
        """The token's user, if the token is still theirs to use: the account
        is active, its password unchanged since, and the browser sign-in it
        was minted for (if any) not ended."""

        def query(session: Session) -> User | None:
            user = session.get(User, claims.user_id)
            if user is None or not user.is_active or user.token_version != claims.token_version:
                return None
            if claims.session_id is not None and not _session_alive(session, claims):
                return None
            return user

        user = await self.db.read(query)
        if user is None:
            raise NotAuthenticated("The sign-in token is no longer valid; sign in again.")
        return UserOut.model_validate(user)

    async def token_version(self, user_id: uuid.UUID) -> int:
        return await self.db.read(lambda session: get_or_404(session, User, user_id, "user").token_version)


def scanner_state(user: User | UserOut) -> ScannerState:
    return ScannerState.model_validate({"id": user.id, "username": user.username, **(user.details or {})})


async def _new_password_hash(password: str | None) -> str | None:
    """The hash of a password being set, once it meets the rule."""
    if password is None:
        return None
    check_new_password(password)
    return await PASSWORDS.run(security.hash_password, password)


def _add_user(work: UnitOfWork, username: str, role: str, password_hash: str | None) -> User:
    user = User(username=username, role=role, password_hash=password_hash, details={},
                is_active=True, token_version=0)
    work.session.add(user)
    work.session.flush()
    work.emit("user", user.id, "created")
    return user


def _session_alive(session: Session, claims: security.TokenClaims) -> bool:
    row = session.get(WebSession, claims.session_id)
    return (row is not None and row.user_id == claims.user_id
            and row.token_version == claims.token_version and row.expires_at > utcnow())


def _end_sessions(work: UnitOfWork, user: User, keep: uuid.UUID | None = None) -> None:
    """Every token and browser sign-in of ``user`` ends (but ``keep``, which
    moves on with the account); its sockets hear of it and close."""
    user.token_version += 1
    end_user_sessions(work, user.id, keep=keep)
    if keep is not None and (kept := work.session.get(WebSession, keep)) is not None:
        kept.token_version = user.token_version
    work.session.flush()
    work.emit("user", user.id, "updated")


def _keep_one_admin(work: UnitOfWork) -> None:
    if crud.active_admin_count(work.session) <= 1:
        raise Conflict("Stocky needs at least one active Admin; make another Admin first.")
