"""Long sign-ins for browsers: a family of rotating refresh tokens, stored hashed.

Each use of a refresh token replaces it with its successor, which is derived
from it and Stocky's secret (``security.successor_token``): two tabs that
refresh at once with the same cookie both get the same successor, never two
live sessions. Past that moment (``RACE``), a token the family has moved past
can only be a copy: showing it ends the whole family, for the owner and the
copier alike, with one WARNING line. No sequence of requests can leave a copy
signed in while its owner is signed out.

A new password, a deactivation or a deleted user ends every session at once
(the token version moves on, or the rows cascade away); signing out ends one
family, and the access tokens minted for it (they carry its id).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stocky.core import security
from stocky.core.errors import NotAuthenticated
from stocky.core.events import EventBus
from stocky.db.engine import Database
from stocky.models import RetiredToken, User, WebSession
from stocky.models.types import utcnow
from stocky.schemas.auth import SignedIn
from stocky.schemas.user import UserOut
from stocky.services.base import Service, UnitOfWork

log = logging.getLogger("stocky.sessions")

# How long after a rotation the token it replaced still gets the same answer:
# two tabs asking at once, or a retry of an answer lost on a poor line.
RACE = timedelta(seconds=10)
ENDED = "Your sign-in has ended; sign in again."


@dataclass(frozen=True)
class Renewal:
    """A refresh token, whose it is, the session it belongs to, and their
    token version as the same transaction saw it: an access token minted
    from a later read could outlive a password change made in between."""

    refresh_token: str
    user: UserOut
    token_version: int
    session_id: uuid.UUID


def end_family(work: UnitOfWork, row: WebSession) -> None:
    """Sign that browser out: its refresh tokens and the access tokens
    minted for it stop working, and its sockets close."""
    work.session.delete(row)
    work.emit("session", row.id, "deleted", user_id=str(row.user_id))


def end_user_sessions(work: UnitOfWork, user_id: uuid.UUID, keep: uuid.UUID | None = None) -> None:
    """End every browser sign-in of ``user_id`` but ``keep``."""
    rows = work.session.scalars(select(WebSession).where(WebSession.user_id == user_id)).all()
    for row in rows:
        if row.id != keep:
            end_family(work, row)


class SessionService(Service):
    def __init__(self, db: Database, bus: EventBus, secret_key: str) -> None:
        super().__init__(db, bus)
        self._secret = secret_key

    async def start(self, signed_in: SignedIn, days: int) -> Renewal:
        """A session for a person who has just proved their password, unless
        their tokens were ended since (a password change while it was checked)."""
        user = signed_in.user
        token = secrets.token_urlsafe(32)

        def change(work: UnitOfWork) -> Renewal:
            now = utcnow()
            stored = work.session.get(User, user.id)
            if stored is None or not stored.is_active or stored.token_version != signed_in.token_version:
                raise NotAuthenticated(ENDED)
            work.session.execute(delete(WebSession).where(WebSession.expires_at < now))
            row = WebSession(
                user_id=user.id, token_hash=security.hash_api_key(token),
                token_version=stored.token_version,
                created_at=now, rotated_at=now, expires_at=now + timedelta(days=days),
            )
            work.session.add(row)
            work.session.flush()
            return Renewal(token, user, stored.token_version, row.id)

        return await self.write(None, None, change)

    async def renew(self, token: str, days: int) -> Renewal:
        """The next refresh token and whose it is, or ``NotAuthenticated``."""
        presented = security.hash_api_key(token)
        successor = security.successor_token(self._secret, token)
        successor_hash = security.hash_api_key(successor)

        def change(work: UnitOfWork) -> Renewal | str:
            now = utcnow()
            row = work.session.scalars(
                select(WebSession).where(WebSession.token_hash == presented)
            ).first()
            if row is None:
                return _retired(work, presented, successor, now)
            user = work.session.get(User, row.user_id)
            if row.expires_at < now or user is None or not user.is_active \
                    or user.token_version != row.token_version:
                end_family(work, row)
                return ENDED
            work.session.add(RetiredToken(token_hash=presented, session_id=row.id))
            row.previous_hash = presented
            row.token_hash = successor_hash
            row.rotated_at = now
            row.expires_at = now + timedelta(days=days)
            return Renewal(successor, UserOut.model_validate(user), user.token_version, row.id)

        outcome = await self.write(None, None, change)
        if isinstance(outcome, str):  # the family's end is committed first
            raise NotAuthenticated(outcome)
        return outcome

    async def end(self, token: str) -> UserOut | None:
        """Sign-out: the family is gone, whichever of its tokens was shown.
        Returns whose it was."""
        presented = security.hash_api_key(token)

        def change(work: UnitOfWork) -> UserOut | None:
            row = _family(work.session, presented)
            if row is None:
                return None
            end_family(work, row)
            user = work.session.get(User, row.user_id)
            return UserOut.model_validate(user) if user is not None else None

        return await self.write(None, None, change)


def _family(session: Session, token_hash: str) -> WebSession | None:
    """The family ``token_hash`` belongs to, as its current or a retired token."""
    row = session.scalars(select(WebSession).where(WebSession.token_hash == token_hash)).first()
    if row is not None:
        return row
    retired = session.get(RetiredToken, token_hash)
    return session.get(WebSession, retired.session_id) if retired is not None else None


def _retired(work: UnitOfWork, presented: str, successor: str, now: datetime) -> Renewal | str:
    """A token that is not its family's current one: the other half of a
    race gets the successor already issued; anything else is a copy."""
    retired = work.session.get(RetiredToken, presented)
    if retired is None:
        return ENDED  # never issued, or its family has ended
    row = work.session.get(WebSession, retired.session_id)
    user = work.session.get(User, row.user_id)
    in_race = (
        row.previous_hash == presented and row.token_hash == security.hash_api_key(successor)
        and now - row.rotated_at <= RACE and row.expires_at > now
        and user is not None and user.is_active and user.token_version == row.token_version
    )
    if in_race:
        return Renewal(successor, UserOut.model_validate(user), user.token_version, row.id)
    log.warning("A used sign-in token of %s came back; ending that sign-in on every browser that has it",
                user.username if user is not None else "a deleted user")
    end_family(work, row)
    return ENDED
