"""A flood of sign-in attempts with made-up usernames does not lock the
household out: while 30 clients guess, from one address and then from 30,
a person signing in from a device they used before gets in, and a QR label
still renders. Bounded: a few seconds of flood each; timings are measured
in the benchmark (``python -m tests.bench --only B9``), not asserted here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import aiohttp
import pytest
from reliability_support import API, OFFLINE_LOOKUP

from stocky.core.settings import Settings
from stocky.schemas.actor import SYSTEM
from stocky.services.container import open_services

FLOOD_CLIENTS = 30
FLOOD_SECONDS = 1.5
PASSWORD = "the household's own password"
HOME = "127.0.0.2"  # the person's device; the flood comes from elsewhere
TIMEOUT = aiohttp.ClientTimeout(total=20)


async def _seed(stocky_process) -> str:
    settings = Settings(
        _env_file=None, data_dir=stocky_process.data_dir, uda_api_url=OFFLINE_LOOKUP,
        database_url=f"sqlite:///{stocky_process.db_path}",
    )
    async with open_services(settings) as services:
        await services.users.create({"username": "anna", "role": "Admin", "password": PASSWORD}, SYSTEM)
        pantry = await services.locations.create({"name": "Pantry"}, SYSTEM)
    return str(pantry.id)


async def _sign_in(http: aiohttp.ClientSession, url: str) -> tuple[int, str | None]:
    async with http.post(
        f"{url}{API}/auth/login", json={"username": "anna", "password": PASSWORD}
    ) as response:
        body = await response.json()
        return response.status, body.get("access_token")


async def _flood(url: str, address: str | None, answers: Counter[int], until: float) -> None:
    connector = aiohttp.TCPConnector(local_addr=(address, 0) if address else None)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as http:
        loop = asyncio.get_running_loop()
        while loop.time() < until:
            guess = {"username": f"guess-{uuid.uuid4().hex[:10]}", "password": "letmein"}
            async with http.post(f"{url}{API}/auth/login", json=guess) as response:
                await response.read()
                answers[response.status] += 1


@pytest.mark.timeout(90)
async def test_a_person_signs_in_and_labels_render_during_a_login_flood(stocky_process):
    pantry = await _seed(stocky_process)
    stocky_process.start()
    url = stocky_process.url
    home = aiohttp.TCPConnector(local_addr=(HOME, 0))
    async with aiohttp.ClientSession(connector=home, timeout=TIMEOUT) as http:
        status, token = await _sign_in(http, url)  # this device has signed in before
        assert status == 200 and token
        answers: Counter[int] = Counter()
        # One machine's 30 clients, then 30 machines.
        for addresses in ([None] * FLOOD_CLIENTS, [f"127.0.1.{n + 1}" for n in range(FLOOD_CLIENTS)]):
            until = asyncio.get_running_loop().time() + FLOOD_SECONDS
            flood = [asyncio.create_task(_flood(url, a, answers, until)) for a in addresses]
            try:
                await asyncio.sleep(0.3)  # the flood is under way
                status, token = await _sign_in(http, url)
                assert status == 200 and token, f"the real sign-in got {status} during the flood"
                async with http.get(
                    f"{url}{API}/qr/location/{pantry}", headers={"Authorization": f"Bearer {token}"}
                ) as label:
                    assert label.status == 200
                    assert (await label.read()).startswith(b"\x89PNG")
            finally:
                await asyncio.gather(*flood)
    # The guesses were refused as guesses, never with a server error.
    assert answers and set(answers) <= {401, 429}, answers
    assert answers[429] > answers[401]
    assert stocky_process.running
