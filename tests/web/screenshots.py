"""Screenshots of StockyWeb for the README (docs/web/), from the demo kitchen:

    uv run python tests/web/screenshots.py
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import urllib.request
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_support import CHROMIUM, DEMO_ADMIN, StockyProcess  # noqa: E402
from mosquitto import free_port  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "docs" / "web"


def sign_in(page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Username").fill(DEMO_ADMIN[0])
    page.get_by_label("Password").fill(DEMO_ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    page.locator(".shell").wait_for()


def scan(url: str, key: str, msg: str) -> None:
    request = urllib.request.Request(
        url + "/api/v1/scanner/scan", data=json.dumps({"msg": msg}).encode(),
        headers={"X-API-Key": key, "Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=10).read()


def call(url: str, token: str, method: str, path: str, body: object = None) -> object:
    request = urllib.request.Request(
        url + "/api/v1" + path, data=None if body is None else json.dumps(body).encode(), method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request, timeout=10).read() or b"null")


def dates_and_trip(url: str) -> str:
    """Some dated stock for Use soon, a minimum and a tick for the trip; the
    milk's id, for its item page."""
    login = urllib.request.Request(
        url + "/api/v1/auth/login", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"username": DEMO_ADMIN[0], "password": DEMO_ADMIN[1]}).encode())
    token = json.loads(urllib.request.urlopen(login, timeout=10).read())["access_token"]
    items = {i["name"]: i for i in call(url, token, "GET", "/item?stock=all&limit=100")["data"]}
    for name, days in (("Greek yoghurt 500 g", -1), ("Whole milk 2 l", 2), ("Free-range eggs, 6", 5),
                       ("Hummus 200 g", 6)):
        sku = call(url, token, "GET", f"/item/{items[name]['id']}")["skus"][0]["id"]
        best_before = (date.today() + timedelta(days=days)).isoformat()
        call(url, token, "POST", f"/sku/{sku}/date", {"best_before": best_before})
    call(url, token, "PATCH", f"/item/{items['Whole milk 2 l']['id']}", {"min_quantity": 4})
    call(url, token, "PATCH", f"/item/{items['Peanut butter 340 g']['id']}", {"in_basket": True})
    return items["Whole milk 2 l"]["id"]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        stocky = StockyProcess(Path(scratch) / "data", free_port())
        key = re.search(r"API key: (\S+)", stocky.cli("demo-data")).group(1)
        stocky.start()
        milk = dates_and_trip(stocky.url)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
            phone.goto(stocky.url)
            phone.screenshot(path=OUT / "phone-sign-in.png")
            sign_in(phone, stocky.url)
            phone.get_by_role("listitem").filter(has_text="Chickpeas").get_by_role("button").first.click()
            phone.get_by_role("button", name="One more Chickpeas 400 g in Pantry").wait_for()
            phone.screenshot(path=OUT / "phone-inventory.png")
            phone.goto(stocky.url + "/shopping")
            phone.locator(".shopping li").first.wait_for()
            phone.screenshot(path=OUT / "phone-shopping.png")
            phone.goto(stocky.url + "/use-soon")
            phone.locator(".use-soon li").first.wait_for()
            phone.screenshot(path=OUT / "phone-use-soon.png")
            phone.goto(stocky.url + f"/item/{milk}")
            phone.get_by_role("list", name="Dates in Fridge").wait_for()
            phone.screenshot(path=OUT / "phone-item-dates.png", full_page=True)

            desktop = browser.new_page(viewport={"width": 1280, "height": 800})
            sign_in(desktop, stocky.url)
            desktop.get_by_role("listitem").filter(has_text="Chickpeas").get_by_role("button").first.click()
            desktop.get_by_role("button", name="One more Chickpeas 400 g in Pantry").wait_for()
            ui_id = desktop.evaluate("localStorage.getItem('stocky.ui_id')")
            scan(stocky.url, key, json.dumps({"command": "associate_ui", "payload": ui_id}))
            scan(stocky.url, key, "5000232824715")  # tuna, from the kitchen's scanner
            desktop.get_by_text("Added Tuna chunks in brine").wait_for()
            desktop.screenshot(path=OUT / "desktop-inventory.png")
            desktop.goto(stocky.url + "/labels")
            desktop.locator("figure.label img").first.wait_for()
            desktop.wait_for_timeout(800)
            desktop.screenshot(path=OUT / "desktop-labels.png")
        finally:
            browser.close()
            stocky.stop()


if __name__ == "__main__":
    main()
