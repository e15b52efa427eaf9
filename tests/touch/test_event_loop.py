"""The kiosk's event loop survives a long day: wake-ups from worker threads
(every database call, every bcrypt check) must not corrupt the interpreter."""

from __future__ import annotations

import sys
import threading


def test_wakeups_from_threads_keep_reference_counts(loop):
    async def wake_from_threads(count: int) -> None:
        for _ in range(count):
            done = loop.create_future()
            thread = threading.Thread(target=loop.call_soon_threadsafe, args=(done.set_result, True))
            thread.start()
            await done
            thread.join()

    loop.run_until_complete(wake_from_threads(50))  # warm up
    before = sys.getrefcount(True)
    loop.run_until_complete(wake_from_threads(500))
    # With the broken PySide6 release every wake-up loses one reference to
    # True, and the process aborts once it reaches zero.
    assert sys.getrefcount(True) - before > -50
