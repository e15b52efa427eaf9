"""A throwaway PostgreSQL server for one test session.

``PgServer.start()`` runs ``initdb`` in a fresh temporary directory and starts
``postgres`` on 127.0.0.1 (a free port, plus a unix socket in that directory),
with durability off (``fsync``, ``synchronous_commit``, ``full_page_writes``):
nothing in it has to survive a crash, and tests are what it is for.
``stop()`` ends the server and removes the directory.

Databases: ``create_database`` makes an empty one, or a copy of a template
(``CREATE DATABASE ... TEMPLATE``, a tenth of a second or more). Cheaper
still between tests: ``snapshot`` keeps a copy of a database's rows beside
them, and ``restore`` (about 20 ms) puts exactly those rows back.

PostgreSQL refuses to run as root, so as root every server command runs as
the ``postgres`` system user (``runuser``), in a directory that user owns.

Stocky connects as ``stocky``, an ordinary role that owns its database, as
on a real installation; only the admin commands here use the superuser. The
cluster uses the ``C`` locale: byte order and ASCII-only ``lower()``, like
SQLite, on any machine whatever locales it has.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

SERVER_USER = "postgres"  # the system user that runs the server when we are root
SUPERUSER = "postgres"
APP_ROLE = "stocky"
NEEDED = ("initdb", "pg_ctl", "postgres", "psql")
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
    """The directory holding initdb, pg_ctl, postgres and psql: the one of
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

    def stop(self) -> None:
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
    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run ``statement`` as the superuser; returns what psql printed."""
        result = subprocess.run(
            [
                str(self.bindir / "psql"), "-X", "-q", "-w", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", database, "-c", statement,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {statement}\n{result.stderr}\n{self.log_tail()}")
        return result.stdout

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
            except RuntimeError as error:
                if "is being accessed by other users" not in str(error) or attempt == 49:
                    raise
                time.sleep(0.1)
        raise AssertionError("unreachable")

    def drop_database(self, name: str) -> None:
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def snapshot(self, database: str) -> None:
        """Keep a copy of every table of ``database`` (schema ``public``) in
        the schema ``test_snapshot``, for ``restore``. Databases made from
        ``database`` as a template inherit the copy."""
        self.sql(_SNAPSHOT_SQL, database)

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
