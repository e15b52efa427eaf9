"""How long to wait before trying again: one rule for every retry loop
(MQTT reconnects, the bridge's posts, product lookups)."""

from __future__ import annotations

import random


def retry_delay(initial: float, cap: float, attempt: int) -> float:
    """The pause before retry number ``attempt`` (1, 2, ...): doubling from
    ``initial`` up to ``cap``, and half of it random, so that many clients
    that lost one server do not all knock on its door in the same instant
    when it comes back."""
    ceiling = min(cap, initial * 2 ** min(max(attempt, 1) - 1, 30))
    return random.uniform(ceiling / 2, ceiling)
