"""The sign-in throttle (per name and address, and per address) and the
bounded pools that password checks and QR codes run on."""

from __future__ import annotations

import asyncio
import threading

import pytest

from stocky.core.errors import TooManyAttempts
from stocky.core.pools import BoundedPool
from stocky.core.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_many_names_from_one_address_lock_that_address_only(clock):
    throttle = LoginThrottle(clock=clock, address_limit=20)
    for n in range(20):
        assert throttle.retry_after(f"guess-{n}", "10.0.0.66") == 0
        throttle.failed(f"guess-{n}", "10.0.0.66")
    assert throttle.retry_after("anna", "10.0.0.66") > 0  # a name never tried there
    assert throttle.retry_after("anna", "10.0.0.7") == 0  # the kitchen tablet
    clock.now += 15 * 60 + 1
    assert throttle.retry_after("anna", "10.0.0.66") == 0


def test_one_name_is_locked_at_one_address_after_five_failures(clock):
    throttle = LoginThrottle(clock=clock)
    for _ in range(5):
        throttle.failed("Anna", "10.0.0.7")
    assert 1 <= throttle.retry_after("anna", "10.0.0.7") <= 15 * 60
    assert throttle.retry_after("ben", "10.0.0.7") == 0
    assert throttle.retry_after("anna", "10.0.0.8") == 0


def test_a_good_sign_in_clears_its_name_but_not_the_guesses_of_its_address(clock):
    throttle = LoginThrottle(clock=clock, address_limit=6)
    for n in range(4):
        throttle.failed(f"guess-{n}", "10.0.0.66")
    throttle.failed("anna", "10.0.0.66")
    assert not throttle.known("10.0.0.66")
    throttle.succeeded("anna", "10.0.0.66")
    assert throttle.known("10.0.0.66")
    throttle.failed("guess-5", "10.0.0.66")
    assert throttle.retry_after("anna", "10.0.0.66") > 0  # six failures from there


def test_one_address_gets_one_password_check_at_a_time():
    throttle = LoginThrottle()
    assert throttle.begin("10.0.0.66")
    assert not throttle.begin("10.0.0.66")
    assert throttle.begin("10.0.0.7")
    throttle.end("10.0.0.66")
    assert throttle.begin("10.0.0.66")


def test_memory_stays_bounded_however_many_addresses_guess(clock):
    throttle = LoginThrottle(clock=clock, max_keys=100)
    for n in range(1000):
        throttle.failed("x", f"10.{n // 256}.{n % 256}.1")
        throttle.succeeded("y", f"10.{n // 256}.{n % 256}.2")
    assert len(throttle._names._times) <= 100 and len(throttle._addresses._times) <= 100
    assert len(throttle._known) <= 100


async def test_a_full_pool_refuses_at_once_and_takes_work_again_when_free():
    release = threading.Event()
    pool = BoundedPool("tests", workers=1, waiting=1)
    first = asyncio.ensure_future(pool.run(release.wait, 5))
    second = asyncio.ensure_future(pool.run(release.wait, 5))
    await asyncio.sleep(0.05)
    with pytest.raises(TooManyAttempts) as refused:
        await pool.run(release.wait, 5)
    assert refused.value.retry_after == 1
    release.set()
    assert await first and await second
    assert await pool.run(lambda: 42) == 42


async def test_work_whose_caller_gave_up_still_holds_its_place_until_done():
    release = threading.Event()
    pool = BoundedPool("tests", workers=1, waiting=0)
    caller = asyncio.ensure_future(pool.run(release.wait, 5))
    await asyncio.sleep(0.05)
    caller.cancel()  # the client hung up; the thread still runs bcrypt
    await asyncio.sleep(0.05)
    with pytest.raises(TooManyAttempts):
        await pool.run(lambda: 1)
    release.set()
    for _ in range(100):
        if pool.busy == 0:
            break
        await asyncio.sleep(0.01)
    assert await pool.run(lambda: 1) == 1


def test_an_exhausted_accept_loop_is_reported_once_a_second(caplog, monkeypatch):
    import logging

    from stocky.api import limits

    now = [100.0]
    monkeypatch.setattr(limits.time, "monotonic", lambda: now[0])
    asyncio_log = logging.getLogger("asyncio")
    original = list(asyncio_log.filters)
    # A Stocky started earlier in this process may have installed it already.
    before = [f for f in original if not isinstance(f, limits._OncePerSecond)]
    asyncio_log.filters[:] = before
    limits.quiet_repeats()
    limits.quiet_repeats()  # a second server in the same process adds nothing
    try:
        assert len(asyncio_log.filters) == len(before) + 1
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            for _ in range(500):
                asyncio_log.error("socket.accept() out of system resource")
            now[0] += 1.5
            asyncio_log.error("socket.accept() out of system resource")
            asyncio_log.error("Something else")
        messages = [r.getMessage() for r in caplog.records if r.name == "asyncio"]
        assert messages == [
            "socket.accept() out of system resource",
            "socket.accept() out of system resource (499 more like it since the last report)",
            "Something else",
        ]
    finally:
        asyncio_log.filters[:] = original
