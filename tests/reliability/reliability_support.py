"""Helpers for the reliability suite (imported explicitly by its modules).

``StockyProcess`` runs the real ``python -m stocky serve`` in a temporary data
directory on a loopback port, so a test can load it, ``kill -9`` it, send it
SIGTERM and count its file descriptors, exactly as systemd would see it.
``Kitchen`` sets a running Stocky up through its public doors only (the CLI
and the REST API). ``read_db`` opens the SQLite file read-only: the database
is the ground truth a test compares acknowledgements against.

Every wait here has a deadline; nothing may hang the suite.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from support.env import TEST_ENV
from support.kitchens import OFFLINE_LOOKUP

from stocky.core.settings import Settings
from stocky.runtime import Runtime

API = "/api/v1"
SCAN = f"{API}/scanner/scan"
# Settings of the machine running the tests that must not leak into Stocky.
_FOREIGN_ENV = ("DATABASE_URL", "SECRET_KEY", "UDA_API_URL")
START_TIMEOUT = 30.0
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10)


def clean_environment(**extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("STOCKY_") and name not in _FOREIGN_ENV
    }
    env.update(TEST_ENV)
    env.update(extra)
    return env


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: ``fraction`` 0.95 of 20 values is the 19th."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


# -- the stocky serve process ------------------------------------------------


class StockyProcess:
    """``python -m stocky serve --host 127.0.0.1 --port P`` over ``data_dir``."""

    def __init__(self, data_dir: Path, port: int, **env: str) -> None:
        self.data_dir = data_dir
        self.port = port
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.env = clean_environment(**{
            "STOCKY_DATA_DIR": str(data_dir),
            "UDA_API_URL": OFFLINE_LOOKUP,
            "STOCKY_LOG_LEVEL": "WARNING",
            # A glob that matches nothing: never read a USB device of the test machine.
            "STOCKY_HID_DEVICES": str(data_dir / "no-such-scanner-*"),
            "PYTHONUNBUFFERED": "1",
            **env,  # a test may change any of these
        })
        self.log_path = data_dir.parent / f"{data_dir.name}-serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.max_descriptors: int | None = None  # RLIMIT_NOFILE of the process, if lowered

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "stocky.db"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run ``python -m stocky ARGS`` against the same data directory."""
        done = subprocess.run(
            [sys.executable, "-m", "stocky", *args],
            env=self.env,
            cwd=self.data_dir.parent,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"stocky {' '.join(args)} failed ({done.returncode}):\n{done.stderr}"
            )
        return done.stdout

    def start(self) -> None:
        assert not self.running
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {self.starts} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "stocky",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                env=self.env,
                cwd=self.data_dir.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=self._limits if self.max_descriptors else None,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"stocky serve exited with {self.process.returncode}:\n{self.log()}"
                )
            if _health_ok(self.port):
                return
            time.sleep(0.05)
        self.kill()
        raise AssertionError(
            f"stocky serve did not answer /health within {START_TIMEOUT} s:\n{self.log()}"
        )

    def _limits(self) -> None:
        # In the child, before exec: as systemd's LimitNOFILE= would set it.
        limit = self.max_descriptors
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    def kill(self) -> None:
        """``kill -9``: no cleanup, no flush, nothing."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def terminate(self, timeout: float = 15.0) -> tuple[int, float]:
        """SIGTERM, as systemd stops it; returns the exit code and the seconds it took."""
        assert self.process is not None and self.running
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"stocky serve ignored SIGTERM for {timeout} s:\n{self.log()}"
            ) from None
        return code, time.monotonic() - began

    def stop(self) -> None:
        if self.running:
            with contextlib.suppress(AssertionError):
                self.terminate()

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_bytes(self) -> int:
        return proc_rss_bytes(self.pid)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-8000:]
        except OSError:
            return ""


def proc_rss_bytes(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _health_ok(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def create_admin(stocky: StockyProcess, username: str, password: str) -> None:
    out = stocky.cli(
        "create-admin", "--username", username, "--password-stdin", stdin=password + "\n"
    )
    assert f"Created Admin {username}" in out, out


def add_scanner_with_cli(stocky: StockyProcess, name: str) -> str:
    """``stocky user add NAME --role Scanner``; returns the key it prints once."""
    out = stocky.cli("user", "add", name, "--role", "Scanner")
    found = re.search(r"API key \(shown only now\): (\S+)", out)
    assert found, out
    return found.group(1)


# -- talking to a running Stocky ---------------------------------------------


@dataclass
class Answer:
    status: int
    body: Any

    def __repr__(self) -> str:
        return f"<Answer {self.status} {str(self.body)[:300]}>"


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    data: bytes | None = None,
) -> Answer:
    kwargs: dict[str, Any] = {"headers": dict(headers or {})}
    if json_body is not None:
        kwargs["json"] = json_body
    elif data is not None:
        kwargs["data"] = data
        kwargs["headers"].setdefault("Content-Type", "application/json")
    async with session.request(method, url, timeout=HTTP_TIMEOUT, **kwargs) as response:
        raw = await response.read()
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw
    return Answer(response.status, body)


@dataclass
class Kitchen:
    """A running Stocky set up through the API: an Admin token, locations,
    scanners (name -> key, id)."""

    base: str
    session: aiohttp.ClientSession
    token: str = ""
    locations: dict[str, str] = field(default_factory=dict)
    scanner_keys: dict[str, str] = field(default_factory=dict)
    scanner_ids: dict[str, str] = field(default_factory=dict)

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def login(self, username: str, password: str) -> None:
        answer = await call(
            self.session,
            "POST",
            f"{self.base}{API}/auth/login",
            json_body={"username": username, "password": password},
        )
        assert answer.status == 200, answer
        self.token = answer.body["access_token"]

    async def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        headers = {**self.admin, **kwargs.pop("headers", {})}
        return await call(
            self.session, method, f"{self.base}{API}{path}", headers=headers, **kwargs
        )

    async def ok(self, method: str, path: str, expected: int = 200, **kwargs: Any) -> Any:
        answer = await self.request(method, path, **kwargs)
        assert answer.status == expected, (method, path, answer)
        return answer.body

    async def new_location(self, name: str, storage_type: str | None = None) -> str:
        body = await self.ok(
            "POST", "/location", 201, json_body={"name": name, "storage_type": storage_type}
        )
        self.locations[name] = body["id"]
        return body["id"]

    async def new_scanner(self, name: str) -> str:
        body = await self.ok("POST", "/user", 201, json_body={"username": name, "role": "Scanner"})
        self.scanner_keys[name] = body["api_key"]
        self.scanner_ids[name] = body["id"]
        return body["api_key"]

    async def new_item(self, name: str, upc: str | None = None, **fields: Any) -> str:
        body = await self.ok("POST", "/item", 201, json_body={"name": name, "upc": upc, **fields})
        return body["id"]

    async def scan(self, key: str, msg: str, scan_id: str | None = None) -> Answer:
        body: dict[str, Any] = {"msg": msg}
        if scan_id is not None:
            body["scan_id"] = scan_id
        return await call(
            self.session, "POST", f"{self.base}{SCAN}", headers={"X-API-Key": key}, json_body=body
        )

    async def set_location(self, key: str, location: str) -> None:
        card = json.dumps({"command": "set_location", "payload": self.locations[location]})
        answer = await self.scan(key, card)
        assert answer.status == 200 and answer.body["result"] == "location", answer

    async def item(self, item_id: str) -> dict[str, Any]:
        return await self.ok("GET", f"/item/{item_id}")


# -- the database file, read-only --------------------------------------------


@contextmanager
def read_db(path: Path) -> Iterator[sqlite3.Connection]:
    """The SQLite file opened read-only (WAL readers do not block Stocky)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        yield connection
    finally:
        connection.close()


def integrity(path: Path) -> list[str]:
    with read_db(path) as db:
        return [row[0] for row in db.execute("PRAGMA integrity_check")]


def journal_scan_ids(path: Path) -> list[str]:
    with read_db(path) as db:
        return [
            row[0]
            for row in db.execute("SELECT scan_id FROM stock_change WHERE scan_id IS NOT NULL")
        ]


def table_dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the schema's own too)."""
    with read_db(path) as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
        }


def quantity_of(path: Path, upc: str) -> int:
    with read_db(path) as db:
        row = db.execute(
            "SELECT COALESCE(SUM(s.quantity), 0) FROM sku s JOIN item i ON i.id = s.item_id "
            "WHERE i.upc = ?",
            (upc,),
        ).fetchone()
    return int(row[0])


# -- a stream of scans that a fault interrupts --------------------------------


@dataclass
class ScanLedger:
    """What the scanners know after a stream: which scans were acknowledged
    (2xx), which were sent without an answer, and anything else they got."""

    attempted: dict[str, str] = field(default_factory=dict)  # scan_id -> scanner key
    acked: set[str] = field(default_factory=set)
    refused: list[Answer] = field(default_factory=list)  # an answer other than 2xx
    unanswered: set[str] = field(default_factory=set)  # the connection broke first

    @property
    def unknown(self) -> set[str]:
        """Sent, but whether it counted is not known to the scanner."""
        return set(self.attempted) - self.acked


async def scan_stream(
    kitchen: Kitchen, key: str, upc: str, ledger: ScanLedger, *, limit: int, prefix: str
) -> None:
    """Scan ``upc`` again and again with fresh scan ids until the server goes
    away (or ``limit`` scans): what a scanner does during a busy minute."""
    for n in range(limit):
        scan_id = f"{prefix}-{n}"
        ledger.attempted[scan_id] = key
        try:
            answer = await kitchen.scan(key, upc, scan_id)
        except (aiohttp.ClientError, TimeoutError):
            ledger.unanswered.add(scan_id)
            return
        if 200 <= answer.status < 300:
            ledger.acked.add(scan_id)
        else:
            ledger.refused.append(answer)
            if answer.status >= 500:
                return


@asynccontextmanager
async def in_process_stocky(data_dir: Path, **settings: Any) -> AsyncIterator[Runtime]:
    """Stocky's whole runtime in this process, on a free loopback port, with
    no USB scanners and the product service offline unless ``settings`` say
    otherwise; stopped on the way out."""
    settings.setdefault("uda_api_url", OFFLINE_LOOKUP)
    runtime = Runtime(
        Settings(_env_file=None, data_dir=data_dir, host="127.0.0.1", port=0, **settings), hid=False
    )
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()
