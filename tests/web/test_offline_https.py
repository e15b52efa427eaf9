"""Over HTTPS StockyWeb installs a service worker for its shell, so on a
phone with no signal the app still opens, with the shopping list it kept."""

from __future__ import annotations

import asyncio
import threading

import pytest
from browser_support import sign_in
from test_tls import free_port

from stocky.core.settings import Settings
from stocky.runtime import Runtime

expect = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed").expect


@pytest.fixture(scope="module")
def https_url(tmp_path_factory):
    """Stocky with the demo kitchen over HTTPS, on its own event loop thread."""
    directory = tmp_path_factory.mktemp("https")
    settings = Settings(_env_file=None, data_dir=directory / "data", https_port=free_port(),
                        uda_api_url="http://127.0.0.1:9/{upc}", mqtt_url=None)
    runtime = Runtime(settings, demo=True, host="127.0.0.1", port=0, hid=False)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(runtime.start(), loop).result(60)
        yield f"https://localhost:{runtime.https.port}"
        asyncio.run_coroutine_threadsafe(runtime.stop(), loop).result(30)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_with_https_the_shell_and_the_kept_shopping_list_open_offline(browser, https_url):
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 360, "height": 740})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, https_url, path="/shopping")
        tea = page.locator(".shopping li").filter(has_text="Black tea, 80 bags")
        expect(tea).to_have_count(1)
        assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now under the worker: the shell's files pass through it and are kept
        expect(tea).to_have_count(1)

        context.set_offline(True)
        page.reload()
        expect(page.get_by_role("status")).to_have_text("No connection to Stocky.")
        expect(tea).to_have_count(1)
        expect(page.get_by_role("button", name="Try again")).to_be_visible()
    finally:
        context.close()
