"""The unit tests' services run on SQLite and again on PostgreSQL:
``database_url`` (tests/conftest.py) is None on SQLite, the default file in
``tmp_path``."""

from __future__ import annotations

import pytest

from stocky.core.settings import Settings


@pytest.fixture
def settings(clean_env, tmp_path, database_url: str | None) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, database_url=database_url)
