"""The one retry rule (MQTT reconnects, the bridge, product lookups)."""

from __future__ import annotations

import random

from stocky.core.backoff import retry_delay


def test_retries_wait_twice_as_long_each_time_up_to_the_cap_with_half_of_it_random():
    random.seed(7)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 5.0), (60, 5.0)]:
        delays = [retry_delay(0.5, 5.0, attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempt, min(delays), max(delays))
        assert max(delays) - min(delays) > ceiling / 4  # spread out, not in step
