"""Helpers of the browser tests (imported by name: tests/web is on
``sys.path`` when its modules run): the running kitchen's doors, signing in,
and the pixels of screenshots, to read QR codes from (support/qr.py)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
for helpers in (TESTS, TESTS / "reliability", TESTS / "integration"):  # TESTS: support/
    if str(helpers) not in sys.path:
        sys.path.insert(0, str(helpers))

from fake_product_service import FakeProductService  # noqa: E402
from mosquitto import free_port  # noqa: E402
from reliability_support import StockyProcess  # noqa: E402

CHROMIUM = Path(os.environ.get("STOCKY_TEST_CHROMIUM", "/usr/bin/chromium"))
DEMO_ADMIN = ("admin", "stocky-demo")
TIMEOUT_MS = 5000
LIVE_MS = 1500  # "within a second", with room for a busy CI machine


@dataclass
class Kitchen:
    """A running Stocky with the demo kitchen, and its doors for the tests."""

    process: StockyProcess
    scanner_key: str

    @property
    def url(self) -> str:
        return self.process.url

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=sent)
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return json.loads(raw) if raw and "json" in response.headers.get("Content-Type", "") else raw

    def admin(self) -> dict[str, str]:
        token = self.request("POST", "/api/v1/auth/login",
                             {"username": DEMO_ADMIN[0], "password": DEMO_ADMIN[1]})["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def scan(self, msg: str) -> Any:
        """A scan from another door: the HTTP scanner with its key."""
        return self.request("POST", "/api/v1/scanner/scan", {"msg": msg}, {"X-API-Key": self.scanner_key})

    def item_named(self, name: str) -> dict[str, Any]:
        found = self.request("GET", f"/api/v1/item?stock=all&search={urllib.parse.quote(name)}", headers=self.admin())
        return found["data"][0]


@contextmanager
def demo_kitchen(directory: Path, **env: str) -> Iterator[Kitchen]:
    """A running Stocky with the demo kitchen in ``directory``; ``env``: its
    settings (``STOCKY_...`` variables) other than the defaults."""
    stocky = StockyProcess(directory / "data", free_port(), **env)
    printed = stocky.cli("demo-data")
    key = re.search(r"API key: (\S+)", printed)
    assert key, printed
    stocky.start()
    try:
        yield Kitchen(stocky, key.group(1))
    finally:
        stocky.stop()


def sign_in(page: Any, url: str, username: str = DEMO_ADMIN[0], password: str = DEMO_ADMIN[1], path: str = "/") -> None:
    page.goto(url + path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator(".shell").wait_for(timeout=TIMEOUT_MS)  # signed in: the app's frame is up


def entry(page: Any, name: str) -> Any:
    """The inventory's list entry of one item."""
    return page.get_by_role("listitem").filter(has=page.get_by_text(name, exact=True))


def open_account_menu(page: Any) -> None:
    """Where one's own controls are: the end of the phone's menu, the list
    under one's name on a computer."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    account = page.get_by_role("button", name=re.compile("^Account: "))
    if account.is_visible():
        account.click()


def png_pixels(png_bytes: bytes) -> memoryview:
    import png  # pypng, which qrcode[png] brings

    width, height, rows, info = png.Reader(bytes=png_bytes).asRGBA8()
    grey = bytearray()
    for row in rows:
        grey.extend(row[0::4])  # black on white: the red channel is enough
    return memoryview(bytes(grey)).cast("B", (height, width))


def qr_video(text: str, path: Path, width: int = 320, height: int = 240) -> Path:
    """A still video (Y4M) of a QR code holding ``text``: Chromium's fake
    camera plays it, so the camera scan is tested with a real decoder."""
    import qrcode

    code = qrcode.QRCode(border=4)
    code.add_data(text)
    matrix = code.get_matrix()
    scale = min(width, height) // len(matrix)
    left, top = (width - scale * len(matrix)) // 2, (height - scale * len(matrix)) // 2
    luma = bytearray([235]) * (width * height)
    for row, cells in enumerate(matrix):
        for column, dark in enumerate(cells):
            if dark:
                for y in range(top + row * scale, top + (row + 1) * scale):
                    start = y * width + left + column * scale
                    luma[start:start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (width // 2 * height // 2)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode() + frame * 5)
    return path


def chromium_args(*extra: str) -> list[str]:
    """Chromium's switches for the tests: Chromium refuses its sandbox as root."""
    return [*extra, "--no-sandbox"] if os.geteuid() == 0 else list(extra)


def trust_like_a_phone(ca: Path, home: Path) -> dict[str, str]:
    """A home whose NSS database trusts Stocky's CA, as a phone does once
    /connect's certificate is installed; the environment that makes
    Chromium read it (on Linux Chromium reads ``$HOME/.pki/nssdb``)."""
    if shutil.which("certutil") is None:
        pytest.skip("no certutil (apt-get install libnss3-tools)")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    for args in (["-N", "--empty-password"], ["-A", "-t", "C,,", "-n", "Stocky", "-i", str(ca)]):
        subprocess.run(["certutil", "-d", f"sql:{nssdb}", *args], check=True, capture_output=True, timeout=30)
    return {**os.environ, "HOME": str(home)}


@contextmanager
def product_service() -> Iterator[tuple[FakeProductService, asyncio.AbstractEventLoop]]:
    """The fake Open Food Facts on 127.0.0.1, on an event loop thread of its own."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    service = FakeProductService()
    try:
        asyncio.run_coroutine_threadsafe(service.start(), loop).result(10)
        yield service, loop
        asyncio.run_coroutine_threadsafe(service.close(), loop).result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
