"""Thread pools for CPU work that must not run on the event loop, each with
a bound on how much may wait.

Password checks (bcrypt, a quarter of a second each on purpose) and QR
rendering get a pool each, so a flood of sign-in attempts cannot make a
label wait, and a pool that is full refuses at once (429 with
``Retry-After``) instead of queueing work nobody will wait for.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from stocky.core.errors import TooManyAttempts

T = TypeVar("T")


class BoundedPool:
    def __init__(self, what: str, workers: int, waiting: int) -> None:
        self.what = what
        self.workers = workers
        self.capacity = workers + waiting
        self._busy = 0
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @property
    def busy(self) -> int:
        """Jobs running or waiting now."""
        return self._busy

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` on a pool thread, or ``TooManyAttempts`` at once
        when the pool already has as much as it may hold."""
        with self._lock:
            if self._busy >= self.capacity:
                raise TooManyAttempts(f"Stocky is busy with {self.what}; try again in a second.", 1)
            self._busy += 1
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix=self.what)
            job = self._executor.submit(partial(func, *args))
        # Counted until the thread is done with it, even when the caller
        # gave up waiting (a client that hung up frees no thread).
        job.add_done_callback(self._done)
        return await asyncio.wrap_future(job)

    def _done(self, _job: Future[Any]) -> None:
        with self._lock:
            self._busy -= 1


# bcrypt releases the GIL: a thread per core but one (which stays free for
# the event loop, scans and known sign-ins), and a short queue behind them.
_WORKERS = max(1, min(4, (os.cpu_count() or 1) - 1))
PASSWORDS = BoundedPool("password checks", workers=_WORKERS, waiting=2 * _WORKERS)
# Sign-ins at the touch screen and from addresses someone signed in from
# before: a flood of guesses from new addresses fills PASSWORDS, never this.
KNOWN_PASSWORDS = BoundedPool("password checks", workers=1, waiting=2)
QR_CODES = BoundedPool("QR codes", workers=2, waiting=16)
