"""Password hashing, API keys and access tokens.

bcrypt is slow on purpose: callers on the event loop run ``hash_password``
and ``verify_password`` in an executor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from urllib.parse import unquote, urlsplit, urlunsplit

import bcrypt
import jwt

from stocky.core.errors import InvalidInput, NotAuthenticated

BCRYPT_MAX_BYTES = 72
API_KEY_PREFIX_LENGTH = 8
TOKEN_ALGORITHM = "HS256"


@cache
def _dummy_hash() -> str:
    """A hash to check when a username does not exist, so a login for an
    unknown user takes as long as one with a wrong password."""
    return bcrypt.hashpw(b"stocky-timing-equaliser", bcrypt.gensalt()).decode("ascii")


def check_password_length(password: str, field: str = "password") -> None:
    """bcrypt ignores everything past 72 bytes; refuse rather than truncate."""
    if not password:
        raise InvalidInput(
            "The password must not be empty.",
            [{"field": field, "message": "must not be empty"}],
        )
    if len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        raise InvalidInput(
            f"The password is longer than {BCRYPT_MAX_BYTES} bytes.",
            [{"field": field, "message": f"at most {BCRYPT_MAX_BYTES} bytes"}],
        )


def hash_password(password: str) -> str:
    check_password_length(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-effort check; a missing hash still costs one bcrypt round."""
    encoded = password.encode("utf-8")
    if len(encoded) > BCRYPT_MAX_BYTES:
        return False
    target = password_hash or _dummy_hash()
    try:
        ok = bcrypt.checkpw(encoded, target.encode("ascii"))
    except ValueError:
        return False
    return ok and password_hash is not None


@dataclass(frozen=True)
class NewApiKey:
    key: str  # shown once, never stored
    key_hash: str
    prefix: str


def new_api_key() -> NewApiKey:
    key = "sk_" + secrets.token_urlsafe(32)
    return NewApiKey(key=key, key_hash=hash_api_key(key), prefix=key[:API_KEY_PREFIX_LENGTH])


# A key, or enough of one to matter (a scanner that dropped its last
# characters): the prefix and at least 8 of its characters, wherever it
# stands. No boundary before it: a scanner that sends its key glued to the
# scan ("...310sk_...", a GS1 batch field) leaves none, and hiding the tail
# of a rare word like "desk_drawer_left" costs nothing, leaking a key a lot.
API_KEY_SHAPE = re.compile(r"sk_[A-Za-z0-9_-]{8,}")
KEY_MASK = "sk_[hidden]"


def looks_like_api_key(text: str) -> bool:
    """A Stocky API key or a piece of one (e.g. its QR code scanned by
    mistake): never to be logged, stored as a barcode or sent to a product
    service."""
    return "sk_" in text and API_KEY_SHAPE.search(text) is not None


def mask_api_keys(text: str) -> str:
    """``text`` with every key, or piece of one, replaced by ``sk_[hidden]``."""
    return API_KEY_SHAPE.sub(KEY_MASK, text) if "sk_" in text else text


# Query parameters that carry a secret at the services Stocky talks to
# (product databases, notification services, Grocy): their values are hidden.
SECRET_PARAMS = frozenset({
    "api_key", "apikey", "key", "x-api-key", "token", "access_token", "auth",
    "password", "secret", "sig", "signature",
})
SECRET_MASK = "[hidden]"


def mask_url(url: str) -> str:
    """``url`` fit for a log line: no password (nor user name) before the
    host, no value of a secret-looking query parameter, no API key anywhere."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        netloc = f"{SECRET_MASK}@{host}" if "@" in parts.netloc else host
        query = "&".join(_mask_param(pair) for pair in parts.query.split("&")) if parts.query else ""
        url = urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:
        url = "(an address that cannot be read)"
    return mask_api_keys(url)


def _mask_param(pair: str) -> str:
    name, equals, _value = pair.partition("=")
    return f"{name}={SECRET_MASK}" if equals and unquote(name).lower() in SECRET_PARAMS else pair


def hash_api_key(key: str) -> str:
    """API keys carry 256 random bits, so a fast hash is enough to store them.
    Whatever a client sent is hashed, half a UTF-16 pair or an undecodable
    header byte too: it just matches no key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def api_key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), stored_hash)


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    token_version: int
    expires_at: datetime
    # The browser sign-in a token was minted for: signing that browser out
    # ends the token too, not only its refresh cookie.
    session_id: uuid.UUID | None = None


def create_access_token(
    secret: str,
    user_id: uuid.UUID,
    token_version: int,
    lifetime: timedelta,
    session_id: uuid.UUID | None = None,
) -> str:
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "ver": token_version,
        "iat": now,
        "exp": now + lifetime,
    }
    if session_id is not None:
        payload["sid"] = str(session_id)
    return jwt.encode(payload, secret, algorithm=TOKEN_ALGORITHM)


def decode_access_token(secret: str, token: str) -> TokenClaims:
    """Verify strictly: HS256 only, ``exp``, ``iat`` and ``sub`` required."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[TOKEN_ALGORITHM],
            options={"require": ["exp", "iat", "sub"]},
        )
        sid = payload.get("sid")
        return TokenClaims(
            user_id=uuid.UUID(payload["sub"]),
            token_version=int(payload["ver"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            session_id=uuid.UUID(sid) if sid is not None else None,
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise NotAuthenticated("The sign-in token is invalid or has expired.") from exc


def successor_token(secret: str, token: str) -> str:
    """The refresh token that follows ``token``: the same for everyone who
    shows ``token``, so two tabs refreshing at once end up with one session,
    and nobody without Stocky's secret can work it out."""
    digest = hmac.new(secret.encode(), b"refresh:" + token.encode("utf-8", "surrogatepass"), "sha256")
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")
