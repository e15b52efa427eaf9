"""Settings from the environment and ``.env`` (see ``.env.example``).

The seed's names (``DATABASE_URL``, ``SECRET_KEY``, ``UDA_API_URL``) work as
written; everything else is prefixed ``STOCKY_`` so it cannot collide with a
generic ``HOST`` or ``PORT`` of the surrounding system.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_FILE_NAME = "secret_key"
MIN_SECRET_LENGTH = 32
OPEN_FOOD_FACTS_V2 = "https://world.openfoodfacts.org/api/v2/product"


def _alias(name: str) -> AliasChoices:
    return AliasChoices(name, f"STOCKY_{name}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STOCKY_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    data_dir: Path = Path("./data")
    database_url: str | None = Field(default=None, validation_alias=_alias("DATABASE_URL"))
    secret_key: str | None = Field(default=None, validation_alias=_alias("SECRET_KEY"))
    uda_api_url: str = Field(default=OPEN_FOOD_FACTS_V2, validation_alias=_alias("UDA_API_URL"))

    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    access_token_minutes: int = Field(default=12 * 60, ge=1)
    # StockyWeb: a short access token in the page's memory, renewed from a
    # refresh cookie that lasts this many days past the browser's last use.
    # Bounded: a lifetime past what a date can hold would fail every sign-in.
    web_access_minutes: int = Field(default=10, ge=1, le=24 * 60)
    web_session_days: int = Field(default=30, ge=1, le=3650)
    # HTTPS beside HTTP, with Stocky's own certificate (0 turns it off), or
    # with a certificate from elsewhere (both files set).
    https_port: int = Field(default=8443, ge=0, le=65535)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Announce "Stocky" on the local network (DNS-SD over mDNS), so phones
    # open https://<hostname>.local:8443/.
    mdns: bool = True
    # A client must finish its request headers within this many seconds, and
    # then its body within as many again, so connections that trickle in byte
    # by byte cannot pile up.
    http_header_timeout: float = Field(default=10.0, gt=0, le=3600)
    trust_forwarded_for: bool = False
    # Live connections (/ws): at most this many, and of those at most
    # ws_max_anonymous not signed in (one place at least stays for signed-in ones).
    ws_max_sockets: int = Field(default=128, ge=1, le=10_000)
    ws_max_anonymous: int = Field(default=32, ge=0, le=10_000)

    mqtt_url: str | None = None
    mqtt_topic: str = "stocky/scan"
    # With an id the broker keeps Stocky's session: scans sent while it
    # restarts wait for it.
    mqtt_client_id: str | None = None
    bridge_backend_url: str = "http://127.0.0.1:8000"

    hid_devices: str | None = None
    hid_name_pattern: str | None = None
    hid_vendor_product: str | None = None
    hid_key_timeout_ms: int = Field(default=100, ge=10, le=2000)

    kiosk_user: str | None = None

    # A dated lot gets a "use soon" alert this many days before its date.
    expiry_warn_days: int = Field(default=3, ge=0, le=365)

    @field_validator("secret_key")
    @classmethod
    def _secret_long_enough(cls, value: str | None) -> str | None:
        if not value:
            return None
        if len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @field_validator(
        "database_url", "mqtt_url", "mqtt_client_id", "hid_devices", "hid_name_pattern",
        "hid_vendor_product", "kiosk_user",
    )
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @property
    def resolved_database_url(self) -> str:
        # The driver Stocky uses (sqlite3, on threads of its own); the seed's
        # sqlite+aiosqlite:// still works and means the same file.
        return self.database_url or f"sqlite:///{self.data_dir / 'stocky.db'}"


def ensure_mqtt_client_id(settings: Settings, *, bridge: bool = False) -> str:
    """The configured MQTT client id, or one made once and kept in the data
    directory: with a stable id the broker keeps Stocky's subscription while
    either of them restarts, so no scan published meanwhile is dropped.

    ``stocky bridge`` keeps an id of its own (``bridge_mqtt_client_id``):
    sharing Stocky's would make the broker throw one of them off whenever the
    other connects."""
    if settings.mqtt_client_id and not bridge:
        return settings.mqtt_client_id
    path = settings.data_dir / ("bridge_mqtt_client_id" if bridge else "mqtt_client_id")
    if path.exists() and (kept := path.read_text(encoding="utf-8").strip()):
        return kept
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    made = f"stocky-{'bridge-' if bridge else ''}{secrets.token_hex(6)}"
    path.write_text(made + "\n", encoding="utf-8")
    return made


def ensure_secret_key(settings: Settings) -> str:
    """Return the configured key, or the one kept in the data directory.

    On first start a fresh key (48 random bytes) is written there with mode
    0600, so tokens stay valid across restarts and no key is ever built in.
    """
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / SECRET_FILE_NAME
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if len(key) >= MIN_SECRET_LENGTH:
            return key
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    os.chmod(path, 0o600)
    return key
