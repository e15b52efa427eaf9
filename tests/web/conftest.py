"""StockyWeb in a real browser: Debian's Chromium driven by Playwright
against a real ``stocky serve`` on loopback, one server and one browser per
module. Skipped, with the reason, where Chromium or Playwright is missing."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
for helpers in (TESTS / "reliability", TESTS / "integration"):
    if str(helpers) not in sys.path:
        sys.path.insert(0, str(helpers))

from mosquitto import free_port  # noqa: E402
from reliability_support import StockyProcess  # noqa: E402

CHROMIUM = Path(os.environ.get("STOCKY_TEST_CHROMIUM", "/usr/bin/chromium"))
DEMO_ADMIN = ("admin", "stocky-demo")
TIMEOUT_MS = 5000


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


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kitchen]:
    stocky = StockyProcess(tmp_path_factory.mktemp("web") / "data", free_port())
    printed = stocky.cli("demo-data")
    key = re.search(r"API key: (\S+)", printed)
    assert key, printed
    stocky.start()
    try:
        yield Kitchen(stocky, key.group(1))
    finally:
        stocky.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses its sandbox as root
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Any, url: str, username: str = DEMO_ADMIN[0], password: str = DEMO_ADMIN[1], path: str = "/") -> None:
    page.goto(url + path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator(".shell").wait_for(timeout=TIMEOUT_MS)  # signed in: the app's frame is up


def decode_qr_codes(pixels: memoryview) -> list[str]:
    """Every QR code in a greyscale image (rows x columns), by zxing-cpp."""
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp is not installed")
    return [code.text for code in zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode)]


def png_pixels(png_bytes: bytes) -> memoryview:
    import png  # pypng, which qrcode[png] brings

    width, height, rows, info = png.Reader(bytes=png_bytes).asRGBA8()
    grey = bytearray()
    for row in rows:
        grey.extend(row[0::4])  # black on white: the red channel is enough
    return memoryview(bytes(grey)).cast("B", (height, width))
