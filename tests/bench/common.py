"""What every benchmark shares: statistics, processes (start, wait for
/health, CPU time and resident memory from /proc), a clean environment
that never reaches the internet, and a prepared kitchen to scan into."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.support.env import TEST_ENV

REPO = Path(__file__).resolve().parents[2]
# Product lookups of unknown barcodes must never leave the machine.
OFFLINE_LOOKUP = "http://127.0.0.1:9/{upc}"
# Variables of the surrounding shell that must not reach a benchmarked Stocky.
_LEAKY = ("DATABASE_URL", "SECRET_KEY", "UDA_API_URL")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# -- statistics ---------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between the closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms),
        "mean_ms": sum(ms) / len(ms),
    }


# -- results --------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table: a figure beside its floor."""

    bench: str
    measure: str
    value: float | None
    unit: str
    floor: float | None = None
    floor_label: str = ""
    ratio: float | None = None  # value / floor, as the row says
    ratio_label: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BenchResult:
    bench: str
    title: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "bench": self.bench,
            "title": self.title,
            "seconds": round(self.seconds, 1),
            "rows": [row.as_dict() for row in self.rows],
            "details": self.details,
        }


# -- the environment ----------------------------------------------------------


def clean_environ(**extra: str) -> dict[str, str]:
    """The environment for a benchmarked process: no Stocky setting from the
    surrounding shell, lookups kept on the machine, Qt drawing off screen."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKY_") and k not in _LEAKY}
    env["UDA_API_URL"] = OFFLINE_LOOKUP
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(TEST_ENV)
    env.update(extra)
    return env


def sanitize_own_environ() -> None:
    """The same for this process (in-process benchmarks read Settings())."""
    for name in list(os.environ):
        if name.startswith("STOCKY_") or name in _LEAKY:
            del os.environ[name]
    os.environ["UDA_API_URL"] = OFFLINE_LOOKUP
    os.environ.update(TEST_ENV)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def stocky_command(*args: str) -> list[str]:
    """``stocky ARGS`` with this interpreter (the project's venv)."""
    return [sys.executable, "-m", "stocky", *args]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- processes -------------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


def own_rss_mb() -> float:
    return proc_rss_mb(os.getpid())


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ConnectionError):
        return False


class Server:
    """A server in its own process, its output in a log file."""

    def __init__(
        self,
        argv: list[str],
        *,
        port: int,
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.argv = argv
        self.port = port
        self.log_path = log_path
        self.env = env or clean_environ()
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.ready_after = math.nan

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait for ``GET /health``; returns the seconds that took."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.started_at = time.perf_counter()
            self.process = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, cwd=self.cwd,
            )
        deadline = self.started_at + timeout
        url = f"{self.base_url}/health"
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.argv} exited with {self.process.returncode}:\n{self.log_tail()}")
            if http_ok(url, timeout=0.5):
                self.ready_after = time.perf_counter() - self.started_at
                return self.ready_after
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{self.argv} did not answer /health within {timeout} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def rss_mb(self) -> float:
        return proc_rss_mb(self.pid)

    def stop(self, timeout: float = 15.0) -> int | None:
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        return process.returncode

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stocky_server(kind: str, data_dir: Path, log_path: Path, **env: str) -> Server:
    """``stocky serve`` or ``stocky kiosk --windowed`` on a loopback port."""
    port = free_port()
    argv = stocky_command(kind, "--host", "127.0.0.1", "--port", str(port))
    if kind == "kiosk":
        argv.append("--windowed")
    # The data directory is the working directory too, so no developer's
    # .env is read.
    return Server(
        argv, port=port, log_path=log_path, cwd=data_dir,
        env=clean_environ(STOCKY_DATA_DIR=str(data_dir), **env),
    )


def trivial_server(log_path: Path) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "tests.bench.trivial_server", "--port", str(port)]
    return Server(argv, port=port, log_path=log_path, cwd=REPO)


# -- the load generator (its own process) -------------------------------------


def run_loadgen(config: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
    """Run ``tests.bench.loadgen`` with ``config``; returns what it measured."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench.loadgen"],
        input=json.dumps(config).encode(),
        capture_output=True,
        cwd=REPO,
        env=clean_environ(),
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{proc.stderr.decode(errors='replace')[-3000:]}")
    return json.loads(proc.stdout)


def measure_http(server: Server, config: dict[str, Any]) -> dict[str, Any]:
    """One load-generator run against ``server``, with the server's CPU time
    per request beside the client's."""
    before = server.cpu_seconds()
    result = run_loadgen({"url": server.base_url, **config})
    result["server_cpu_s"] = server.cpu_seconds() - before
    done = result.get("total_requests") or 0
    result["server_cpu_ms_per_request"] = 1000 * result["server_cpu_s"] / done if done else math.nan
    return result


# -- a kitchen to scan into ------------------------------------------------------


@dataclass
class Kitchen:
    data_dir: str
    locations: dict[str, str]  # name -> id
    scanner_keys: list[str]
    scanner_ids: list[str]
    barcodes: list[str]  # products already in stock
    item_ids: list[str]
    admin: tuple[str, str] = ("bench-admin", "")

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> Kitchen:
        data = json.loads(path.read_text())
        data["admin"] = tuple(data["admin"])
        return cls(**data)


LOCATION_NAMES = (("Pantry", "Ambient"), ("Fridge", "Refrigerated"), ("Freezer", "Frozen"), ("Shelf", None))


def barcode(n: int) -> str:
    """A 13-digit EAN with a valid check digit, distinct for each ``n``."""
    body = f"200{n:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


async def prepare_kitchen(
    data_dir: Path, *, scanners: int = 20, items: int = 200, admin: bool = True,
    link_to_screen: bool = True,
) -> Kitchen:
    """A migrated database with four locations, ``items`` products in stock
    (one each in the Pantry, so each is on the inventory's first pages),
    ``scanners`` Scanner users, each with a current location, so every scan
    of a known barcode adds stock; and an Admin, whom the kiosk signs in as.
    With ``link_to_screen`` every scanner talks to the kiosk's screen (its
    ``ui_instance_id`` is written into the data directory), so a kiosk shows
    a banner per scan as in a real kitchen."""
    from stocky.core.settings import Settings
    from stocky.schemas.actor import SYSTEM
    from stocky.schemas.commands import ScanCommand
    from stocky.services.container import open_services
    from stocky.services.users import actor_of

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(_env_file=None, data_dir=data_dir, uda_api_url=OFFLINE_LOOKUP)
    async with open_services(settings) as services:
        locations = {}
        for name, storage in LOCATION_NAMES:
            loc = await services.locations.create({"name": name, "storage_type": storage}, SYSTEM)
            locations[name] = str(loc.id)
        admin_login = ("bench-admin", "")
        if admin:
            admin_login = ("bench-admin", "bench-admin-password-123")
            await services.users.create(
                {"username": admin_login[0], "role": "Admin", "password": admin_login[1]}, SYSTEM
            )
        codes, ids = [], []
        for n in range(items):
            code = barcode(n)
            item = await services.items.create(
                {"name": f"Bench product {n:04d}", "upc": code, "storage_type": "Ambient"}, SYSTEM
            )
            await services.skus.create(
                {"item_id": str(item.id), "location_id": locations["Pantry"], "quantity": 1}, SYSTEM
            )
            codes.append(code)
            ids.append(str(item.id))
        keys, scanner_ids = [], []
        names = list(locations)
        ui_id = str(uuid.uuid4())
        if link_to_screen:
            (data_dir / "ui_instance_id").write_text(ui_id + "\n")
        for n in range(scanners):
            created = await services.users.create(
                {"username": f"bench-scanner-{n:02d}", "role": "Scanner"}, SYSTEM
            )
            await services.scans.set_state(
                created.id, {"current_location_id": locations[names[n % len(names)]]}, SYSTEM
            )
            if link_to_screen:
                card = ScanCommand(command="associate_ui", payload=ui_id).encode()
                await services.scans.scan(actor_of(created, "scan"), card)
            keys.append(created.api_key)
            scanner_ids.append(str(created.id))
    return Kitchen(
        data_dir=str(data_dir), locations=locations, scanner_keys=keys, scanner_ids=scanner_ids,
        barcodes=codes, item_ids=ids, admin=admin_login,
    )


def scan_bodies(codes: Iterable[str]) -> list[str]:
    return [json.dumps({"msg": code}) for code in codes]


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def run_async(coro: Any) -> Any:
    return asyncio.run(coro)
