"""B3: from sending a scan to the inventory view showing the new quantity.

In process, as the touch tests do it: a Kiosk (real window, off screen) on
a qasync loop over a real runtime on a loopback port. A thread plays the
scanner: it posts the scan over HTTP (keep-alive, blocking ``http.client``,
so the client never competes for the Qt loop). The moment the view shows
the new count is caught by the InventoryModel's own signals (reset, rows
changed) and, as a fallback, by polling it every 2 ms.

Beside it, measured on the same scans: the HTTP answer (what the scanner
waits for) and the event on the service bus (the earliest moment the screen
could know: everything after it is the screen's own doing).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import http.client
import json
import random
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from tests.bench.common import BenchResult, Kitchen, Row, prepare_kitchen, run_async, summary_ms

TARGET_MS = 50.0


class Scanner:
    """A keep-alive HTTP client in one thread."""

    def __init__(self, port: int, key: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.headers = {"X-API-Key": key, "Content-Type": "application/json"}
        self.lock = threading.Lock()

    def scan(self, code: str) -> tuple[int, float, dict[str, Any]]:
        with self.lock:
            self.conn.request("POST", "/api/v1/scanner/scan", body=json.dumps({"msg": code}), headers=self.headers)
            response = self.conn.getresponse()
            body = response.read()
            return response.status, time.perf_counter(), json.loads(body)


def b3(cfg: dict[str, Any], work: Path) -> BenchResult:
    out = BenchResult("B3", "Scan to screen: the kiosk's inventory view shows the new quantity")
    kitchen = run_async(prepare_kitchen(work / "b3-data", scanners=1, items=60))
    details = _measure(kitchen, cfg["screen_scans"])
    screen, http_answer, bus = details["screen"], details["http"], details["bus"]
    for q in ("p50", "p99"):
        key = f"{q}_ms"
        met = screen[key] < TARGET_MS if q == "p99" else None
        out.rows.append(Row(
            "B3", f"scan to screen {q}", screen[key], "ms", http_answer[key], "HTTP answer to the scanner",
            screen[key] / http_answer[key] if http_answer[key] else None, "screen/answer",
            f"< {TARGET_MS:g} ms" if q == "p99" else "", met,
        ))
        out.rows.append(Row(
            "B3", f"scan to event on the bus {q}", bus[key], "ms", http_answer[key], "HTTP answer to the scanner",
            bus[key] / http_answer[key] if http_answer[key] else None, "event/answer",
            note="the earliest the screen could know",
        ))
    out.details = details
    return out


def _measure(kitchen: Kitchen, scans: int) -> dict[str, Any]:
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from stocky.core.settings import Settings
    from stocky.runtime import Runtime
    from stocky_touch.app import Kiosk, new_qt_loop

    app = QApplication.instance() or QApplication([])
    loop = new_qt_loop(app)
    asyncio.set_event_loop(loop)
    settings = Settings(_env_file=None, data_dir=Path(kitchen.data_dir))
    kiosk = Kiosk(Runtime(settings, host="127.0.0.1", port=0, hid=False), windowed=True)
    try:
        return loop.run_until_complete(_scenario(kiosk, kitchen, scans))
    finally:
        loop.run_until_complete(kiosk.stop())
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        gc.collect()
        loop.close()
        asyncio.set_event_loop(None)


async def _scenario(kiosk: Any, kitchen: Kitchen, scans: int) -> dict[str, Any]:
    await kiosk.start()
    window = kiosk.window
    view = window.inventory
    model = view.model
    services = kiosk.runtime.services
    loop = asyncio.get_running_loop()

    # The inventory on screen, every bench product on it (60 < one page of 100).
    window.stack.setCurrentWidget(window.tabs)
    window.tabs.setCurrentWidget(view)
    deadline = time.monotonic() + 10
    while model.rowCount() < len(kitchen.item_ids) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    if model.rowCount() < len(kitchen.item_ids):
        raise RuntimeError(f"the inventory shows {model.rowCount()} of {len(kitchen.item_ids)} items")

    waiting: dict[str, Any] = {}

    def shown() -> None:
        if not waiting or "screen" in waiting:
            return
        row = model.row_of(waiting["item_id"])
        if row is not None and model.item_at(row).total_quantity >= waiting["expected"]:
            waiting["screen"] = time.perf_counter()
            waiting["done"].set()

    for signal in (model.modelReset, model.dataChanged, model.rowsInserted, model.layoutChanged):
        signal.connect(lambda *_a: shown())

    def on_event(event: Any) -> None:
        if waiting and "bus" not in waiting and event.entity == "item" and event.id == str(waiting["item_id"]):
            waiting["bus"] = time.perf_counter()

    unsubscribe = services.bus.subscribe(on_event)
    scanner = Scanner(kiosk.runtime.bound_port, kitchen.scanner_keys[0])
    codes = dict(zip(kitchen.item_ids, kitchen.barcodes, strict=True))
    rng = random.Random(3)
    screen, answer, bus, misses = [], [], [], 0
    try:
        for n in range(scans + 3):  # the first three warm up
            item_id = uuid.UUID(rng.choice(kitchen.item_ids))
            row = model.row_of(item_id)
            expected = model.item_at(row).total_quantity + 1
            waiting.clear()
            waiting.update(item_id=item_id, expected=expected, done=asyncio.Event())
            sent = time.perf_counter()
            status, answered, body = await loop.run_in_executor(None, scanner.scan, codes[str(item_id)])
            if status != 200 or body.get("quantity") is None:
                raise RuntimeError(f"scan answered {status}: {body}")
            try:
                while not waiting["done"].is_set():
                    shown()
                    if time.perf_counter() - sent > 5:
                        raise TimeoutError
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(waiting["done"].wait(), 0.002)
            except TimeoutError:
                misses += 1
                continue
            if n >= 3:
                screen.append(waiting["screen"] - sent)
                answer.append(answered - sent)
                if "bus" in waiting:
                    bus.append(waiting["bus"] - sent)
            # A person scans the next thing a moment later.
            await asyncio.sleep(rng.uniform(0.05, 0.15))
    finally:
        unsubscribe()
        scanner.conn.close()
    return {
        "screen": summary_ms(screen), "http": summary_ms(answer), "bus": summary_ms(bus),
        "not_shown_within_5s": misses,
        "problems": [f"{misses} scans not shown within 5 s"] if misses else [],
    }
