"""Two Stocky processes on one PostgreSQL database: when one loses its data
directory it tells its own screens it restarts, and only those; the other
process's storage is fine, so its screens hear nothing of it."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from stocky.core.events import Event
from stocky.core.settings import Settings
from stocky.runtime import Runtime

pytestmark = pytest.mark.postgresql

TIMEOUT = 10.0


async def test_the_storage_lost_alert_stays_with_the_process_that_lost_it(
    clean_env, pg_server, pg_migrated, tmp_path
):
    database = pg_server.create_database(template=pg_migrated)
    url = pg_server.url(database)
    a, b = (
        Runtime(Settings(_env_file=None, data_dir=tmp_path / name, database_url=url,
                         uda_api_url="http://127.0.0.1:9/{upc}"),
                host="127.0.0.1", port=0, hid=False)
        for name in ("a", "b")
    )
    try:
        await a.start()
        await b.start()
        heard_a: list[Event] = []
        heard_b: list[Event] = []
        a.services.bus.subscribe(heard_a.append)
        b.services.bus.subscribe(heard_b.append)

        (tmp_path / "a").rename(tmp_path / "a-moved")  # A's storage goes away under it
        await asyncio.wait_for(a.storage_lost.wait(), TIMEOUT)
        alerts = [e for e in heard_a
                  if e.entity == "alert" and "restarts" in e.data.get("message", "")]
        assert len(alerts) == 1, heard_a

        # Whatever A sends after the alert reaches B after it would have.
        marker = Event("item", str(uuid.uuid4()), "updated")
        a.services.bus.publish(marker)
        async with asyncio.timeout(TIMEOUT):
            while not any(e.id == marker.id for e in heard_b):
                await asyncio.sleep(0.05)
        assert not [e for e in heard_b if e.entity == "alert"], heard_b
    finally:
        await a.stop()
        await b.stop()
        pg_server.drop_database(database)
