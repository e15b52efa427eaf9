"""Stocky refuses to start on storage it must not run on: one paragraph of
advice, a non-zero exit and no traceback (DESIGN.md section 14). A port
another program holds is refused the same way, in one sentence.

Each case breaks a real database file the way disks and people break them
and runs the real command (``python -m stocky serve`` or ``db upgrade``), as
systemd would.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support.env import TEST_ENV
from tmpfs import small_disk

from stocky.cli import main
from stocky.core.errors import StorageRefused
from stocky.core.settings import Settings
from stocky.db import guard
from stocky.db.backup import backup
from stocky.schemas.actor import SYSTEM
from stocky.services.container import open_services

ADVICE_RESTORE = "stocky restore FILE"
_FOREIGN_ENV = ("DATABASE_URL", "SECRET_KEY", "UDA_API_URL")
# Root ignores file modes; without these two capabilities it obeys them, as
# the appliance's own user does.
AS_PLAIN_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
                 "--inh-caps=-dac_override,-dac_read_search"]


def run_stocky(data_dir: Path, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """``stocky ARGS`` as a process of its own (as systemd runs it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKY_") and k not in _FOREIGN_ENV}
    env.update(TEST_ENV, STOCKY_DATA_DIR=str(data_dir), STOCKY_HID_DEVICES=str(data_dir / "no-such-scanner-*"),
               UDA_API_URL="http://127.0.0.1:9/{upc}")
    return subprocess.run(
        [*prefix, sys.executable, "-m", "stocky", *args], env=env, cwd=data_dir.parent,
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )


def refused_said(code: int, said: str) -> str:
    assert code != 0, said
    assert "Traceback" not in said, said
    assert said.startswith("stocky: "), said
    return said


def refused(data_dir: Path, *args: str, prefix: tuple[str, ...] = ()) -> str:
    """``stocky ARGS`` (default: serve) in a process of its own must refuse
    with advice; returns what it said."""
    args = args or ("serve", "--host", "127.0.0.1", "--port", "0")
    done = run_stocky(data_dir, *args, prefix=prefix)
    return refused_said(done.returncode, done.stderr + done.stdout)


@pytest.fixture
def stocky(clean_env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """``stocky ARGS`` in this process (the same code, without a second
    interpreter's start): returns the exit code and what it printed."""

    def run(data_dir: Path, *args: str) -> tuple[int, str]:
        monkeypatch.setenv("STOCKY_DATA_DIR", str(data_dir))
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code
        printed = capsys.readouterr()
        return code, printed.err + printed.out

    return run


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with a migrated database (holding one location) and its marker."""
    data = tmp_path_factory.mktemp("template") / "data"
    settings = Settings(_env_file=None, data_dir=data)

    async def fill() -> None:
        await guard.upgrade(settings)  # as `stocky db upgrade` does: leaves the marker
        async with open_services(settings) as services:
            await services.locations.create({"name": "Pantry"}, SYSTEM)

    asyncio.run(fill())
    with sqlite3.connect(data / "stocky.db") as db:
        db.execute("PRAGMA journal_mode=DELETE")  # one file to copy and break
    return data


@pytest.fixture
def data(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(template, copy)
    return copy


def test_a_healthy_database_upgrades_and_keeps_its_marker(data: Path, stocky):
    code, said = stocky(data, "db", "upgrade")
    assert code == 0, said
    assert (data / guard.MARKER_NAME).exists()


def test_truncated_database_is_refused_with_restore_advice(data: Path, stocky):
    db = data / "stocky.db"
    os.truncate(db, db.stat().st_size // 2)
    said = refused_said(*stocky(data, "db", "upgrade"))
    assert "damaged" in said and ADVICE_RESTORE in said


def test_zeroed_header_is_not_a_database(data: Path):
    with open(data / "stocky.db", "r+b") as handle:
        handle.write(bytes(100))
    said = refused(data)  # the real `stocky serve`, as systemd starts it
    assert "is not a database" in said and ADVICE_RESTORE in said


def test_damaged_page_is_found_by_the_quick_check(data: Path, stocky):
    db = data / "stocky.db"
    with open(db, "r+b") as handle:
        handle.seek(db.stat().st_size // 2)
        handle.write(os.urandom(8192))
    said = refused_said(*stocky(data, "db", "upgrade"))
    assert "damaged" in said and ADVICE_RESTORE in said


def test_database_of_a_newer_stocky_is_refused(data: Path, stocky):
    with sqlite3.connect(data / "stocky.db") as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffffeeee0001'")
    said = refused_said(*stocky(data, "db", "upgrade"))
    assert "newer Stocky" in said and "Upgrade Stocky" in said and "stocky restore" in said


@pytest.fixture
def as_plain_user() -> tuple[str, ...]:
    """A command prefix under which file modes bind, even for root."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to run without root's override of file modes")
    tried = subprocess.run([*AS_PLAIN_USER, "true"], capture_output=True, text=True)
    if tried.returncode != 0:
        pytest.skip(f"cannot drop capabilities here: {tried.stderr.strip()}")
    return tuple(AS_PLAIN_USER)


def test_read_only_database_file_is_refused_not_answered_with_500s(data: Path, as_plain_user):
    (data / "stocky.db").chmod(0o444)
    prefix = as_plain_user
    said = refused(data, prefix=prefix)
    assert "is read-only for the user Stocky runs as" in said and "chmod u+w" in said
    (data / "stocky.db").chmod(0o644)
    assert run_stocky(data, "db", "upgrade", prefix=prefix).returncode == 0


@pytest.fixture
def read_only_mount(tmp_path: Path):
    """A tmpfs mounted at ``tmp_path / 'ro'``; the test remounts it read-only."""
    with small_disk(tmp_path / "ro", "8m") as mount:
        yield mount


def test_read_only_file_system_is_named_as_such(data: Path, read_only_mount: Path, stocky):
    moved = read_only_mount / "data"
    shutil.copytree(data, moved)
    subprocess.run(["mount", "-o", "remount,ro", str(read_only_mount)], check=True)
    said = refused_said(*stocky(moved, "db", "upgrade"))
    assert "read-only file system" in said and "mount it read-write" in said


def test_deleted_database_is_not_replaced_by_an_empty_kitchen(data: Path, tmp_path: Path, stocky):
    kept = tmp_path / "backup.db"
    backup(f"sqlite:///{data / 'stocky.db'}", kept)
    (data / "stocky.db").unlink()
    said = refused(data)  # the real `stocky serve`
    assert "Stocky will not start an empty kitchen" in said and ADVICE_RESTORE in said
    assert str(data / guard.MARKER_NAME) in said
    # Nor does a command that opens the database make an empty one.
    said = refused_said(*stocky(data, "user", "add", "door", "--role", "Scanner"))
    assert "Stocky will not start an empty kitchen" in said
    assert not (data / "stocky.db").exists()

    # The advice works: restore the backup and Stocky runs on it.
    assert stocky(data, "restore", str(kept))[0] == 0
    assert stocky(data, "db", "upgrade")[0] == 0
    with sqlite3.connect(data / "stocky.db") as db:
        assert db.execute("SELECT count(*) FROM location").fetchone() == (1,)


def test_emptied_database_is_refused_and_removing_the_marker_starts_afresh(data: Path, stocky):
    (data / "stocky.db").write_bytes(b"")
    said = refused_said(*stocky(data, "db", "upgrade"))
    assert "is an empty file" in said
    (data / guard.MARKER_NAME).unlink()  # the documented way to start over on purpose
    assert stocky(data, "db", "upgrade")[0] == 0


def test_a_database_from_before_the_marker_is_adopted(data: Path, stocky):
    (data / guard.MARKER_NAME).unlink()
    assert stocky(data, "db", "upgrade")[0] == 0
    assert (data / guard.MARKER_NAME).exists()
    (data / "stocky.db").unlink()
    assert "Stocky will not start an empty kitchen" in refused_said(*stocky(data, "db", "upgrade"))


# -- not the storage, refused the same way: a port another program holds -------------


def test_a_port_in_use_is_one_sentence_and_exit_1(data: Path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = run_stocky(data, "serve", "--host", "127.0.0.1", "--port", str(port))
    said = done.stderr + done.stdout
    assert done.returncode == 1, said
    assert "Traceback" not in said, said
    assert f"stocky: Port {port} is in use by another program; choose another with --port" in said, said
    assert said.count("stocky: ") == 1, said  # the refusal, nothing after it


# -- PostgreSQL: no file to look at, but the same two questions ---------------------


@pytest.mark.postgresql
def test_postgresql_emptied_or_newer_database_is_refused(pg_server, pg_migrated, tmp_path: Path):
    name = pg_server.create_database(template=pg_migrated)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=pg_server.url(name))
    try:
        asyncio.run(guard.upgrade(settings))  # leaves the marker naming this database
        pg_server.sql("UPDATE alembic_version SET version_num = 'ffffeeee0001'", name)
        with pytest.raises(StorageRefused, match="made by a newer Stocky"):
            asyncio.run(guard.upgrade(settings))
        pg_server.sql("DROP TABLE alembic_version", name)
        with pytest.raises(StorageRefused, match="Stocky will not start an empty kitchen"):
            asyncio.run(guard.upgrade(settings))
    finally:
        pg_server.drop_database(name)
    with pytest.raises(StorageRefused, match="Stocky cannot reach its database"):
        asyncio.run(guard.upgrade(settings))  # the database is gone altogether
