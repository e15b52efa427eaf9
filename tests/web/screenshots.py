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

from browser_support import CHROMIUM, DEMO_ADMIN, StockyProcess, product_service  # noqa: E402
from fake_product_service import off_product, reply_json  # noqa: E402
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


PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def phone_screens(browser, url: str) -> None:
    """The phone as a daily tool, at 360x740 and 1280x800: the New item form,
    the shopping list offline with a tick not sent yet, Move everything's
    question; and /connect on a phone."""
    for size, prefix in ((PHONE, "phone"), (DESKTOP, "desktop")):
        phone = size is PHONE
        context = browser.new_context(viewport=size, device_scale_factor=2 if phone else 1,
                                      is_mobile=phone, has_touch=phone)
        page = context.new_page()
        sign_in(page, url)
        page.goto(url + "/new-item")
        page.get_by_label("Barcode", exact=True).fill("3017620422003")
        page.get_by_role("button", name="Look up").click()
        page.get_by_text("The product service knows it as").wait_for()
        page.get_by_label("How many").fill("2")
        page.screenshot(path=OUT / f"{prefix}-new-item.png")

        page.goto(url + "/shopping")
        page.locator(".shopping li").first.wait_for()
        context.set_offline(True)
        page.get_by_role("status").filter(has_text="Offline").wait_for()
        page.locator(".to-get").get_by_role("checkbox").first.click()  # the top row: in sight
        page.locator(".unsent").first.wait_for()  # seen after a moment, while the row stays put
        page.screenshot(path=OUT / f"{prefix}-offline-tick.png")
        context.set_offline(False)
        page.locator(".unsent").first.wait_for(state="detached")

        page.goto(url + "/locations")
        pantry = page.locator("li.location").filter(has=page.locator("strong", has_text="Pantry"))
        pantry.get_by_role("button", name="Move everything").click()
        pantry.get_by_role("button", name="Yes, move").wait_for()
        page.screenshot(path=OUT / f"{prefix}-move-question.png")
        context.close()

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(url + "/connect")
    page.screenshot(path=OUT / "phone-connect.png", full_page=True)
    context.close()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright, product_service() as (products, _):
        products.on("3017620422003", reply_json(off_product(product_name="Nutella", brands="Ferrero", quantity="400 g")))
        stocky = StockyProcess(Path(scratch) / "data", free_port(), STOCKY_HTTPS_PORT=str(free_port()),
                               UDA_API_URL=products.off_url)
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
            phone_screens(browser, stocky.url)
        finally:
            browser.close()
            stocky.stop()


if __name__ == "__main__":
    main()
