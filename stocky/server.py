"""``stocky serve``: the API headless, on a plain asyncio loop (no Qt)."""

from __future__ import annotations

import asyncio
import signal

from stocky.core.logconfig import configure_console
from stocky.core.settings import Settings
from stocky.demo_data import describe
from stocky.runtime import Runtime


async def run_until_stopped(runtime: Runtime, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await runtime.start()
    runtime.ready()
    try:
        if runtime.demo:
            print(describe(runtime.demo_logins, runtime.host), flush=True)
        print(f"Stocky is running: {runtime.where()} (the web app; API docs at /api/v1/docs; "
              "Ctrl+C stops it)", flush=True)
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(runtime.storage_lost.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
    finally:
        await runtime.stop()
    runtime.raise_if_storage_lost()


def serve(demo: bool = False, host: str | None = None, port: int | None = None,
          https_port: int | None = None) -> None:
    settings = Settings()
    configure_console(settings.log_level)
    runtime = Runtime(settings, demo=demo, host=host, port=port, https_port=https_port)
    asyncio.run(run_until_stopped(runtime, asyncio.Event()))
