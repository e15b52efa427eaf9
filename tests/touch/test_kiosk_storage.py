"""The kiosk stops, saying why, when its database file is deleted under it:
systemd then restarts it into the start-up checks (DESIGN.md section 14)."""

from __future__ import annotations

import asyncio

import pytest
from support.polling import eventually

from stocky.core.errors import StorageFault, StorageRefused
from stocky.core.settings import Settings
from stocky.runtime import Runtime
from stocky.schemas.actor import SYSTEM
from stocky_touch.app import Kiosk, run_kiosk_until_stopped


def test_kiosk_stops_with_the_reason_when_its_database_is_deleted(tmp_path, loop):
    settings = Settings(_env_file=None, data_dir=tmp_path, uda_api_url="http://127.0.0.1:9/{upc}")
    runtime = Runtime(settings, host="127.0.0.1", port=0, hid=False)
    kiosk = Kiosk(runtime, windowed=True)

    async def scenario() -> None:
        running = asyncio.ensure_future(run_kiosk_until_stopped(kiosk, asyncio.Event()))
        # Started: the window shows and the screen rests as its kitchen account.
        await eventually(lambda: kiosk.window is not None and kiosk.window.ctx.session.user is not None,
                         timeout=30, what="the kiosk started")
        (tmp_path / "stocky.db").unlink()
        # The very next change is refused, before the watch even looks.
        with pytest.raises(StorageFault, match="was deleted"):
            await runtime.services.locations.create({"name": "Pantry"}, SYSTEM)
        with pytest.raises(StorageRefused, match="was deleted while Stocky was running"):
            await asyncio.wait_for(running, 10)

    loop.run_until_complete(scenario())
    assert kiosk.window is None  # stopped in order, window gone
