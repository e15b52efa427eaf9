"""StockyWeb in a real browser: Debian's Chromium driven by Playwright
against a real ``stocky serve`` on loopback, one server and one browser per
module. Skipped, with the reason, where Chromium or Playwright is missing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from browser_support import CHROMIUM, Kitchen, chromium_args, demo_kitchen, qr_video  # noqa: E402


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kitchen]:
    with demo_kitchen(tmp_path_factory.mktemp("web")) as running:
        yield running


# What the fake camera shows: a QR code holding the coffee beans' barcode.
CAMERA_SHOWS = "8000070038523"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    video = qr_video(CAMERA_SHOWS, tmp_path_factory.mktemp("camera") / "qr.y4m")
    args = chromium_args(
        "--use-fake-ui-for-media-stream",  # allow the camera without asking
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield browser
        finally:
            browser.close()


