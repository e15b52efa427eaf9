"""A throwaway PostgreSQL server for one test session.

``PgServer.start()`` runs ``initdb`` in a fresh temporary directory and starts
``postgres`` on 127.0.0.1 (a free port, plus a unix socket in that directory),
with durability off (``fsync``, ``synchronous_commit``, ``full_page_writes``):
nothing in it has to survive a crash, and tests are what it is for.
``stop()`` ends the server and removes the directory.

Databases: ``create_database`` makes an empty one, or a copy of a template
(``CREATE DATABASE ... TEMPLATE``, a tenth of a second or more). Far cheaper
between tests: ``snapshot`` keeps a copy of a database's rows beside them,
and ``restore`` (a few milliseconds) puts exactly those rows back.

PostgreSQL refuses to run as root, so as root every server command runs as
the ``postgres`` system user (``runuser``), in a directory that user owns.

Stocky connects as ``stocky``, an ordinary role that owns its database, as
on a real installation; only the admin commands here use the superuser. The
cluster uses the ``C`` locale: byte order and ASCII-only ``lower()``, like
SQLite, on any machine whatever locales it has.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

SERVER_USER = "postgres"  # the system user that runs the server when we are root
SUPERUSER = "postgres"
APP_ROLE = "stocky"
NEEDED = ("initdb", "pg_ctl", "postgres")
SEARCH_GLOB = "/usr/lib/postgresql/*/bin"

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "'32MB'",
    "log_min_messages": "warning",
    "log_line_prefix": "'%m [%p] %d '",
}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries here (or no user to run them as)."""


def _complete(directory: Path) -> bool:
    return all((directory / name).is_file() and os.access(directory / name, os.X_OK) for name in NEEDED)


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres: the one of
    ``pg_ctl`` on PATH (symlinks followed: Debian keeps the real binaries in
    /usr/lib/postgresql/N/bin), else the newest /usr/lib/postgresql/*/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        for candidate in (Path(on_path).parent, Path(on_path).resolve().parent):
            if _complete(candidate):
                return candidate
    versions = []
    for candidate in Path("/").glob(SEARCH_GLOB.lstrip("/")):
        match = re.search(r"/postgresql/(\d+)(?:\.(\d+))?/bin$", str(candidate))
        if match and _complete(candidate):
            versions.append(((int(match[1]), int(match[2] or 0)), candidate))
    return max(versions)[1] if versions else None


class _Admin:
    """Superuser connections (asyncpg) on an event loop of their own thread,
    so fixtures of any kind can use them: a kept connection makes a restore
    about 2 ms, where starting psql for it costs 20 to 40."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections: dict[str, asyncpg.Connection] = {}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="pg-admin", daemon=True)
        self.thread.start()

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(120)

    async def execute(self, statement: str, database: str, keep: bool) -> str:
        connection = self.connections.pop(database, None)
        if connection is None or connection.is_closed():
            connection = await asyncpg.connect(
                host="127.0.0.1", port=self.port, user=SUPERUSER, database=database
            )
        try:
            return await connection.execute(statement)
        finally:
            if keep:
                self.connections[database] = connection
            else:
                await connection.close()

    async def forget(self, database: str) -> None:
        if (connection := self.connections.pop(database, None)) is not None:
            connection.terminate()

    async def _close_all(self) -> None:
        for connection in self.connections.values():
            connection.terminate()
        self.connections.clear()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.run(self._close_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.base: Path | None = None
        self.port: int | None = None
        self._started = False
        self._counter = 0
        self._admin: _Admin | None = None

    # -- paths and commands ------------------------------------------------
    @property
    def data_dir(self) -> Path:
        assert self.base is not None
        return self.base / "data"

    @property
    def log_file(self) -> Path:
        assert self.base is not None
        return self.base / "server.log"

    def _server_command(self, *args: str) -> list[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        return ["runuser", "-u", SERVER_USER, "--", *command] if self.as_root else command

    def _run_server_command(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            self._server_command(*args),
            cwd=self.base,  # the server user may not be able to read ours
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args[:1])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
                f"\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return "server log:\n" + "\n".join(text.splitlines()[-lines:])

    # -- life cycle ----------------------------------------------------------
    def start(self) -> PgServer:
        owner = None
        if self.as_root:
            if shutil.which("runuser") is None:
                raise PostgresUnavailable("running as root needs runuser (util-linux) to start PostgreSQL")
            try:
                owner = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root needs a {SERVER_USER!r} system user to run PostgreSQL as"
                ) from None
        # Short and world-traversable (/tmp): the socket path has a ~100 byte limit.
        self.base = Path(tempfile.mkdtemp(prefix="stocky-pg-", dir="/tmp" if Path("/tmp").is_dir() else None))
        if owner is not None:
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
        atexit.register(self.stop)  # should the session end without its fixture teardown
        try:
            self._run_server_command(
                "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust",
                "--encoding=UTF8", "--locale=C", "--no-sync",
            )
            self._start_on_a_free_port()
            self._admin = _Admin(self.port)
            self.sql(f"CREATE ROLE {APP_ROLE} LOGIN")
        except BaseException:
            self.stop()
            raise
        return self

    def _start_on_a_free_port(self) -> None:
        config = self.data_dir / "postgresql.conf"
        original = config.read_text()
        for attempt in range(5):
            self.port = _free_port()
            settings = {**SERVER_SETTINGS, "port": str(self.port), "unix_socket_directories": f"'{self.base}'"}
            config.write_text(original + "\n# stocky tests\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
            try:
                self._run_server_command(
                    "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir), "-l", str(self.log_file)
                )
            except RuntimeError:
                # Someone took the port between our probe and the bind: try another.
                if attempt < 4 and "could not bind" in self.log_tail(100).lower():
                    continue
                raise
            self._started = True
            return

    def halt(self) -> None:
        """Stop the server as an outage would, keeping its data: ``resume``
        starts it again on the same port."""
        assert self._started and self._admin is not None, "the server is not running"
        self._admin.close()
        self._admin = None
        # Fast, not immediate: with fsync off, an immediate stop loses
        # commits; clients see the same either way (dropped, then refused).
        self._run_server_command(
            "pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", timeout=60
        )

    def resume(self) -> None:
        self._run_server_command(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir), "-l", str(self.log_file)
        )
        self._admin = _Admin(self.port)

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._started:
            self._started = False
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run_server_command(
                    "pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w", timeout=60
                )
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    # -- databases -------------------------------------------------------------
    def sql(self, statement: str, database: str = "postgres", *, keep: bool = True) -> str:
        """Run ``statement`` (one or more, no parameters) as the superuser in
        ``database``; returns the status of the last one. The connection is
        kept for next time unless ``keep`` is false: a template must have
        none when it is copied."""
        assert self._admin is not None, "the server is not running"
        return self._admin.run(self._admin.execute(statement, database, keep))

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{APP_ROLE}@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str | None = None, name: str | None = None) -> str:
        """A new database owned by the app role (a copy of ``template`` if
        given); returns its name."""
        self._counter += 1
        name = name or f"test_{self._counter}_{uuid.uuid4().hex[:8]}"
        source = f" TEMPLATE {template}" if template else " TEMPLATE template0"
        # Retry: a template someone just disconnected from can still count as in use for a moment.
        for attempt in range(50):
            try:
                self.sql(f"CREATE DATABASE {name} OWNER {APP_ROLE}{source}")
                return name
            except asyncpg.ObjectInUseError:
                if attempt == 49:
                    raise
                time.sleep(0.1)
        raise AssertionError("unreachable")

    def drop_database(self, name: str) -> None:
        assert self._admin is not None, "the server is not running"
        self._admin.run(self._admin.forget(name))
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def snapshot(self, database: str) -> None:
        """Keep a copy of every table of ``database`` (schema ``public``) in
        the schema ``test_snapshot``, for ``restore``. Databases made from
        ``database`` as a template inherit the copy."""
        self.sql(_SNAPSHOT_SQL, database, keep=False)

    def restore(self, database: str) -> None:
        """Put back what ``database`` held at its ``snapshot``: every other
        session ended, then every table emptied and refilled, in one
        transaction. Much cheaper than a new database per test."""
        self.sql(_RESTORE_SQL, database)


_SNAPSHOT = "test_snapshot"

_SNAPSHOT_SQL = f"""
DROP SCHEMA IF EXISTS {_SNAPSHOT} CASCADE;
CREATE SCHEMA {_SNAPSHOT};
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('CREATE TABLE {_SNAPSHOT}.%I AS TABLE public.%I', t, t);
  END LOOP;
END $$;
"""

# Foreign keys are not checked while the rows go back in (replica role):
# they were consistent when the snapshot was taken.
_RESTORE_SQL = f"""
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid();
BEGIN;
SET LOCAL session_replication_role = replica;
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = '{_SNAPSHOT}' LOOP
    EXECUTE format('DELETE FROM public.%I', t);
  END LOOP;
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = '{_SNAPSHOT}' LOOP
    EXECUTE format('INSERT INTO public.%I SELECT * FROM {_SNAPSHOT}.%I', t, t);
  END LOOP;
END $$;
COMMIT;
"""


def start_server() -> PgServer:
    """A running server, or ``PostgresUnavailable`` saying why there is none."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            f"PostgreSQL binaries ({', '.join(NEEDED)}) not found on PATH or in {SEARCH_GLOB}; "
            "install PostgreSQL (Debian: apt-get install postgresql) to run the PostgreSQL cases"
        )
    return PgServer(bindir).start()
