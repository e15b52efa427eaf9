"""A client that goes away is not Stocky's fault: closing a tab, a reset
connection (TCP RST) or a socket dropped mid-request is logged at DEBUG, so
the Log tab's red lines stay for what went wrong inside Stocky. Real sockets
against the real app on a TCPSite on loopback."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from support.polling import eventually

from stocky.api import keys
from stocky.api.app import create_app
from stocky.core.settings import Settings
from stocky.services.container import Services, open_services

ROUNDS = 20

pytestmark = pytest.mark.timeout(60)


@dataclass
class Server:
    services: Services
    runner: web.AppRunner
    port: int

    def settled(self) -> bool:
        """Every connection and every socket handler has finished."""
        limits = self.runner.app[keys.SOCKET_LIMITS]
        return not self.runner.server.connections and limits.open == 0


@pytest.fixture
async def server(tmp_path, caplog) -> AsyncIterator[Server]:
    caplog.set_level(logging.DEBUG)  # every record, of every logger, is looked at
    async with open_services(Settings(_env_file=None, data_dir=tmp_path)) as services:
        # As stocky.runtime serves it: Stocky's own access log, not aiohttp's.
        runner = web.AppRunner(create_app(services), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            yield Server(services, runner, runner.addresses[0][1])
        finally:
            await runner.cleanup()


async def connect(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return sock


def reset(sock: socket.socket) -> None:
    """Close with a TCP RST, as a crashed app or a dropped network does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def upgrade_request(port: int) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def login_head(port: int) -> bytes:
    """A sign-in whose body is to be 5000 bytes long."""
    return (
        f"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
    ).encode()


async def reset_during_the_handshake(port: int) -> None:
    sock = await connect(port)
    await asyncio.get_running_loop().sock_sendall(sock, upgrade_request(port))
    reset(sock)


async def upgraded(port: int) -> socket.socket:
    """A raw socket that Stocky has just accepted as a WebSocket."""
    loop = asyncio.get_running_loop()
    sock = await connect(port)
    await loop.sock_sendall(sock, upgrade_request(port))
    async with asyncio.timeout(5):
        answer = await loop.sock_recv(sock, 4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


async def reset_after_the_101(port: int) -> None:
    reset(await upgraded(port))


async def reset_in_the_middle_of_a_body(port: int) -> None:
    loop = asyncio.get_running_loop()
    sock = await connect(port)
    await loop.sock_sendall(sock, login_head(port) + b'{"username": "admin", "pass')
    await asyncio.sleep(0.01)  # the server is reading the body now
    reset(sock)


async def close_the_tab(port: int) -> None:
    """A browser closing a tab: a close frame ("going away"), then the
    connection, without waiting for Stocky's answer."""
    loop = asyncio.get_running_loop()
    sock = await upgraded(port)
    mask, code = os.urandom(4), struct.pack("!H", 1001)
    masked = bytes(byte ^ mask[n % 4] for n, byte in enumerate(code))
    await loop.sock_sendall(sock, bytes([0x88, 0x80 | len(code)]) + mask + masked)
    sock.close()


async def hang_up_in_the_middle_of_a_body(port: int) -> None:
    """An orderly close (FIN), but long before the promised body is complete."""
    loop = asyncio.get_running_loop()
    sock = await connect(port)
    await loop.sock_sendall(sock, login_head(port) + b'{"username": "admin", "pass')
    await asyncio.sleep(0.01)
    sock.close()


def faults(caplog: pytest.LogCaptureFixture, services: Services) -> list[str]:
    """What would show as Stocky's own fault: an ERROR anywhere, a traceback,
    a request logged as 500."""
    found = [f"{r.name} {r.levelname}: {r.getMessage()}" for r in caplog.records
             if r.levelno >= logging.ERROR or r.exc_info or " 500 " in r.getMessage()]
    found += [f"log buffer: {e.message}" for e in services.logs.query(severity="ERROR")]
    return found


@pytest.mark.parametrize(
    "drop",
    [reset_during_the_handshake, reset_after_the_101, close_the_tab,
     reset_in_the_middle_of_a_body, hang_up_in_the_middle_of_a_body],
)
async def test_a_client_that_goes_away_is_not_an_error(server: Server, caplog, drop):
    for _ in range(ROUNDS):
        await drop(server.port)
    await eventually(server.settled, what="the server to finish with the dropped connections")

    assert faults(caplog, server.services) == []
    async with aiohttp.ClientSession() as http, http.get(
        f"http://127.0.0.1:{server.port}/health"
    ) as health:
        assert health.status == 200
