"""Fixtures of the reliability suite: real ``stocky serve`` processes, real
brokers and real sockets on loopback, each test bounded in time.

The helpers of the integration suite (``mosquitto.py``,
``fake_product_service.py``) are reused as they are: their folder is put on
``sys.path`` here so the modules can import them by name.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

INTEGRATION = Path(__file__).resolve().parent.parent / "integration"
if str(INTEGRATION) not in sys.path:
    sys.path.insert(0, str(INTEGRATION))

from mosquitto import free_port  # noqa: E402
from reliability_support import StockyProcess  # noqa: E402


@pytest.fixture
def stocky_process(tmp_path: Path) -> Iterator[StockyProcess]:
    """A ``stocky serve`` over its own data directory, not started yet;
    whatever state the test leaves it in, it is stopped afterwards."""
    stocky = StockyProcess(tmp_path / "data", free_port())
    try:
        yield stocky
    finally:
        if stocky.running:
            stocky.kill()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """One client session with room for many concurrent connections."""
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session
