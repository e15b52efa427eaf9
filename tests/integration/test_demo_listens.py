"""``stocky serve --demo`` prints a published password, so it answers on
this machine only unless told otherwise; ``--host`` opens it up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """The local addresses of sockets listening on ``port`` (IPv4, from the kernel's table)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc/net/tcp")
@pytest.mark.parametrize(("extra", "expected"), [([], "127.0.0.1"), (["--host", "0.0.0.0"], "0.0.0.0")])
def test_a_demo_listens_on_this_machine_only_unless_told(tmp_path, extra, expected):
    port = free_port()
    env = {**os.environ, "STOCKY_DATA_DIR": str(tmp_path / "data"), "UDA_API_URL": "http://127.0.0.1:9/{upc}"}
    env.pop("STOCKY_HOST", None)
    process = subprocess.Popen([sys.executable, "-m", "stocky", "serve", "--demo", "--port", str(port), *extra],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 60
        while not listening_addresses(port) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert listening_addresses(port) == {expected}
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "Sign in as 'admin'" in output
    assert ("answers on this machine only" in output) == (expected == "127.0.0.1")
