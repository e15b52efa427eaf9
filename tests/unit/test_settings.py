"""Settings: the secret key kept in the data directory, and the seed's
environment names."""

from __future__ import annotations

import base64
import stat

import pytest
from pydantic import ValidationError

from stocky.core.settings import OPEN_FOOD_FACTS_V2, Settings, ensure_secret_key


def decoded_length(key: str) -> int:
    """How many random bytes a URL-safe base64 key carries."""
    return len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))


def test_without_secret_key_one_is_generated_and_kept(clean_env, tmp_path):
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)
    assert settings.secret_key is None

    key = ensure_secret_key(settings)

    path = data_dir / "secret_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert decoded_length(key) >= 32
    assert len(set(key)) > 16  # not a repeated character
    # The next start reads the same key back.
    assert ensure_secret_key(Settings(data_dir=data_dir)) == key


def test_every_installation_gets_its_own_key(clean_env, tmp_path):
    first = ensure_secret_key(Settings(data_dir=tmp_path / "one"))
    second = ensure_secret_key(Settings(data_dir=tmp_path / "two"))

    assert first != second


def test_a_short_or_empty_key_file_is_replaced(clean_env, tmp_path):
    (tmp_path / "secret_key").write_text("short\n")

    key = ensure_secret_key(Settings(data_dir=tmp_path))

    assert decoded_length(key) >= 32
    assert (tmp_path / "secret_key").read_text().strip() == key


def test_a_configured_secret_key_is_used_and_nothing_is_written(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "k" * 32)

    settings = Settings(data_dir=tmp_path)

    assert ensure_secret_key(settings) == "k" * 32
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("name", ["SECRET_KEY", "STOCKY_SECRET_KEY"])
def test_a_secret_key_shorter_than_32_characters_is_refused(clean_env, monkeypatch, name):
    monkeypatch.setenv(name, "x" * 31)

    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings()


def test_seed_environment_names_work(clean_env, monkeypatch, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("UDA_API_URL", "https://lookup.example/api/{upc}")

    settings = Settings(data_dir=tmp_path)

    assert settings.database_url == url
    assert settings.resolved_database_url == url
    assert settings.uda_api_url == "https://lookup.example/api/{upc}"


def test_defaults_without_environment(clean_env, tmp_path):
    settings = Settings(data_dir=tmp_path)

    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'stocky.db'}"
    assert settings.uda_api_url == OPEN_FOOD_FACTS_V2
    assert settings.port == 8000


def test_the_socket_caps_come_from_the_environment(clean_env, monkeypatch, tmp_path):
    assert (Settings(data_dir=tmp_path).ws_max_sockets, Settings(data_dir=tmp_path).ws_max_anonymous) == (
        128, 32
    )
    monkeypatch.setenv("STOCKY_WS_MAX_SOCKETS", "10")
    monkeypatch.setenv("STOCKY_WS_MAX_ANONYMOUS", "0")
    settings = Settings(data_dir=tmp_path)
    assert (settings.ws_max_sockets, settings.ws_max_anonymous) == (10, 0)


def test_dotenv_in_the_working_directory_is_read(clean_env, tmp_path):
    # clean_env made tmp_path the working directory.
    (tmp_path / ".env").write_text("UDA_API_URL=https://from-dotenv.example/{upc}\n")

    assert Settings(data_dir=tmp_path).uda_api_url == "https://from-dotenv.example/{upc}"


def test_a_blank_secret_key_counts_as_unset(clean_env, monkeypatch, tmp_path):
    # .env.example ships "SECRET_KEY=" empty: that must mean "generate one".
    monkeypatch.setenv("SECRET_KEY", "")

    key = ensure_secret_key(Settings(data_dir=tmp_path))

    assert decoded_length(key) >= 32
    assert (tmp_path / "secret_key").read_text().strip() == key


@pytest.mark.parametrize(("name", "value"), [("STOCKY_WEB_SESSION_DAYS", "100000000"),
                                             ("STOCKY_WEB_ACCESS_MINUTES", "10000000000000")])
def test_a_browser_sign_in_longer_than_a_date_can_hold_is_refused_at_start(clean_env, monkeypatch, tmp_path, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="less than or equal"):
        Settings(data_dir=tmp_path)
