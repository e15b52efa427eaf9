"""Login throttling, counted twice: after ``limit`` failures for one username
from one client, and after ``address_limit`` failures for any names from one
client, within ``window`` seconds, further attempts wait until the oldest
failure ages out. Trying many names from one address (a flood of guesses)
therefore stops costing password checks quickly, while one person's typos
lock out only that name there. Memory stays bounded however many names and
addresses are tried.

One address also gets one password check at a time: a crowd of clients at
one address then holds one place in the password pool, not all of them.
Addresses someone signed in from before are remembered (``known``), so
their checks can go to places a flood from new addresses cannot take."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable


class _Failures:
    """Recent failure times per key, for at most ``max_keys`` keys."""

    def __init__(self, limit: int, window: float, max_keys: int, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._times: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def _recent(self, key: Hashable) -> deque[float]:
        failures = self._times.get(key, deque())
        cutoff = self.clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures

    def retry_after(self, key: Hashable) -> int:
        failures = self._recent(key)
        if len(failures) < self.limit:
            return 0
        return max(1, math.ceil(failures[-self.limit] + self.window - self.clock()))

    def add(self, key: Hashable) -> None:
        failures = self._recent(key)
        failures.append(self.clock())
        while len(failures) > self.limit:
            failures.popleft()  # only the newest ``limit`` decide anything
        self._times[key] = failures
        self._times.move_to_end(key)
        while len(self._times) > self.max_keys:
            self._times.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        self._times.pop(key, None)


class LoginThrottle:
    def __init__(
        self,
        limit: int = 5,
        window: float = 15 * 60,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        address_limit: int = 20,
    ) -> None:
        self.limit = limit
        self.window = window
        self._names = _Failures(limit, window, max_keys, clock)
        self._addresses = _Failures(address_limit, window, max_keys, clock)
        self._checking: set[str] = set()
        self._known: OrderedDict[str, None] = OrderedDict()
        self._max_known = max_keys

    def known(self, client: str) -> bool:
        """Someone signed in successfully from ``client`` since Stocky started."""
        return client in self._known

    def begin(self, client: str) -> bool:
        """Start a password check for ``client``; False while one is under way."""
        if client in self._checking:
            return False
        self._checking.add(client)
        return True

    def end(self, client: str) -> None:
        self._checking.discard(client)

    def retry_after(self, username: str, client: str) -> int:
        """Seconds to wait before trying again; 0 when an attempt is allowed."""
        return max(
            self._names.retry_after((username.casefold(), client)),
            self._addresses.retry_after(client),
        )

    def failed(self, username: str, client: str) -> None:
        self._names.add((username.casefold(), client))
        self._addresses.add(client)

    def succeeded(self, username: str, client: str) -> None:
        # The address keeps its count: one good account must not wash out
        # the guesses made from the same place.
        self._names.forget((username.casefold(), client))
        self._known[client] = None
        self._known.move_to_end(client)
        while len(self._known) > self._max_known:
            self._known.popitem(last=False)
