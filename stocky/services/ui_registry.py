"""Which screens are listening, by ``ui_instance_id``.

A scanner associated with a screen sends its results and ``show_view``
commands there. The ``/ws`` hub registers each identified web client and the
kiosk registers its own window, so both are reached by one path and the
touch UI never needs the API. With several processes on one PostgreSQL
database, ``relay`` (``stocky/services/shared_bus.py``) carries each message
to the screens connected to the others too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("stocky.ui")

Deliver = Callable[[dict[str, Any]], None]
Relay = Callable[[str, dict[str, Any]], None]


class UiRegistry:
    def __init__(self) -> None:
        self._screens: dict[str, list[Deliver]] = {}
        self.relay: Relay | None = None

    def register(self, ui_id: str, deliver: Deliver) -> Callable[[], None]:
        """``deliver`` must not block (hand the message to a queue or a signal)."""
        self._screens.setdefault(ui_id, []).append(deliver)

        def unregister() -> None:
            receivers = self._screens.get(ui_id, [])
            if deliver in receivers:
                receivers.remove(deliver)
            if not receivers:
                self._screens.pop(ui_id, None)

        return unregister

    def is_connected(self, ui_id: str) -> bool:
        return bool(self._screens.get(ui_id))

    def connected(self) -> list[str]:
        return list(self._screens)

    def send(self, ui_id: str, message: dict[str, Any]) -> int:
        """Deliver ``message`` to every receiver of ``ui_id``, in this process
        and through the relay in others; returns how many got it here."""
        if self.relay is not None:
            self.relay(ui_id, message)
        return self.deliver(ui_id, message)

    def deliver(self, ui_id: str, message: dict[str, Any]) -> int:
        """Deliver ``message`` to the receivers of ``ui_id`` in this process."""
        delivered = 0
        for deliver in tuple(self._screens.get(ui_id, ())):
            try:
                deliver(message)
                delivered += 1
            except Exception:
                log.exception("A screen could not take a message")
        return delivered
