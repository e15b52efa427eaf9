"""Which screens are listening, by ``ui_instance_id``.

A scanner associated with a screen sends its results and ``show_view``
commands there. The ``/ws`` hub registers each identified web client and the
kiosk registers its own window, so both are reached by one path and the
touch UI never needs the API.

A ``ui_id`` belongs to the connection that registered it for as long as that
one is open: another connection claiming it is refused, so nobody can listen
in on a screen's scan results by naming its id. Only the same owner (the
same signed-in user, reconnecting) takes it over.

With several processes on one PostgreSQL database, ``relay``
(``stocky/services/shared_bus.py``) carries each message to the screens
connected to the others too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stocky.core.errors import Conflict

log = logging.getLogger("stocky.ui")

Deliver = Callable[[dict[str, Any]], None]
Relay = Callable[[str, dict[str, Any]], None]


@dataclass(eq=False)
class _Screen:
    deliver: Deliver
    owner: str | None  # None: anonymous, never taken over
    replaced: Callable[[], None] | None


class UiRegistry:
    def __init__(self) -> None:
        self._screens: dict[str, _Screen] = {}
        self.relay: Relay | None = None

    def register(
        self,
        ui_id: str,
        deliver: Deliver,
        owner: str | None = None,
        replaced: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        """``deliver`` must not block (hand the message to a queue or a signal).
        A ``ui_id`` held by a live registration is refused (``Conflict``)
        unless ``owner`` is the same; then the old one is told by ``replaced``
        and gets nothing more. Returns the function that unregisters."""
        if (held := self._screens.get(ui_id)) is not None:
            if owner is None or held.owner != owner:
                raise Conflict("Another connection is using this screen id; pick a new one.")
            if held.replaced is not None:
                try:
                    held.replaced()
                except Exception:
                    log.exception("A replaced screen could not be told")
        screen = _Screen(deliver, owner, replaced)
        self._screens[ui_id] = screen

        def unregister() -> None:
            if self._screens.get(ui_id) is screen:
                del self._screens[ui_id]

        return unregister

    def is_connected(self, ui_id: str) -> bool:
        return ui_id in self._screens

    def send(self, ui_id: str, message: dict[str, Any]) -> int:
        """Deliver ``message`` to the screen ``ui_id``, in this process and
        through the relay in others; returns 1 if it got it here."""
        if self.relay is not None:
            self.relay(ui_id, message)
        return self.deliver(ui_id, message)

    def deliver(self, ui_id: str, message: dict[str, Any]) -> int:
        """Deliver ``message`` to the screen ``ui_id`` in this process."""
        screen = self._screens.get(ui_id)
        if screen is None:
            return 0
        try:
            screen.deliver(message)
        except Exception:
            log.exception("A screen could not take a message")
            return 0
        return 1
