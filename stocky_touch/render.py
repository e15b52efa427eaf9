"""Render every tab and page to PNG, for the README and for looking at the
screens without a touchscreen:

    QT_QPA_PLATFORM=offscreen uv run python -m stocky_touch.render docs/screens

It runs a real kiosk (demo kitchen, temporary database) off screen.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

SIZE = (1280, 800)


async def render(out: Path) -> list[Path]:
    from stocky.core.settings import Settings
    from stocky.runtime import Runtime
    from stocky_touch.app import Kiosk

    out.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="stocky-render-"))
    kiosk = Kiosk(Runtime(Settings(data_dir=data), demo=True, host="127.0.0.1", port=0), windowed=True)
    await kiosk.start()
    window = kiosk.window
    window.resize(*SIZE)
    written: list[Path] = []

    async def settle() -> None:
        # Sleeping lets the Qt loop run the views' loads and repaint; never
        # processEvents() inside a coroutine (it re-enters the loop).
        await asyncio.sleep(0.4)

    async def shot(name: str) -> None:
        await settle()
        path = out / f"{name}.png"
        window.grab().save(str(path))
        written.append(path)

    try:
        await settle()
        inventory = window.inventory
        first = inventory.model.item_at(0)
        inventory.expand(first.id)
        await shot("inventory")
        window.inventory.set_filter("zero")
        await shot("shopping-list")
        window.inventory.set_filter("in")
        for view in ("locations", "scanners", "log", "users"):
            window.show_view(view)
            await shot(view)
        window.open_item(first.id)
        await shot("item")
        window.show_alerts()
        await shot("alerts")
        window.show_sign_in()
        window.signin_page.password.setFocus()
        await shot("sign-in")
    finally:
        await kiosk.stop()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default="docs/screens", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from stocky_touch.app import new_qt_loop

    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = new_qt_loop(app)
    asyncio.set_event_loop(loop)
    try:
        for path in loop.run_until_complete(render(args.out)):
            print(path)
    finally:
        loop.close()


if __name__ == "__main__":
    main()
