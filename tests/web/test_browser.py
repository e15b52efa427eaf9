"""What a person does with StockyWeb, in Chromium against a real Stocky:
sign in, search, change a quantity, see another door's scan arrive live,
read the shopping list on a phone, link a scanner, sign out and be signed
out by a new password, print labels whose QR codes decode, date a unit
just added and eat it from Use soon, tick items off on a shopping trip,
undo a tap or a scan from its banner and an older change from the history."""

from __future__ import annotations

import json
import re
import urllib.error
import uuid
from datetime import date, timedelta

import pytest
from browser_support import (
    LIVE_MS,
    TIMEOUT_MS,
    entry,
    open_account_menu,
    png_pixels,
    sign_in,
)
from support.qr import decode_qr_codes

expect = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed").expect


@pytest.fixture(scope="module")
def signed_in(browser, kitchen):
    """One desktop tab signed in once (bcrypt is slow on purpose); each test
    opens its page by address, as a person following a link would."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, kitchen.url)
    yield page, errors
    context.close()


@pytest.fixture
def desktop(signed_in):
    page, errors = signed_in
    yield page
    assert not errors, errors  # no script error on any page a test visited


def open_page(page, kitchen, path: str = "/") -> None:
    page.goto(kitchen.url + path)
    page.locator(".shell").wait_for()


def test_sign_in_search_and_change_a_quantity(desktop, kitchen):
    expect(desktop.get_by_role("heading", name="Inventory")).to_be_visible()  # where sign-in led
    desktop.get_by_label("Search").fill("chickpeas")
    chickpeas = entry(desktop, "Chickpeas 400 g")
    expect(desktop.get_by_role("listitem").filter(has_text="Spaghetti")).to_have_count(0)
    before = kitchen.item_named("Chickpeas 400 g")["total_quantity"]
    expect(chickpeas).to_contain_text(f"{before} in total")

    chickpeas.get_by_role("button", name=re.compile("Chickpeas")).click()
    chickpeas.get_by_role("button", name="One more Chickpeas 400 g in Pantry").click()
    expect(chickpeas).to_contain_text(f"{before + 1} in total")
    assert kitchen.item_named("Chickpeas 400 g")["total_quantity"] == before + 1
    chickpeas.get_by_role("button", name="One less Chickpeas 400 g in Pantry").click()
    expect(chickpeas).to_contain_text(f"{before} in total")


def test_a_scan_at_another_door_shows_without_reloading(desktop, kitchen):
    open_page(desktop, kitchen)
    tuna = entry(desktop, "Tuna chunks in brine")
    before = kitchen.item_named("Tuna chunks in brine")["total_quantity"]
    expect(tuna).to_contain_text(f"{before} in total")
    kitchen.scan("5000232824715")  # the tuna's barcode, from the HTTP scanner
    expect(tuna).to_contain_text(f"{before + 1} in total", timeout=LIVE_MS)


def test_after_a_lost_connection_it_catches_up_with_what_it_missed(desktop, kitchen):
    open_page(desktop, kitchen)
    rice = entry(desktop, "Basmati rice 1 kg")
    before = kitchen.item_named("Basmati rice 1 kg")["total_quantity"]
    expect(rice).to_contain_text(f"{before} in total")
    desktop.context.set_offline(True)
    reconnecting = desktop.get_by_role("status").filter(has_text="Reconnecting")
    expect(reconnecting).to_be_visible()
    kitchen.scan("5011157630019")  # the rice, while this browser is away
    desktop.context.set_offline(False)
    expect(rice).to_contain_text(f"{before + 1} in total", timeout=TIMEOUT_MS)
    expect(reconnecting).to_have_count(0)


def test_filters_show_the_shopping_list_and_everything(desktop, kitchen):
    hummus = kitchen.item_named("Hummus 200 g")
    have = hummus["total_quantity"]
    kitchen.request("PATCH", f"/api/v1/item/{hummus['id']}", {"min_quantity": have + 2}, kitchen.admin())
    open_page(desktop, kitchen)
    expect(entry(desktop, "Whole milk 2 l")).to_have_count(1)
    desktop.get_by_role("button", name="Shopping list").click()
    expect(desktop).to_have_url(kitchen.url + "/?stock=shopping")  # the same list as /shopping
    expect(entry(desktop, "Black tea, 80 bags").locator(".item-total")).to_have_text("none at homeget 1")
    expect(entry(desktop, "Hummus 200 g").locator(".item-total")).to_have_text(f"{have} in totalget 2")  # below its minimum
    expect(entry(desktop, "Whole milk 2 l")).to_have_count(0)
    kitchen.request("PATCH", f"/api/v1/item/{hummus['id']}", {"min_quantity": 0}, kitchen.admin())
    expect(entry(desktop, "Hummus 200 g")).to_have_count(0, timeout=LIVE_MS)
    desktop.get_by_role("button", name="All").click()
    expect(entry(desktop, "Black tea, 80 bags")).to_have_count(1)
    expect(entry(desktop, "Whole milk 2 l")).to_have_count(1)


def test_shopping_list_on_a_phone_fits_and_stays_when_the_signal_goes(browser, kitchen):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, kitchen.url, path="/shopping")
        items = page.locator(".shopping li")
        expect(items.filter(has_text="Black tea, 80 bags")).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        for control in page.locator("button:visible, a:visible").all():
            box = control.bounding_box()
            assert box and box["height"] >= 44, (control.inner_text(), box)
        shown = items.all_inner_texts()

        context.set_offline(True)
        expect(page.get_by_role("status").filter(has_text="Offline")).to_be_visible(timeout=20_000)
        assert items.all_inner_texts() == shown
        tea = page.get_by_role("checkbox", name="Black tea, 80 bags is in the basket")
        tea.tap()  # kept on the phone, marked, until Stocky can have it
        expect(tea).to_be_checked()
        unsent = items.filter(has_text="Black tea, 80 bags").locator(".unsent")
        expect(unsent).to_have_text("not sent yet")
        assert kitchen.item_named("Black tea, 80 bags")["in_basket"] is False

        context.set_offline(False)  # the signal is back: the tick goes, the offline notice and the mark too
        expect(page.get_by_role("status").filter(has_text="Offline")).to_have_count(0, timeout=20_000)
        expect(unsent).to_have_count(0)
        assert kitchen.item_named("Black tea, 80 bags")["in_basket"] is True
        tea.tap()  # taken out of the basket again, at once
        expect(tea).not_to_be_checked()
        expect(unsent).to_have_count(0)
    finally:
        context.close()


def test_link_a_scanner_then_its_cards_drive_this_page(desktop, kitchen):
    open_page(desktop, kitchen)
    desktop.get_by_role("button", name="Link a scanner").click()
    code = desktop.get_by_role("dialog").get_by_role("img", name="Link a scanner")
    expect(code).to_be_visible()
    expect(code).to_have_js_property("complete", True)
    [payload] = decode_qr_codes(png_pixels(code.screenshot()))
    card = json.loads(payload)
    assert card["command"] == "associate_ui" and uuid.UUID(card["payload"])
    assert card["payload"] == desktop.evaluate("localStorage.getItem('stocky.ui_id')")
    desktop.get_by_role("button", name="Close").click()

    kitchen.scan(payload)  # the scanner reads the code on the screen
    expect(desktop.get_by_role("status").filter(has_text="Scanner linked to this screen")).to_be_visible(timeout=LIVE_MS)
    kitchen.scan(json.dumps({"command": "show_view", "payload": "log"}))
    expect(desktop).to_have_url(kitchen.url + "/log", timeout=LIVE_MS)
    kitchen.scan(json.dumps({"command": "show_view", "payload": "use_soon"}))
    expect(desktop).to_have_url(kitchen.url + "/use-soon", timeout=LIVE_MS)
    kitchen.scan("8000070038523")  # coffee beans
    banner = desktop.get_by_role("status").filter(has_text=re.compile(r"Added Coffee beans 1 kg to Pantry \(now \d+\)"))
    expect(banner).to_be_visible(timeout=LIVE_MS)
    banner.get_by_role("button", name="1 week").click()  # the bag the scanner just added gets its date
    expect(banner).to_contain_text("Best before")
    coffee = kitchen.request("GET", f"/api/v1/item/{kitchen.item_named('Coffee beans 1 kg')['id']}", headers=kitchen.admin())
    week = (date.today() + timedelta(weeks=1)).isoformat()
    assert [(lot["best_before"], lot["quantity"]) for s in coffee["skus"] for lot in s["lots"]] == [(week, 1)]


def test_the_camera_loads_its_decoder_only_when_opened_and_scans(desktop, kitchen):
    fetched: list[str] = []
    desktop.on("request", lambda request: fetched.append(request.url))
    open_page(desktop, kitchen)
    before = kitchen.item_named("Coffee beans 1 kg")["total_quantity"]
    assert not [url for url in fetched if "/assets/decoder-" in url or "/assets/Camera-" in url]
    menu = desktop.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    desktop.get_by_role("button", name="Scan with the camera").click()
    camera = desktop.get_by_role("dialog", name="Scan with the camera")
    expect(camera.get_by_role("status")).to_have_text(f"Added Coffee beans 1 kg to Pantry (now {before + 1})",
                                                      timeout=15_000)
    assert [url for url in fetched if "/assets/Camera-" in url]
    if desktop.evaluate("!('BarcodeDetector' in window)"):  # Chromium on Linux: Stocky's own decoder
        assert [url for url in fetched if "/assets/decoder-" in url]
    camera.get_by_role("button", name="Close").click()
    assert kitchen.item_named("Coffee beans 1 kg")["total_quantity"] == before + 1


def test_scanners_alerts_log_and_users_from_the_menu(desktop, kitchen):
    open_page(desktop, kitchen, "/scanners")
    scanner = desktop.locator("li.scanner").filter(has_text="Kitchen scanner")
    scanner.get_by_label("Mode").select_option("remove")
    expect(scanner.get_by_label("Mode")).to_have_value("remove")
    states = kitchen.request("GET", "/api/v1/scanner/status", headers=kitchen.admin())["data"]
    assert [s["current_mode"] for s in states if s["username"] == "Kitchen scanner"] == ["remove"]
    scanner.get_by_label("Mode").select_option("add")

    count = desktop.locator(".alert-count")
    before = int(count.inner_text().split()[-1])
    kitchen.request("POST", "/api/v1/alert", {"message": "The freezer door is open"}, headers=kitchen.admin())
    expect(count).to_have_accessible_name(f"{before + 1} open alerts", timeout=LIVE_MS)  # live, on any page
    count.click()
    alert = desktop.get_by_role("listitem").filter(has_text="The freezer door is open")
    alert.get_by_role("button", name="Acknowledge").click()
    expect(alert).to_have_count(0)
    expect(count).to_have_accessible_name(f"{before} open alerts")

    desktop.get_by_role("link", name="Log").click()
    entries = desktop.locator("ul.log li")
    desktop.get_by_label("Search").fill("freezer door")
    expect(entries.first).to_contain_text("The freezer door is open")
    expect(entries.filter(has_not_text="freezer door")).to_have_count(0)

    desktop.get_by_role("link", name="Users").click()
    name = f"cook-{uuid.uuid4().hex[:6]}"
    form = desktop.locator("form", has=desktop.get_by_role("heading", name="New user"))
    form.get_by_label("Username").fill(name)
    form.get_by_label("Password").fill("a-Cook-Secret-1")
    form.get_by_role("button", name="Add user").click()
    expect(desktop.locator("li.user").filter(has_text=name)).to_contain_text("Member")


def test_two_tabs_of_one_browser_both_stay_live_and_one_is_the_screen(desktop, kitchen):
    open_page(desktop, kitchen, "/")
    second = desktop.context.new_page()
    try:
        open_page(second, kitchen, "/")  # shares the refresh cookie: the tabs take turns renewing it
        ui_id = desktop.evaluate("localStorage.getItem('stocky.ui_id')")
        kitchen.scan(json.dumps({"command": "associate_ui", "payload": ui_id}))
        kitchen.scan(json.dumps({"command": "show_view", "payload": "locations"}))
        expect(desktop).to_have_url(kitchen.url + "/locations", timeout=LIVE_MS)  # the first tab is the screen
        assert second.url == kitchen.url + "/"
        peas = entry(second, "Frozen peas 900 g")
        before = kitchen.item_named("Frozen peas 900 g")["total_quantity"]
        kitchen.scan("5000354001026")
        expect(peas).to_contain_text(f"{before + 1} in total", timeout=LIVE_MS)  # and the second one is live
        second.reload()
        expect(second.get_by_role("heading", name="Inventory")).to_be_visible()
    finally:
        second.close()


def test_a_wrong_address_shows_a_way_back(desktop, kitchen):
    open_page(desktop, kitchen, "/no/such/page")
    expect(desktop.get_by_role("heading", name="There is no such page.")).to_be_visible()
    desktop.get_by_role("link", name="Back to the inventory").click()
    expect(desktop.get_by_role("heading", name="Inventory")).to_be_visible()
    desktop.goto(kitchen.url + f"/item/{uuid.uuid4()}")  # a deep link, answered by index.html
    expect(desktop.get_by_role("heading", name="This item does not exist (any more).")).to_be_visible()


def test_a_refused_delete_says_why_where_it_was_asked(desktop, kitchen):
    open_page(desktop, kitchen, "/locations")
    pantry = desktop.locator("li.location").filter(has=desktop.locator("strong", has_text=re.compile("^Pantry$")))
    pantry.get_by_role("button", name="Delete Pantry").click()
    pantry.get_by_role("button", name="Yes, delete").click()
    expect(pantry.get_by_role("alert")).to_contain_text("Pantry")
    assert any(loc["name"] == "Pantry" for loc in kitchen.request("GET", "/api/v1/location", headers=kitchen.admin())["data"])


def test_sign_out_ends_the_session_and_a_new_password_ends_another(browser, kitchen):
    name, password = f"member-{uuid.uuid4().hex[:6]}", "a-Member-Secret-1"
    member = kitchen.request("POST", "/api/v1/user", {"username": name, "role": "Member", "password": password},
                             headers=kitchen.admin())
    own, other = browser.new_context(), browser.new_context()
    try:
        page = own.new_page()
        sign_in(page, kitchen.url)
        page.reload()  # the refresh cookie carries the sign-in over a reload
        expect(page.get_by_role("heading", name="Inventory")).to_be_visible()
        cookie = next(c for c in own.cookies() if c["name"] == "stocky_refresh")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/api/v1/auth"
        assert page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)").find(cookie["value"]) < 0
        open_account_menu(page)
        page.get_by_role("button", name="Sign out", exact=True).click()
        expect(page.get_by_role("status")).to_have_text("You are signed out.")
        page.reload()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()

        phone = other.new_page()
        sign_in(phone, kitchen.url, name, password)
        kitchen.request("PATCH", f"/api/v1/user/{member['id']}", {"password": "a-New-Secret-2"}, headers=kitchen.admin())
        # The live socket is closed (4401) the moment the password changes,
        # and the refresh it then tries is refused: no click is needed.
        expect(phone.get_by_role("status")).to_have_text("Your sign-in has ended; please sign in again.")
        phone.reload()
        expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
    finally:
        own.close()
        other.close()


def labels_pdf(page, paper: str, size: tuple[int, int]) -> list[str]:
    """Print the sheet on ``paper``; every QR code read from the PDF."""
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 is not installed")
    page.get_by_label("Paper").select_option(paper)
    pdf = pdfium.PdfDocument(page.pdf(prefer_css_page_size=True, print_background=True))
    texts = []
    for index in range(len(pdf)):
        sheet = pdf[index]
        assert tuple(round(v) for v in sheet.get_size()) == size
        bitmap = sheet.render(scale=3, grayscale=True)
        pixels = memoryview(bytes(bitmap.buffer)).cast("B", (bitmap.height, bitmap.stride))
        texts += decode_qr_codes(pixels)
    return texts


def test_labels_print_and_every_qr_code_decodes_to_its_command(desktop, kitchen):
    open_page(desktop, kitchen, "/labels")
    desktop.get_by_label("Search").fill("Whole milk")
    desktop.get_by_label("Whole milk 2 l").check()
    images = desktop.locator("figure.label img")
    expect(images).to_have_count(4 + 14 + 1)  # locations, command cards (4 of them dates), the milk
    for image in images.all():
        expect(image).to_have_js_property("complete", True)
    for name in ("Pantry", "Add mode", "Show Log", "Show Shopping list", "Show Use soon", "Best before: 1 week", "Undo the last scan",
                 "Whole milk 2 l"):
        expect(desktop.locator("figcaption", has_text=name).first).to_be_visible()

    locations = kitchen.request("GET", "/api/v1/location", headers=kitchen.admin())["data"]
    milk = kitchen.item_named("Whole milk 2 l")
    expected = {json.dumps({"command": "set_location", "payload": loc["id"]}, separators=(",", ":")) for loc in locations}
    expected |= {f'{{"command":"set_mode","payload":"{mode}"}}' for mode in ("add", "remove")}
    expected |= {f'{{"command":"show_view","payload":"{view}"}}'
                 for view in ("inventory", "shopping", "use_soon", "locations", "scanners", "log", "users")}
    expected |= {f'{{"command":"best_before","payload":"{when}"}}' for when in ("+3d", "+1w", "+1m", "+3m")}
    expected.add('{"command":"undo"}')
    expected.add(milk["id"])
    assert sorted(labels_pdf(desktop, "a4", (595, 842))) == sorted(expected)
    assert sorted(labels_pdf(desktop, "letter", (612, 792))) == sorted(expected)


def test_a_unit_just_added_gets_a_date_and_use_soon_takes_it(desktop, kitchen):
    yoghurt = kitchen.item_named("Greek yoghurt 500 g")
    before = yoghurt["total_quantity"]
    open_page(desktop, kitchen, f"/item/{yoghurt['id']}")
    desktop.get_by_role("button", name="One more Greek yoghurt 500 g in Fridge").click()
    banner = desktop.get_by_role("status").filter(has_text="Added Greek yoghurt 500 g to Fridge")
    banner.get_by_role("button", name="3 days").click()
    expect(banner).to_contain_text("Best before")
    soon = date.today() + timedelta(days=3)
    dates = desktop.get_by_role("list", name="Dates in Fridge")
    expect(dates.locator(f'time[datetime="{soon.isoformat()}"]')).to_have_count(1)
    expect(desktop.locator(".history li").first).to_contain_text(re.compile(r"Fridge: \+1 → \d+\s*Best before .+ ×1"))
    detail = kitchen.request("GET", f"/api/v1/item/{yoghurt['id']}", headers=kitchen.admin())
    assert detail["total_quantity"] == before + 1  # dated, not added twice
    assert [(lot["best_before"], lot["quantity"]) for s in detail["skus"] for lot in s["lots"]] == [(soon.isoformat(), 1)]

    open_page(desktop, kitchen, "/use-soon")
    lot = desktop.locator(".use-soon li").filter(has_text="Greek yoghurt 500 g")
    expect(lot).to_contain_text("Best before in 3 days")
    expect(lot).to_contain_text("1 in Fridge")
    lot.get_by_role("button", name=re.compile("One less Greek yoghurt 500 g dated")).click()
    expect(lot).to_have_count(0)  # the row goes, and the banner says what went, with its Undo
    taken = desktop.get_by_role("status").filter(has_text=f"Took Greek yoghurt 500 g from Fridge (now {before})")
    expect(taken).to_contain_text("Best before")
    assert kitchen.item_named("Greek yoghurt 500 g")["total_quantity"] == before
    lots = kitchen.request("GET", "/api/v1/lot", headers=kitchen.admin())["data"]
    assert [lot for lot in lots if lot["item_id"] == yoghurt["id"]] == []
    taken.get_by_role("button", name="Undo").click()
    expect(lot).to_contain_text("1 in Fridge")  # the same lot is back, date and all
    assert kitchen.item_named("Greek yoghurt 500 g")["total_quantity"] == before + 1


def test_the_shopping_trip_on_a_phone_and_stock_arriving_clears_a_tick(browser, kitchen):
    bacon = kitchen.item_named("Smoked bacon 300 g")
    kitchen.request("PATCH", f"/api/v1/item/{bacon['id']}", {"min_quantity": 3}, kitchen.admin())
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, kitchen.url, path="/shopping")
        to_get = page.locator(".to-get li").filter(has_text="Smoked bacon 300 g")
        expect(to_get).to_contain_text("get 3")
        tick = page.get_by_role("checkbox", name="Smoked bacon 300 g is in the basket")
        box = tick.bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, box
        amount = to_get.locator(".to-buy")
        assert float(amount.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 18  # big letters, as promised
        name = to_get.locator(".trip-name")
        assert "300\u00a0g" in name.inner_text()  # a unit never wraps away from its number
        tick.tap()
        in_basket = page.locator(".in-basket li").filter(has_text="Smoked bacon 300 g")
        expect(tick).to_be_checked()  # at once, and the row stays under the thumb, struck through
        expect(to_get).to_have_class("ticked")
        assert in_basket.count() == 0
        expect(in_basket).to_have_count(1)  # then, a moment later, it moves to the basket
        expect(to_get).to_have_count(0)
        expect(tick).to_be_checked()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert kitchen.item_named("Smoked bacon 300 g")["in_basket"] is True

        kitchen.scan(bacon["upc"])  # home again: a pack goes into the fridge at another door
        expect(to_get).to_contain_text("get 2", timeout=LIVE_MS)
        expect(in_basket).to_have_count(0)
        expect(tick).not_to_be_checked()
    finally:
        context.close()


def test_a_tap_undone_from_its_banner_and_a_change_from_the_history(desktop, browser, kitchen):
    oats = kitchen.item_named("Rolled oats 1 kg")
    before = oats["total_quantity"]
    [pantry] = kitchen.request("GET", f"/api/v1/item/{oats['id']}", headers=kitchen.admin())["skus"]
    kitchen.request("POST", f"/api/v1/sku/{pantry['id']}/adjust", {"delta": 2}, kitchen.admin())  # an older change
    watcher = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        other = watcher.new_page()
        sign_in(other, kitchen.url, path=f"/item/{oats['id']}")  # a second person watches the item page
        total, watched = desktop.locator(".big"), other.locator(".big")
        open_page(desktop, kitchen, f"/item/{oats['id']}")
        desktop.get_by_role("button", name="One more Rolled oats 1 kg in Pantry").click()
        banner = desktop.get_by_role("status").filter(has_text=f"Added Rolled oats 1 kg to Pantry (now {before + 3})")
        expect(watched).to_have_text(f"{before + 3} in total", timeout=LIVE_MS)
        undo = banner.get_by_role("button", name="Undo")
        box = undo.bounding_box()
        assert box and box["height"] >= 44 and box["width"] >= 44, box
        undo.click()
        expect(desktop.get_by_role("status")).to_contain_text(f"Undone: Rolled oats 1 kg in Pantry is back to {before + 2}")
        expect(watched).to_have_text(f"{before + 2} in total", timeout=LIVE_MS)
        assert kitchen.item_named("Rolled oats 1 kg")["total_quantity"] == before + 2
        history = desktop.locator(".history li")
        expect(history.first).to_contain_text(f"Pantry: −1 → {before + 2}")
        expect(history.first.get_by_role("button")).to_have_count(0)  # an undo is not undone
        expect(history.nth(1).get_by_role("button")).to_have_count(0)  # nor a change twice
        # Who and how, and which row undid which: the undo, and the tap it undid.
        expect(history.first.locator(".change-meta")).to_contain_text("admin · web or API")
        expect(history.first.locator(".tag")).to_have_text("undo")
        expect(history.nth(1)).to_contain_text(f"Pantry: +1 → {before + 3}")
        expect(history.nth(1).locator(".change-meta")).to_contain_text("admin · web or API")
        expect(history.nth(1).locator(".tag")).to_have_text("undone")

        # The older change, from the history: asked first, then undone.
        older = history.filter(has_text=f"Pantry: +2 → {before + 2}")
        older.get_by_role("button", name=f"Undo Pantry: +2 → {before + 2}").click()
        older.get_by_role("button", name="Yes, undo").click()
        expect(total).to_have_text(f"{before} in total")
        expect(watched).to_have_text(f"{before} in total", timeout=LIVE_MS)
        expect(older.get_by_role("button")).to_have_count(0)

        # A change undone elsewhere first: the banner's Undo says why it cannot.
        desktop.get_by_role("button", name="One more Rolled oats 1 kg in Pantry").click()
        banner = desktop.get_by_role("status").filter(has_text=f"Added Rolled oats 1 kg to Pantry (now {before + 1})")
        expect(banner.get_by_role("button", name="Undo")).to_be_visible()
        newest = kitchen.request("GET", f"/api/v1/item/{oats['id']}/history?limit=1", headers=kitchen.admin())["data"][0]
        kitchen.request("POST", f"/api/v1/stock-change/{newest['id']}/undo", {}, kitchen.admin())
        banner.get_by_role("button", name="Undo").click()
        expect(banner.get_by_role("alert")).to_contain_text("already undone")
        assert kitchen.item_named("Rolled oats 1 kg")["total_quantity"] == before
    finally:
        watcher.close()


def test_a_scan_on_a_linked_browser_is_undone_from_its_banner(desktop, kitchen):
    open_page(desktop, kitchen, "/")
    ui_id = desktop.evaluate("localStorage.getItem('stocky.ui_id')")
    kitchen.scan(json.dumps({"command": "associate_ui", "payload": ui_id}))
    kitchen.scan(json.dumps({"command": "show_view", "payload": "inventory"}))
    before = kitchen.item_named("Chopped tomatoes 400 g")["total_quantity"]
    kitchen.scan("5000119025219")  # chopped tomatoes, at the HTTP scanner door
    banner = desktop.get_by_role("status").filter(has_text=f"Added Chopped tomatoes 400 g to Pantry (now {before + 1})")
    banner.get_by_role("button", name="Undo").click(timeout=LIVE_MS)
    expect(desktop.get_by_role("status")).to_contain_text(f"Undone: Chopped tomatoes 400 g in Pantry is back to {before}")
    assert kitchen.item_named("Chopped tomatoes 400 g")["total_quantity"] == before
    expect(entry(desktop, "Chopped tomatoes 400 g")).to_contain_text(f"{before} in total", timeout=LIVE_MS)


def test_every_tap_on_the_item_page_shows_its_banner_with_undo(desktop, kitchen):
    chickpeas = kitchen.item_named("Chickpeas 400 g")
    before = chickpeas["total_quantity"]
    open_page(desktop, kitchen, f"/item/{chickpeas['id']}")
    total = desktop.locator(".big")
    later = date.today() + timedelta(days=10)

    form = desktop.locator("form.add-dated")
    form.get_by_label("How many").fill("2")
    form.get_by_label("Best before").fill(later.isoformat())
    form.get_by_role("button", name="Add with a date").click()
    banner = desktop.get_by_role("status").filter(has_text=f"Added Chickpeas 400 g to Pantry (now {before + 2})")
    expect(banner).to_contain_text("Best before")
    expect(total).to_have_text(f"{before + 2} in total")

    dates = desktop.get_by_role("list", name="Dates in Pantry")
    dates.get_by_role("button", name=re.compile("One less Chickpeas 400 g dated")).click()
    taken = desktop.get_by_role("status").filter(has_text=f"Took Chickpeas 400 g from Pantry (now {before + 1})")
    taken.get_by_role("button", name="Undo").click()
    expect(desktop.get_by_role("status")).to_contain_text(f"Undone: Chickpeas 400 g in Pantry is back to {before + 2}")
    expect(dates.locator("li").first).to_contain_text("2")

    put = desktop.get_by_role("button", name="Put 1 in Fridge")  # one unit, not a move
    desktop.get_by_label("New place").select_option(label="Fridge")
    put.click()
    banner = desktop.get_by_role("status").filter(has_text="Added Chickpeas 400 g to Fridge (now 1)")
    expect(total).to_have_text(f"{before + 3} in total")
    banner.get_by_role("button", name="Undo").click()
    expect(desktop.get_by_role("status")).to_contain_text("Undone: Chickpeas 400 g in Fridge is back to 0")
    expect(total).to_have_text(f"{before + 2} in total")
    assert kitchen.item_named("Chickpeas 400 g")["total_quantity"] == before + 2


def test_on_a_phone_the_banner_is_a_strip_that_never_covers_what_was_tapped(browser, kitchen):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, kitchen.url)
        oil = entry(page, "Extra virgin olive oil 750 ml")  # low on the first screen
        oil.locator(".item-toggle").tap()
        plus = oil.get_by_role("button", name="One more Extra virgin olive oil 750 ml in Pantry")
        plus.tap()
        banner = page.get_by_role("status").filter(has_text="Added Extra virgin olive oil 750 ml to Pantry")
        expect(banner.get_by_role("group", name="Best before?")).to_contain_text("Best before in:")  # as on the kiosk
        expect(banner.get_by_role("button", name="Undo")).to_be_visible()
        assert banner.bounding_box()["height"] <= 740 * 0.2

        def clear_of_banner() -> bool:
            return plus.bounding_box()["y"] + 44 <= banner.bounding_box()["y"]

        assert clear_of_banner()
        banner.get_by_role("button", name="A date…").tap()
        expect(banner.get_by_label("Best before", exact=True)).to_be_visible()
        page.wait_for_function("() => document.documentElement.style.getPropertyValue('--banner-space') !== ''")
        for _ in range(20):  # the page scrolls the tapped + above the taller banner
            if clear_of_banner():
                break
            page.wait_for_timeout(50)
        assert clear_of_banner(), (plus.bounding_box(), banner.bounding_box())
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        open_page(page, kitchen, "/use-soon")  # the four windows share one row
        windows = page.get_by_role("group", name="Due within").get_by_role("button")
        expect(windows).to_have_count(4)
        assert len({round(button.bounding_box()["y"]) for button in windows.all()}) == 1
    finally:
        context.close()


def test_a_wrong_date_from_the_banner_is_changed_or_taken_back(desktop, kitchen):
    sugar = kitchen.item_named("Caster sugar 1 kg")
    [pantry] = kitchen.request("GET", f"/api/v1/item/{sugar['id']}", headers=kitchen.admin())["skus"]

    def dates() -> list[tuple[str, int]]:
        detail = kitchen.request("GET", f"/api/v1/sku/{pantry['id']}", headers=kitchen.admin())
        lots = kitchen.request("GET", "/api/v1/lot", headers=kitchen.admin())["data"]
        assert detail["quantity"] == pantry["quantity"] + 1  # dating never changes the count
        return [(lot["best_before"], lot["quantity"]) for lot in lots if lot["sku_id"] == pantry["id"]]

    open_page(desktop, kitchen, f"/item/{sugar['id']}")
    desktop.get_by_role("button", name="One more Caster sugar 1 kg in Pantry").click()
    banner = desktop.get_by_role("status").filter(has_text="Added Caster sugar 1 kg to Pantry")
    banner.get_by_role("button", name="3 days").click()
    days3, week = (date.today() + timedelta(days=3)).isoformat(), (date.today() + timedelta(weeks=1)).isoformat()
    expect(banner.get_by_role("button", name="Change date")).to_be_visible()
    assert dates() == [(days3, 1)]

    banner.get_by_role("button", name="Change date").click()  # a wrong tap: the same unit, another date
    banner.get_by_role("button", name="1 week").click()
    expect(banner.get_by_role("button", name="1 week")).to_have_count(0)
    expect(banner.locator("p").first).to_have_text(re.compile(r"Added Caster sugar 1 kg to Pantry \(now \d+\) · Best before [^·]+$"))
    assert dates() == [(week, 1)]

    banner.get_by_role("button", name="Undo date").click()  # undated again, the date choices back
    expect(banner.get_by_role("button", name="3 days")).to_be_visible()
    expect(banner.locator("p").first).to_have_text(re.compile(r"^Added Caster sugar 1 kg to Pantry \(now \d+\)$"))
    assert dates() == []


def test_the_desktop_header_is_one_row(desktop, kitchen):
    open_page(desktop, kitchen, "/")
    header = desktop.locator("header.top")
    tops = {round(box["y"]) for box in (control.bounding_box() for control in header.locator("a, button").all()) if box}
    assert len(tops) == 1, tops  # "Sign out (admin)" no longer wraps to a second row at 1280 px
    assert header.get_by_role("button", name="Scan with the camera").inner_text() == "Camera"  # as it is shown


def test_save_on_the_item_page_confirms_and_an_empty_name_is_refused_in_so_many_words(desktop, kitchen):
    butter = kitchen.item_named("Salted butter 250 g")
    open_page(desktop, kitchen, f"/item/{butter['id']}")
    form = desktop.locator("form.edit")
    form.get_by_label("Description").fill("Block, foil-wrapped")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("status")).to_have_text("Saved.")
    assert kitchen.item_named("Salted butter 250 g")["description"] == "Block, foil-wrapped"

    form.get_by_label("Name").fill("")
    expect(form.get_by_role("status")).to_have_count(0)  # an edit since: no longer "Saved"
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_have_text("The name cannot be empty; type the item's name.")
    expect(form.get_by_label("Name")).to_have_value("")  # what was typed stays, to be corrected
    assert kitchen.item_named("Salted butter 250 g")["name"] == "Salted butter 250 g"

    form.get_by_label("Name").fill("Salted butter 250 g")
    form.get_by_label("Keep at least").fill("2000000")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_have_text(re.compile(r"^“Keep at least” was not accepted: .*1000000\.$"))
    assert "min_quantity" not in form.get_by_role("alert").inner_text()


def test_the_shopping_list_is_in_the_order_it_says(desktop, kitchen):
    """"What ran out last comes first": two items emptied one after the other."""
    for name in ("Fish fingers, 10", "Orange juice 1 l"):
        item = kitchen.item_named(name)
        [place] = kitchen.request("GET", f"/api/v1/item/{item['id']}", headers=kitchen.admin())["skus"]
        kitchen.request("POST", f"/api/v1/sku/{place['id']}/adjust", {"delta": -place["quantity"]}, kitchen.admin())
    open_page(desktop, kitchen, "/shopping")
    expect(desktop.get_by_text("what ran out last comes first")).to_be_visible()
    names = desktop.locator(".to-get .trip-name")
    expect(names.first).to_have_text("Orange juice 1\u00a0l")
    assert names.nth(1).inner_text() == "Fish fingers, 10"


def test_a_scan_with_nowhere_to_go_is_put_where_a_place_is_tapped(desktop, kitchen):
    open_page(desktop, kitchen, "/")
    ui_id = desktop.evaluate("localStorage.getItem('stocky.ui_id')")
    kitchen.scan(json.dumps({"command": "associate_ui", "payload": ui_id}))
    scanner = next(s for s in kitchen.request("GET", "/api/v1/scanner/status", headers=kitchen.admin())["data"]
                   if s["username"] == "Kitchen scanner")
    kitchen.request("PUT", f"/api/v1/scanner/{scanner['id']}/state", {"current_location_id": None}, kitchen.admin())
    unknown = "4006381333931"
    with pytest.raises(urllib.error.HTTPError):  # 409: where does it go?
        kitchen.scan(unknown)
    banner = desktop.get_by_role("status").filter(has_text="where does it go? Tap its place")
    places = banner.get_by_role("group", name="Places")
    expect(places.get_by_role("button")).to_have_count(4)  # every location, as on the touch screen
    places.get_by_role("button", name="Fridge").click()
    expect(desktop.get_by_role("status").filter(has_text=f"Added Unnamed product ({unknown}) to Fridge (now 1)")).to_be_visible()
    state = next(s for s in kitchen.request("GET", "/api/v1/scanner/status", headers=kitchen.admin())["data"]
                 if s["id"] == scanner["id"])
    assert state["current_location_id"] is None  # that scan went there; the scanner's own place stays
    [made] = kitchen.request("GET", f"/api/v1/item?stock=all&search={unknown}", headers=kitchen.admin())["data"]
    [place] = kitchen.request("GET", f"/api/v1/item/{made['id']}", headers=kitchen.admin())["skus"]
    assert (place["location_name"], place["quantity"]) == ("Fridge", 1)
