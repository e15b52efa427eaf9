from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from stocky.core import security
from stocky.core.errors import Conflict, NotAuthenticated
from stocky.core.events import EventBus
from stocky.core.pools import KNOWN_PASSWORDS, PASSWORDS
from stocky.crud import user as crud
from stocky.crud.common import get_or_404
from stocky.db.engine import Database
from stocky.models import User
from stocky.schemas.actor import Actor
from stocky.schemas.common import Page, parse
from stocky.schemas.user import (
    ApiKeyOut,
    ScannerState,
    UserCreate,
    UserCreated,
    UserOut,
    UserUpdate,
)
from stocky.services.api_keys import ApiKeyCache
from stocky.services.base import Service, UnitOfWork
from stocky.services.permissions import Action, require

log = logging.getLogger("stocky.users")


@dataclass(frozen=True)
class SignedIn:
    """A person whose password was just checked, and their token version as
    read in the same row as the password hash: a token minted for it dies
    with any password change or deactivation after that read, even one that
    lands while bcrypt runs."""

    user: UserOut
    token_version: int


def actor_of(user: UserOut, source: str = "api") -> Actor:
    return Actor(user_id=user.id, username=user.username, role=user.role, source=source)


class UserService(Service):
    def __init__(self, db: Database, bus: EventBus) -> None:
        super().__init__(db, bus)
        self._keys = ApiKeyCache()
        bus.subscribe(self._keys.on_event)

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
        password_hash = (
            await PASSWORDS.run(security.hash_password, data.password) if data.password else None
        )
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
        password_hash = (
            await PASSWORDS.run(security.hash_password, data.password) if data.password else None
        )

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
                user.token_version += 1
            if data.is_active is not None and data.is_active != user.is_active:
                user.is_active = data.is_active
                user.token_version += 1
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

    async def authenticate(self, username: str, password: str, known_place: bool = False) -> UserOut:
        """The user whose password this is, or ``NotAuthenticated`` (see ``sign_in``)."""
        return (await self.sign_in(username, password, known_place)).user

    async def sign_in(self, username: str, password: str, known_place: bool = False) -> SignedIn:
        """The user whose password this is, with the token version to issue
        tokens for, or ``NotAuthenticated``. An unknown name costs the same
        bcrypt round as a wrong password. ``known_place``: the touch screen,
        or an address someone signed in from before (its check gets a pool a
        flood cannot fill)."""
        security.check_password_length(password)

        user = await self.db.read(lambda session: crud.by_username(session, username))
        stored = user.password_hash if user and user.is_active else None
        pool = KNOWN_PASSWORDS if known_place else PASSWORDS
        if not await pool.run(security.verify_password, password, stored):
            raise NotAuthenticated("Wrong username or password.")
        return SignedIn(UserOut.model_validate(user), user.token_version)

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
        """The token's user, if the token is still theirs to use."""

        user = await self.db.read(lambda session: session.get(User, claims.user_id))
        if user is None or not user.is_active or user.token_version != claims.token_version:
            raise NotAuthenticated("The sign-in token is no longer valid; sign in again.")
        return UserOut.model_validate(user)

    async def token_version(self, user_id: uuid.UUID) -> int:
        return await self.db.read(lambda session: get_or_404(session, User, user_id, "user").token_version)


def scanner_state(user: User | UserOut) -> ScannerState:
    return ScannerState.model_validate({"id": user.id, "username": user.username, **(user.details or {})})


def _keep_one_admin(work: UnitOfWork) -> None:
    if crud.active_admin_count(work.session) <= 1:
        raise Conflict("Stocky needs at least one active Admin; make another Admin first.")
