"""Who an API key belongs to, remembered between requests.

Every scan over HTTP or MQTT names its scanner by key; looking the key up is
a trip to a database thread and an ORM query, about a sixth of a scan's CPU.
The answer is kept for a few seconds and corrected by the event bus as soon
as this process changes it: any ``user`` event (a new key, deactivation,
deletion, a new role) forgets everything, and a ``scanner`` event brings the
scanner's new state along. The time limit bounds what another process
writing the same database could leave stale.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from stocky.core.events import Event
from stocky.schemas.user import UserOut

KEPT_SECONDS = 10.0
MAX_KEYS = 1024  # a household has a handful; bounded all the same


class ApiKeyCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._users: dict[str, tuple[float, UserOut]] = {}

    def get(self, key_hash: str) -> UserOut | None:
        kept = self._users.get(key_hash)
        if kept is None:
            return None
        until, user = kept
        if self._clock() >= until:
            del self._users[key_hash]
            return None
        return user

    def put(self, key_hash: str, user: UserOut) -> None:
        if len(self._users) >= MAX_KEYS:
            self._users.clear()
        self._users[key_hash] = (self._clock() + KEPT_SECONDS, user)

    def on_event(self, event: Event) -> None:
        if event.entity == "user":
            self._users.clear()
        elif event.entity == "scanner":
            details = event.data.get("details")
            for key_hash, (until, user) in list(self._users.items()):
                if str(user.id) != event.id:
                    continue
                if isinstance(details, dict):
                    self._users[key_hash] = (until, user.model_copy(update={"details": dict(details)}))
                else:
                    del self._users[key_hash]
