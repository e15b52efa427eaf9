"""The in-process event bus: every change a service commits is published here.

Subscribers are plain callables and must not block; anything slow (a socket,
a Qt repaint) hands the event to its own queue. One failing subscriber never
stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

log = logging.getLogger(__name__)

Op = Literal["created", "updated", "deleted"]


@dataclass(frozen=True)
class Event:
    entity: str  # "item", "location", "sku", "alert", "user", "scanner", ...
    id: str
    op: Op
    data: dict[str, Any] = field(default_factory=dict)
    # About this process only (its own storage): other processes sharing the
    # database are not told.
    local: bool = False

    def as_message(self) -> dict[str, Any]:
        return {"action": "changed", "entity": self.entity, "id": self.id, "op": self.op}


Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns the function that removes it again."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for subscriber in tuple(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                log.exception("An event subscriber failed on %s %s", event.entity, event.op)

    def publish_all(self, events: list[Event]) -> None:
        for event in events:
            self.publish(event)
