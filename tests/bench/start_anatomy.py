"""Where the kiosk's start goes (a diagnostic, not part of the table).

    uv run python -m tests.bench.start_anatomy

A fresh process on a prepared data directory: the time since the process
began at each step of what ``stocky kiosk`` does, with the runtime's and
the window's own steps timed by wrapping them (nothing in Stocky changes).
Run it twice and read the second (the first fills the page cache).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time


def since_process_start() -> float:
    with open("/proc/self/stat", encoding="ascii") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime", encoding="ascii") as f:
        uptime = float(f.read().split()[0])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


MARKS: list[tuple[str, float]] = []


def mark(label: str) -> None:
    MARKS.append((label, since_process_start()))


def wrap(owner: object, name: str, label: str) -> None:
    original = getattr(owner, name)
    if asyncio.iscoroutinefunction(original):
        async def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                MARKS.append((f"  {label} took {1000 * (time.perf_counter() - t0):.0f} ms", since_process_start()))
    else:
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                MARKS.append((f"  {label} took {1000 * (time.perf_counter() - t0):.0f} ms", since_process_start()))
    setattr(owner, name, timed)


def main() -> None:
    mark("interpreter up")
    from pathlib import Path

    from tests.bench.common import prepare_kitchen, sanitize_own_environ

    sanitize_own_environ()
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    if data is None or not (data / "stocky.db").exists():
        import tempfile

        data = Path(tempfile.mkdtemp(prefix="stocky-start-")) / "data"
        asyncio.run(prepare_kitchen(data, scanners=4))
        print(f"prepared {data}; run again with it as the argument for a clean figure")
    mark("bench helpers imported")
    import PySide6.QtWidgets  # noqa: F401

    mark("PySide6.QtWidgets imported")
    import stocky.runtime  # noqa: F401

    mark("stocky.runtime imported (aiohttp, SQLAlchemy, alembic, pydantic, aiomqtt)")
    import stocky_touch.app as app_module
    import stocky_touch.main_window  # noqa: F401

    mark("stocky_touch imported")
    from stocky.api import app as api_app
    from stocky.db import migrations
    from stocky.runtime import Runtime
    from stocky.services import container
    from stocky_touch import main_window

    wrap(migrations, "upgrade", "migrations.upgrade (alembic)")
    wrap(container.Services, "create", "Services.create")
    wrap(stocky.runtime, "create_app", "create_app (routes, OpenAPI)")
    wrap(main_window.MainWindow, "__init__", "MainWindow()")
    wrap(main_window.MainWindow, "start", "MainWindow.start()")
    wrap(app_module, "choose_kiosk_user", "choose_kiosk_user")
    del api_app

    from PySide6.QtWidgets import QApplication

    from stocky.core.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    mark("QApplication")
    loop = app_module.new_qt_loop(app)
    asyncio.set_event_loop(loop)
    kiosk = app_module.Kiosk(Runtime(Settings(_env_file=None, data_dir=data), host="127.0.0.1", port=0), windowed=True)
    loop.run_until_complete(kiosk.start())
    mark("Kiosk.start() returned (the API answers from here on)")

    async def settle() -> None:
        await asyncio.sleep(0.5)

    loop.run_until_complete(settle())
    loop.run_until_complete(kiosk.stop())
    previous = 0.0
    for label, at in MARKS:
        delta = "" if label.startswith("  ") else f"(+{1000 * (at - previous):5.0f} ms)"
        print(f"{at:6.2f} s {delta:>13}  {label}")
        if not label.startswith("  "):
            previous = at


if __name__ == "__main__":
    main()
