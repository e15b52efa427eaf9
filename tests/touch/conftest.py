"""Touch UI tests: real widgets off screen, on a real qasync loop, over a
real kiosk runtime (SQLite file, HTTP site on a loopback port)."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from stocky.core.settings import Settings  # noqa: E402
from stocky.runtime import Runtime  # noqa: E402
from stocky.schemas.actor import SYSTEM  # noqa: E402
from stocky_touch.app import Kiosk, new_qt_loop  # noqa: E402


@pytest.fixture(scope="session")
def qapp_instance() -> Iterator[QApplication]:
    app = QApplication.instance() or QApplication([])
    yield app
    # Destroy every Qt object while Python still runs: PySide6 can abort at
    # interpreter exit when widgets outlive the application.
    for widget in app.topLevelWidgets():
        widget.deleteLater()
    app.processEvents()
    gc.collect()
    app.shutdown()


@pytest.fixture
def loop(qapp_instance: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop; tests run their scenario with ``loop.run_until_complete``."""
    event_loop = new_qt_loop(qapp_instance)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    event_loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def kiosk_factory(tmp_path, loop):
    """Start a kiosk (demo kitchen) and stop it after the test."""
    started: list[Kiosk] = []

    def make(demo: bool = True, **settings) -> Kiosk:
        runtime = Runtime(Settings(data_dir=tmp_path, **settings), demo=demo, host="127.0.0.1", port=0)
        kiosk = Kiosk(runtime, windowed=True)
        loop.run_until_complete(kiosk.start())
        started.append(kiosk)
        return kiosk

    yield make
    for kiosk in started:
        loop.run_until_complete(kiosk.stop())
    # Outside any coroutine: actually delete what deleteLater() scheduled.
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()



def as_admin(kiosk: Kiosk, loop: asyncio.AbstractEventLoop) -> None:
    """Switch the screen from the kitchen account to the demo Admin (what
    the sign-in page does once the password is right)."""
    admin = loop.run_until_complete(kiosk.runtime.services.users.by_username("admin", SYSTEM))
    kiosk.window.ctx.session.sign_in(admin)
