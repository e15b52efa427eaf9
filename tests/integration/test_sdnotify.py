"""systemd's notify protocol against a real datagram socket."""

from __future__ import annotations

import asyncio
import socket

import aiohttp

from stocky.core.settings import Settings
from stocky.runtime import Runtime


async def test_ready_watchdog_and_stopping(tmp_path, monkeypatch):
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # pings every 0.1 s
    loop = asyncio.get_running_loop()

    async def next_message() -> str:
        return (await asyncio.wait_for(loop.sock_recv(listener, 256), 5)).decode()

    runtime = Runtime(Settings(data_dir=tmp_path / "data", uda_api_url="http://127.0.0.1:9/{upc}"),
                      host="127.0.0.1", port=0, hid=False)
    try:
        await runtime.start()
        url = f"http://127.0.0.1:{runtime.bound_port}/health"
        async with aiohttp.ClientSession() as http, http.get(url) as reply:
            assert reply.status == 200  # the API answers before Stocky says it is ready
        runtime.ready()
        assert await next_message() == "READY=1"
        pings = [await next_message() for _ in range(3)]
        assert pings == ["WATCHDOG=1"] * 3
    finally:
        await runtime.stop()
    messages = []
    while True:
        try:
            messages.append(listener.recv(256).decode())
        except BlockingIOError:
            break
    assert messages[-1] == "STOPPING=1"
    assert set(messages[:-1]) <= {"WATCHDOG=1"}
    listener.close()


async def test_without_systemd_nothing_is_sent(tmp_path, monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    runtime = Runtime(Settings(data_dir=tmp_path / "data"), host="127.0.0.1", port=0, hid=False)
    await runtime.start()
    runtime.ready()
    assert runtime.systemd.enabled is False
    await runtime.stop()
