"""Long sign-ins for browsers: a rotating refresh token, stored hashed.

Each use of a refresh token replaces it. The token it replaced is still
honoured for ``REPLAY_GRACE`` after the swap, because a phone on a poor line
may never have received the answer that carried the new one (and two tabs may
ask at the same moment); presented later, it can only be a copy, so the whole
session ends. A new password, a deactivation or a deleted user ends every
session at once (the token version moves on, or the row cascades away).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select

from stocky.core import security
from stocky.core.errors import NotAuthenticated
from stocky.models import User, WebSession
from stocky.models.types import utcnow
from stocky.schemas.user import UserOut
from stocky.services.base import Service, UnitOfWork
from stocky.services.users import SignedIn

log = logging.getLogger("stocky.sessions")

REPLAY_GRACE = timedelta(seconds=60)
ENDED = "Your sign-in has ended; sign in again."


@dataclass(frozen=True)
class Renewal:
    """A refresh token, whose it is, and their token version as the same
    transaction saw it: an access token minted from a later read could
    outlive a password change made in between."""

    refresh_token: str
    user: UserOut
    token_version: int


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, security.hash_api_key(token)


class SessionService(Service):
    async def start(self, signed_in: SignedIn, days: int) -> Renewal:
        """A session for a person who has just proved their password, unless
        their tokens were ended since (a password change while it was checked)."""
        user = signed_in.user
        token, token_hash = _new_token()

        def change(work: UnitOfWork) -> Renewal:
            now = utcnow()
            stored = work.session.get(User, user.id)
            if stored is None or not stored.is_active or stored.token_version != signed_in.token_version:
                raise NotAuthenticated(ENDED)
            work.session.execute(delete(WebSession).where(WebSession.expires_at < now))
            work.session.add(WebSession(
                user_id=user.id, token_hash=token_hash, token_version=stored.token_version,
                created_at=now, rotated_at=now, expires_at=now + timedelta(days=days),
            ))
            return Renewal(token, user, stored.token_version)

        return await self.write(None, None, change)

    async def renew(self, token: str, days: int) -> Renewal:
        """The next refresh token and whose it is, or ``NotAuthenticated``."""
        presented = security.hash_api_key(token)
        fresh, fresh_hash = _new_token()

        def change(work: UnitOfWork) -> Renewal | str:
            now = utcnow()
            row = work.session.scalars(select(WebSession).where(
                or_(WebSession.token_hash == presented, WebSession.previous_hash == presented)
            )).first()
            if row is None:
                return ENDED
            user = work.session.get(User, row.user_id)
            replayed = row.token_hash != presented and now - row.rotated_at > REPLAY_GRACE
            if replayed:
                log.warning("A used sign-in token came back; ending that browser's session")
            if replayed or row.expires_at < now or user is None or not user.is_active \
                    or user.token_version != row.token_version:
                work.session.delete(row)
                return ENDED
            if row.token_hash == presented:
                row.previous_hash = presented
            row.token_hash = fresh_hash
            row.rotated_at = now
            row.expires_at = now + timedelta(days=days)
            return Renewal(fresh, UserOut.model_validate(user), user.token_version)

        outcome = await self.write(None, None, change)
        if isinstance(outcome, str):  # the row's removal is committed first
            raise NotAuthenticated(outcome)
        return outcome

    async def end(self, token: str) -> None:
        """Sign-out: the session is gone, whichever of its tokens was shown."""
        presented = security.hash_api_key(token)

        def change(work: UnitOfWork) -> None:
            work.session.execute(delete(WebSession).where(
                or_(WebSession.token_hash == presented, WebSession.previous_hash == presented)
            ))

        await self.write(None, None, change)
