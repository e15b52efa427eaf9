"""A real mosquitto broker for the integration tests, on a free loopback port.

Each broker gets its own config, password file and log in a temporary
directory, never the system's ``/etc/mosquitto``. ``stop()`` and ``start()``
may be called again and again: the port stays the same, as it does when a
real broker restarts.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Self

import pytest

_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin"]
)
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def find_mosquitto() -> str | None:
    return shutil.which("mosquitto", path=_SEARCH_PATH)


def require_mosquitto() -> str:
    """The broker binary; skips the test without it, except in CI where it must be there."""
    return _require("mosquitto")


def _require(program: str) -> str:
    found = shutil.which(program, path=_SEARCH_PATH)
    if found is None:
        reason = f"{program} is not installed (Debian/Ubuntu: apt-get install mosquitto)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must provide it", pytrace=False)
        pytest.skip(reason)
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mosquitto:
    def __init__(
        self,
        binary: str,
        directory: Path,
        *,
        port: int | None = None,
        users: dict[str, str] | None = None,
    ) -> None:
        self.binary = binary
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.users = users or {}
        self.log_path = directory / "mosquitto.log"
        self.config_path = directory / "mosquitto.conf"
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def url_for(self, username: str) -> str:
        return f"mqtt://{username}:{self.users[username]}@127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _write_config(self) -> None:
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            # Run as whoever runs the tests (root stays root), so the files
            # in the temporary directory stay readable.
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
        ]
        if self.users:
            password_file = self.directory / "passwords"
            password_file.write_text("")
            for name, password in self.users.items():
                subprocess.run(
                    [_require("mosquitto_passwd"), "-b", str(password_file), name, password],
                    check=True,
                    capture_output=True,
                    timeout=10,
                )
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            lines.append("allow_anonymous true")
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        if self.running:
            return
        deadline = time.monotonic() + START_TIMEOUT
        self._spawn()
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                # It exits when the port is not free yet (the previous run just
                # let go of it): try again until the deadline.
                time.sleep(0.1)
                self._spawn()
                continue
            if self._accepts_connections():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not start on port {self.port}:\n{self.log()}")

    def _spawn(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [self.binary, "-c", str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def _accepts_connections(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
            return True
        return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
