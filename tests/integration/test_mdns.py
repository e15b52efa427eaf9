"""Found by name (DESIGN.md section 16): a phone on the kitchen's network
finds "Stocky" over mDNS and opens https://<hostname>.local:8443/.

Only inside network namespaces each test makes itself, never on the network
this machine is on: "the box" and "a phone", joined by a veth pair with
addresses from 198.18.0.0/15 (set aside for network tests). ``stocky serve``
runs in the box's namespace; tests/integration/mdns_phone.py browses in the
phone's. Needs root (CAP_NET_ADMIN) and iproute2; skipped without them.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from support.polling import eventually_sync

BOX, PHONE, MOVED = "198.18.0.1", "198.18.0.2", "198.18.0.3"
PHONE_SCRIPT = Path(__file__).with_name("mdns_phone.py")
HTTPS, HTTP = "_https._tcp.local.", "_http._tcp.local."
# A program holding mDNS's port without sharing it (as SO_REUSEADDR would);
# it lets go when its standard input closes.
HOLD_5353 = ("import socket, sys; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
             "s.bind(('0.0.0.0', 5353)); print('held', flush=True); sys.stdin.read()")


class Lan:
    """Two network namespaces and the processes started in them."""

    def __init__(self, tmp_path: Path) -> None:
        name = f"stocky-mdns-{secrets.token_hex(4)}"
        self.box, self.phone = f"{name}-box", f"{name}-phone"
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[str]] = []
        self.files: list[IO[str]] = []

    def start(self, namespace: str, argv: list[str], name: str, stdout: int | None = None,
              **options: Any) -> subprocess.Popen[str]:
        """``argv`` in ``namespace``; what it writes goes to ``<name>.log`` (its
        standard output too, unless ``stdout`` says otherwise)."""
        log = (self.tmp_path / f"{name}.log").open("w")
        self.files.append(log)
        process = subprocess.Popen(["ip", "netns", "exec", namespace, *argv], cwd=self.tmp_path, text=True,
                                   stdout=log if stdout is None else stdout, stderr=log, **options)
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()[-3000:]}" for path in self.tmp_path.glob("*.log"))


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=10)


@pytest.fixture
def lan(tmp_path: Path) -> Iterator[Lan]:
    if shutil.which("ip") is None:
        pytest.skip("needs iproute2's ip to make network namespaces")
    lan = Lan(tmp_path)
    made: list[str] = []
    try:
        for namespace in (lan.box, lan.phone):
            done = subprocess.run(["ip", "netns", "add", namespace], capture_output=True, text=True, timeout=10)
            if done.returncode:
                pytest.skip(f"cannot make a network namespace (needs root or CAP_NET_ADMIN): {done.stderr.strip()}")
            made.append(namespace)
        ip("link", "add", "box0", "netns", lan.box, "type", "veth", "peer", "name", "phone0", "netns", lan.phone)
        for namespace, device, address in ((lan.box, "box0", BOX), (lan.phone, "phone0", PHONE)):
            ip("-n", namespace, "addr", "add", f"{address}/24", "dev", device)
            ip("-n", namespace, "link", "set", device, "up")
            ip("-n", namespace, "link", "set", "lo", "up")
        yield lan
    finally:
        for process in lan.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        for file in lan.files:
            file.close()
        for namespace in made:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=10)


class PhoneSays:
    """The phone's JSON lines, one step at a time, each within a deadline."""

    def __init__(self, process: subprocess.Popen[str], lan: Lan) -> None:
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.lan = lan
        assert process.stdout is not None
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def next(self, step: str, within: float = 45.0) -> dict[str, Any]:
        try:
            said = self.lines.get(timeout=within)
        except queue.Empty:
            said = {"step": f"nothing for {within} s"}
        assert said is not None and said["step"] == step, f"waiting for {step}, the phone: {said}\n{self.lan.logs()}"
        return said


def start_stocky(lan: Lan) -> subprocess.Popen[str]:
    data = lan.tmp_path / "data"
    env = dict(os.environ, STOCKY_MDNS="true", STOCKY_DATA_DIR=str(data), UDA_API_URL="http://127.0.0.1:9/{upc}",
               STOCKY_HID_DEVICES=str(data / "no-such-scanner-*"))
    return lan.start(lan.box, [sys.executable, "-m", "stocky", "serve", "--host", "0.0.0.0",
                               "--port", "8000", "--https-port", "8443"], "stocky", env=env)


def start_phone(lan: Lan, *options: str) -> PhoneSays:
    ca = lan.tmp_path / "data" / "tls" / "ca.pem"
    process = lan.start(lan.phone, [sys.executable, str(PHONE_SCRIPT), "--ca", str(ca), *options], "phone",
                        stdout=subprocess.PIPE)
    return PhoneSays(process, lan)


def fingerprint(ca: Path) -> str:
    """As /connect and the kiosk show it, computed here independently."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(ca.read_text())).digest().hex(":").upper()


def stop(stocky: subprocess.Popen[str], lan: Lan) -> None:
    stocky.send_signal(signal.SIGTERM)
    assert stocky.wait(timeout=30) == 0, lan.logs()


def test_a_phone_finds_stocky_by_name_opens_it_over_https_and_follows_a_new_address(lan: Lan) -> None:
    # Another device on the network already answers to "Stocky" for HTTP.
    phone = start_phone(lan, "--rival", PHONE, "--moved-to", MOVED)
    phone.next("ready")
    stocky = start_stocky(lan)
    found = phone.next("found")["services"]
    name = f"{socket.gethostname()}.local"
    ca = lan.tmp_path / "data" / "tls" / "ca.pem"
    assert found[HTTPS] == {"name": "Stocky", "port": 8443, "server": f"{name}.", "addresses": [BOX],
                            "txt": {"path": "/", "ca_sha256": fingerprint(ca)}}
    # zeroconf's own renaming of a name taken on the network
    assert found[HTTP] == {"name": "Stocky-2", "port": 8000, "server": f"{name}.", "addresses": [BOX],
                           "txt": {"path": "/"}}
    # https://<hostname>.local:8443/ opens, trusting Stocky's own CA and nothing else.
    health = phone.next("health")
    assert (health["address"], health["status"], json.loads(health["body"])) == (BOX, 200, {"status": "ok"})

    # The router gives the box another address: phones find Stocky there.
    ip("-n", lan.box, "addr", "del", f"{BOX}/24", "dev", "box0")
    ip("-n", lan.box, "addr", "add", f"{MOVED}/24", "dev", "box0")
    moved = phone.next("moved")["services"]
    assert {kind: (service["name"], service["port"]) for kind, service in moved.items()} == {
        HTTPS: ("Stocky", 8443), HTTP: ("Stocky-2", 8000)}
    health = phone.next("health")
    assert (health["address"], health["status"]) == (MOVED, 200)

    # Stopped, Stocky says goodbye: the phone's list drops it at once, not
    # when the records would expire (75 minutes).
    stop(stocky, lan)
    assert phone.next("gone")["names"] == [f"Stocky-2.{HTTP}", f"Stocky.{HTTPS}"]


def test_stocky_starts_when_it_cannot_announce_and_announces_once_it_can(lan: Lan) -> None:
    holder = lan.start(lan.box, [sys.executable, "-c", HOLD_5353], "holder", stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    stocky = start_stocky(lan)
    log = lan.tmp_path / "stocky.log"

    def warnings() -> list[str]:
        return [line for line in log.read_text().splitlines() if "WARNING stocky.mdns" in line]

    said = eventually_sync(warnings, timeout=60, what="a warning that Stocky is not announced")
    assert "not announced on the local network" in said[0] and "Address already in use" in said[0], said
    assert stocky.poll() is None, lan.logs()

    # The port is free again: Stocky announces itself at its next look.
    assert holder.stdin is not None
    holder.stdin.close()
    phone = start_phone(lan)
    phone.next("ready")
    found = phone.next("found")["services"]
    assert {kind: (service["name"], service["port"]) for kind, service in found.items()} == {
        HTTPS: ("Stocky", 8443), HTTP: ("Stocky", 8000)}
    assert phone.next("health")["status"] == 200
    stop(stocky, lan)
    phone.next("gone")
    assert len(warnings()) == 1, lan.logs()
