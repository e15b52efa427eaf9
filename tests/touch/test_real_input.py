"""The kiosk on a real X screen, tapped from outside as a finger would: at
800x480 (the 7-inch display) and at 1280x800, and once at 480x800 (that
display turned to portrait)."""

from __future__ import annotations

import json
import socket
import ssl
import time
import urllib.request
from datetime import date, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from PySide6.QtGui import QImage
from support.polling import eventually_sync

from stocky.core.dates import add_months
from stocky_touch.models.inventory import DETAILS_TEXT, NONE_AT_HOME
from tests.touch.xkiosk import XKiosk, require_tools


@pytest.fixture(scope="module", params=[(800, 480), (1280, 800)], ids=["800x480", "1280x800"])
def xk(request, tmp_path_factory):
    require_tools()
    kiosk = XKiosk(tmp_path_factory.mktemp("xkiosk"), request.param, https=True)
    try:
        yield kiosk.start()
    finally:
        kiosk.stop()


def item_named(xk: XKiosk, name: str) -> dict:
    status, page = xk.api("GET", f"/item?stock=all&search={name.split()[0]}")
    assert status == 200
    return next(item for item in page["data"] if item["name"] == name)


def overlaps(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def search(xk: XKiosk, text: str) -> None:
    """Type into the inventory's search with the on-screen keyboard (empty: clear it)."""
    xk.tap(xk.wait_for("Inventory", "tab"))
    field = xk.field("Search")
    xk.tap(field)
    for _ in field["text"]:
        xk.tap(xk.wait_for("⌫", "button", inside="keyboard"))
    xk.type_on_keyboard(text)
    xk.tap(xk.wait_for("Done", "button", inside="keyboard"))


def open_item_page(xk: XKiosk, name: str, filter_label: str = "In stock", query: str = "") -> None:
    xk.tap(xk.wait_for("Inventory", "tab"))
    xk.tap(xk.wait_for(filter_label, "button"))  # first: another filter starts without a search
    if query:
        search(xk, query)
    row = xk.wait_for(name, "row")
    xk.tap(row)
    xk.tap(xk.wait_for(lambda text: text.strip() == DETAILS_TEXT, "row"))
    xk.wait_for("‹ Back", "button")


def test_type_a_name_with_the_on_screen_keyboard(xk):
    open_item_page(xk, "Spaghetti 500 g", query="spag")
    xk.tap(xk.field("What is it?"))
    xk.wait_for("Done", "button", inside="keyboard")
    xk.type_on_keyboard(" fresh & dry")  # "&" on the ?123 keys: labelled, and it types
    name_field = xk.field("What is it?")
    assert name_field["text"] == "Spaghetti 500 g fresh & dry"
    assert xk.on_screen(name_field), "the field is hidden while typing"
    xk.tap(xk.wait_for("Done", "button", inside="keyboard"))
    xk.tap(xk.wait_for("Save", "button"))
    eventually_sync(lambda: item_named(xk, "Spaghetti 500 g fresh & dry"), what="the new name saved")
    xk.tap(xk.wait_for("‹ Back", "button"))
    search(xk, "")


def keyboard_up_for(xk: XKiosk, placeholder: str) -> None:
    """The field has the focus and the on-screen keyboard is up to type into
    it, with no tap on the field itself."""
    eventually_sync(lambda: xk.field(placeholder)["focused"] and xk.find("Done", "button", inside="keyboard"),
                    what=f"the keyboard up for {placeholder!r}")


def sign_in_as(xk: XKiosk, name: str, password: str) -> None:
    """From the kitchen account to ``name``: tap the kitchen's name, the
    person, and type the password on the on-screen keyboard."""
    if xk.find(name, "button", inside="topbar"):
        return
    xk.tap(xk.wait_for("kitchen", "button", inside="topbar"))
    xk.tap(xk.wait_for(name, "button"))
    keyboard_up_for(xk, "Password")
    xk.type_on_keyboard(password)
    xk.tap(xk.wait_for("Done", "button", inside="keyboard"))
    xk.tap(xk.reach("Sign in", "button"), then=lambda: xk.find(name, "button", inside="topbar"))


def sign_in_as_admin(xk: XKiosk) -> None:
    sign_in_as(xk, "admin", "stocky-demo")


def new_person(xk: XKiosk, name: str, role: str, password: str) -> dict[str, str]:
    """A person with a password, and the bearer header of a token minted for
    them, as a phone signed in elsewhere holds it."""
    status, user = xk.api("POST", "/user", {"username": name, "role": role, "password": password})
    assert status == 201, user
    status, token = xk.api("POST", "/auth/login", {"username": name, "password": password})
    assert status == 200, token
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert xk.api("GET", "/user/me", headers=bearer)[0] == 200
    return bearer


def test_sign_out_everywhere_from_the_screen(xk):
    phone = new_person(xk, "Robin", "Admin", "robin-kitchen-42")
    sign_in_as(xk, "Robin", "robin-kitchen-42")
    xk.tap(xk.wait_for("Robin", "button", inside="topbar"))
    xk.tap(xk.reach("Sign out everywhere", "button"),
           then=lambda: xk.find("Sign out everywhere", "button", inside="sheet"))
    question = xk.wait_for(lambda text: text.startswith("Every phone and browser signed in as Robin must sign in "
                                                        "again"), "label", inside="sheet")
    yes = xk.wait_for("Sign out everywhere", "button", inside="sheet")
    assert xk.on_screen(question) and xk.on_screen(yes), (question, yes)
    xk.tap(yes)
    xk.wait_for("kitchen", "button", inside="topbar")
    eventually_sync(lambda: xk.api("GET", "/user/me", headers=phone)[0] == 401, what="the phone's token refused")
    # The kitchen account the screen rests as has no password to change or sign out.
    xk.tap(xk.wait_for("kitchen", "button", inside="topbar"))
    xk.wait_for("Who is there?", "label")
    assert not xk.find("Sign out everywhere", "button") and not xk.find("Change my password", "button")
    xk.tap(xk.wait_for("‹ Back", "button"))


def test_change_my_password_on_the_screen(xk):
    phone = new_person(xk, "Sasha", "Member", "sasha-kitchen-42")
    sign_in_as(xk, "Sasha", "sasha-kitchen-42")
    xk.tap(xk.wait_for("Sasha", "button", inside="topbar"))
    # Too short: the answer names the rule; the buttons below the fields are in reach.
    xk.tap(xk.reach("Change my password", "button"))
    keyboard_up_for(xk, "Current password")
    xk.type_on_keyboard("sasha-kitchen-42")
    for placeholder in ("New password", "The new password again"):
        xk.tap(xk.field(placeholder))
        xk.type_on_keyboard("tomato")
    xk.tap(xk.wait_for("Done", "button", inside="keyboard"))
    xk.tap(xk.reach("Change password", "button"))
    xk.wait_for("The password needs at least 10 characters.", "label", inside="banner")
    xk.tap(xk.reach("Cancel", "button"))
    # Right: ⏎ on the keyboard goes from field to field, and from the last one changes it.
    xk.tap(xk.reach("Change my password", "button"))
    keyboard_up_for(xk, "Current password")
    xk.type_on_keyboard("sasha-kitchen-42")
    for _field in ("New password", "The new password again"):
        xk.tap(xk.wait_for("⏎", "button", inside="keyboard"))
        keyboard_up_for(xk, _field)
        xk.type_on_keyboard("basil-and-thyme-7")
    xk.tap(xk.wait_for("⏎", "button", inside="keyboard"))
    xk.wait_for("Password changed; every other sign-in of Sasha has ended.", "label", inside="banner")
    assert xk.find("Sasha", "button", inside="topbar"), "the screen stays signed in as Sasha"
    assert xk.api("GET", "/user/me", headers=phone)[0] == 401
    assert xk.api("POST", "/auth/login", {"username": "Sasha", "password": "basil-and-thyme-7"})[0] == 200
    assert xk.api("POST", "/auth/login", {"username": "Sasha", "password": "sasha-kitchen-42"})[0] == 401
    xk.tap(xk.wait_for("Sasha", "button", inside="topbar"))
    xk.tap(xk.reach("Back to kitchen", "button"), then=lambda: xk.find("kitchen", "button", inside="topbar"))


def test_reach_delete_on_the_item_page(xk):
    sign_in_as_admin(xk)
    peanut = item_named(xk, "Peanut butter 340 g")
    assert peanut["total_quantity"] == 0
    open_item_page(xk, "Peanut butter 340 g", "Shopping list", query="pean")
    xk.tap(xk.reach("Delete item", "button"), then=lambda: xk.find("Delete", "button", inside="sheet"))
    xk.tap(xk.wait_for("Delete", "button", inside="sheet"))
    eventually_sync(lambda: xk.api("GET", f"/item/{peanut['id']}")[0] == 404, what="the item deleted")
    search(xk, "")
    xk.tap(xk.wait_for("In stock", "button"))


def test_read_a_new_api_key_whole_and_use_it(xk):
    status, _user = xk.api("POST", "/user", {"username": "Door scanner", "role": "Scanner"})
    assert status == 201
    sign_in_as_admin(xk)
    xk.tap(xk.wait_for("Users", "tab"))
    xk.tap(xk.wait_for("Door scanner · Scanner", "row"))
    xk.tap(xk.reach("New API key", "button"),
           then=lambda: xk.find(lambda text: text.startswith("sk_"), "label", inside="sheet"))
    shown = xk.wait_for(lambda text: text.startswith("sk_"), "label", inside="sheet")
    assert xk.on_screen(shown), f"the key is cut off: {shown}"
    key = shown["text"].replace(" ", "")
    status, answer = xk.api("POST", "/scanner/scan", {"msg": "5000128104470"}, headers={"X-API-Key": key})
    assert status in (200, 409), answer  # the key read off the screen is accepted
    xk.tap(xk.wait_for("Done: I have it", "button", inside="sheet"))
    eventually_sync(lambda: not xk.find_all(lambda text: text.startswith("sk_"), "label"), what="the sheet closed")


def test_undo_a_scan_from_the_banner(xk):
    ui_id = (xk.workdir / "data" / "ui_instance_id").read_text().strip()
    scanner = {"X-API-Key": xk.scanner_key}
    link = json.dumps({"command": "associate_ui", "payload": ui_id})
    assert xk.api("POST", "/scanner/scan", {"msg": link}, headers=scanner)[0] == 200
    before = item_named(xk, "Whole milk 2 l")["total_quantity"]
    status, answer = xk.api("POST", "/scanner/scan", {"msg": "5000128104470"}, headers=scanner)
    assert status == 200, answer
    assert item_named(xk, "Whole milk 2 l")["total_quantity"] == before + 1
    xk.tap(xk.wait_for("Undo", "button"))
    eventually_sync(lambda: item_named(xk, "Whole milk 2 l")["total_quantity"] == before, what="the scan undone")


def test_date_a_scan_on_the_banner_and_find_it_on_use_soon(xk):
    ui_id = (xk.workdir / "data" / "ui_instance_id").read_text().strip()
    scanner = {"X-API-Key": xk.scanner_key}
    link = json.dumps({"command": "associate_ui", "payload": ui_id})
    assert xk.api("POST", "/scanner/scan", {"msg": link}, headers=scanner)[0] == 200
    status, answer = xk.api("POST", "/scanner/scan", {"msg": "5000128104470"}, headers=scanner)
    assert status == 200, answer
    xk.tap(xk.wait_for("1 week", "button", inside="messagebar"))
    xk.wait_for(lambda text: "best before" in text, "label", inside="messagebar")
    xk.tap(xk.wait_for("Use soon", "tab"))
    xk.wait_for("Whole milk 2 l × 1", "label")
    # Below the demo's own dated food: a finger scrolls to it, and it reads whole.
    when = xk.reach(lambda text: text.startswith("7 days left ·"), "label")
    assert xk.on_screen(when), f"the date is cut off: {when}"
    xk.tap(xk.wait_for("Inventory", "tab"))


def test_any_date_for_a_scan_with_the_steppers(xk):
    ui_id = (xk.workdir / "data" / "ui_instance_id").read_text().strip()
    scanner = {"X-API-Key": xk.scanner_key}
    link = json.dumps({"command": "associate_ui", "payload": ui_id})
    assert xk.api("POST", "/scanner/scan", {"msg": link}, headers=scanner)[0] == 200
    status, answer = xk.api("POST", "/scanner/scan", {"msg": "5000436589373"}, headers=scanner)  # cheddar
    assert status == 200, answer
    # The scanner switch on the bar below stays free while the dates are offered.
    switch = xk.wait_for(lambda text: ": ADD ·" in text, "button", inside="statusbar")
    any_date = xk.wait_for("A date…", "button", inside="messagebar")
    assert xk.on_screen(switch)
    covering = [part["text"] for part in xk.find_all(lambda _text: True, inside="messagebar") if overlaps(part, switch)]
    assert not covering, f"the banner's {covering} lie over the scanner switch"
    xk.tap(any_date)
    week = date.today() + timedelta(weeks=1)
    xk.wait_for(lambda text: text.startswith(f"{week:%a} {week.day} {week:%B %Y}"), "label", inside="sheet")
    for step in ("Later month", "Later month", "Earlier day"):
        control = xk.wait_for(step, "button", inside="sheet")
        assert xk.on_screen(control), f"{step} is off the {xk.size} screen"
        xk.tap(control)
    chosen = add_months(week, 2) - timedelta(days=1)
    xk.wait_for(lambda text: text.startswith(f"{chosen:%a} {chosen.day} {chosen:%B %Y}"), "label", inside="sheet")
    xk.tap(xk.wait_for("Set", "button", inside="sheet"))
    cheddar = item_named(xk, "Mature cheddar 400 g")

    def dated() -> bool:
        status, detail = xk.api("GET", f"/item/{cheddar['id']}")
        return status == 200 and any(lot["best_before"] == chosen.isoformat()
                                     for sku in detail["skus"] for lot in sku["lots"])

    eventually_sync(dated, what=f"a unit of cheddar best before {chosen}")
    # Wrong after all: the banner that follows mends it, two taps.
    xk.tap(xk.wait_for("Change", "button", inside="messagebar"))
    xk.tap(xk.wait_for("No date", "button", inside="messagebar"))
    eventually_sync(lambda: not dated(), what="the cheddar's date taken away again")


def test_connect_a_phone_with_the_code_on_the_screen(xk, tmp_path):
    """The code a phone's camera reads off the screen opens the page that
    installs Stocky's certificate; the secure address and the fingerprint
    beside it are this box's own."""
    xk.tap(xk.wait_for("Scanners", "tab"))
    xk.tap(xk.wait_for("Connect a phone", "button"), then=lambda: xk.find("Done", "button", inside="sheet"))
    host = f"{socket.gethostname()}.local"
    connect, secure = f"http://{host}:{xk.port}/connect", f"https://{host}:{xk.https_port}/"
    with urllib.request.urlopen(f"http://127.0.0.1:{xk.port}/ca.pem", timeout=10) as answer:
        ca = answer.read()  # what the page has a phone install
    fingerprint = x509.load_pem_x509_certificate(ca).fingerprint(hashes.SHA256()).hex(":").upper()
    shown = [xk.wait_for(connect, "label", inside="sheet"), xk.wait_for(secure, "label", inside="sheet"),
             xk.wait_for(lambda text: text.replace("\n", ":") == fingerprint, "label", inside="sheet"),
             xk.wait_for("Done", "button", inside="sheet")]
    cut = [control["text"] for control in shown if not xk.on_screen(control)]
    assert not cut, f"cut off or off the {xk.size} screen: {cut}"
    width, height = xk.size
    picture = tmp_path / f"connect-a-phone-{width}x{height}.png"
    read = eventually_sync(lambda: xk.qr_codes(picture), what=f"a QR code read off the screen ({picture})")
    assert read == [connect]
    # What the code opens answers there (the box's address for its name)...
    with urllib.request.urlopen(connect.replace(host, "127.0.0.1"), timeout=10) as page:
        assert "Connect a phone to Stocky" in page.read().decode()
    # ...and the secure address serves a certificate for that name which the installed CA vouches for.
    trusting = ssl.create_default_context(cadata=ca.decode())
    with socket.create_connection(("127.0.0.1", xk.https_port), timeout=10) as raw, \
            trusting.wrap_socket(raw, server_hostname=host) as tls:
        assert tls.version() is not None
    xk.tap(xk.wait_for("Done", "button", inside="sheet"))
    eventually_sync(lambda: not xk.find("Connect a phone", "button", inside="sheet"), what="the sheet closed")


def test_a_search_finds_what_is_at_zero_and_says_none_at_home(xk):
    status, answer = xk.api("POST", "/item", {"name": "Saffron threads 1 g"})  # never in stock
    assert status == 201, answer
    xk.tap(xk.wait_for("Inventory", "tab"))
    xk.tap(xk.wait_for("In stock", "button"))
    search(xk, "saffron")
    row = xk.wait_for("Saffron threads 1 g", "row")
    assert row["columns"][1] == NONE_AT_HOME and xk.on_screen(row), row
    # Another filter is a fresh look: the search does not linger, hidden, in it.
    xk.tap(xk.wait_for("Shopping list", "button"))
    eventually_sync(lambda: xk.field("Search")["text"] == "", what="the search cleared")
    xk.tap(xk.wait_for("In stock", "button"))
    eventually_sync(lambda: not xk.find("Saffron threads 1 g", "row"), what="only what is in stock again")


def stock_in(xk: XKiosk, location: dict) -> dict[str, int]:
    """What a place holds: each item's count there."""
    status, page = xk.api("GET", f"/sku?location_id={location['id']}&limit=500")
    assert status == 200, page
    return {sku["item_id"]: sku["quantity"] for sku in page["data"] if sku["quantity"]}


def test_move_everything_asks_first_and_undoes_whole_from_the_banner(xk):
    status, page = xk.api("GET", "/location")
    assert status == 200, page
    places = {location["name"]: location for location in page["data"]}
    freezer, fridge = places["Freezer"], places["Fridge"]
    before = stock_in(xk, freezer), stock_in(xk, fridge)
    units, items = sum(before[0].values()), len(before[0])
    assert units > items > 1, before  # the demo's freezer: several items, some more than one
    xk.tap(xk.wait_for("Locations", "tab"))
    xk.tap(xk.wait_for(lambda text: text.startswith("Freezer"), "row"))
    question = f"Move {units} things ({items} items) from Freezer to Fridge?"
    xk.tap(xk.reach("Fridge", "button", inside="moveto"), then=lambda: xk.find(question, "label", inside="sheet"))
    assert stock_in(xk, freezer) == before[0], "a bulk move must ask first"
    xk.tap(xk.wait_for("Move to Fridge", "button", inside="sheet"))
    xk.wait_for(f"Moved {units} things ({items} items) from Freezer to Fridge", "label", inside="banner")
    assert stock_in(xk, freezer) == {}
    moved = {item: before[1].get(item, 0) + count for item, count in before[0].items()}
    assert stock_in(xk, fridge) == {**before[1], **moved}
    xk.tap(xk.wait_for("Undo", "button", inside="messagebar"))
    xk.wait_for("Undone: all of it is back in Freezer", "label", inside="banner")
    assert (stock_in(xk, freezer), stock_in(xk, fridge)) == before


# Text as a careless (or hostile) hand types it: markup, which the screen
# shows as the characters they are, never as red 96 pt letters or a picture.
SHOUTING_ALERT = 'Fridge <span style="font-size:96pt;color:red">EVACUATE</span> now'
MARKUP_NAME = "Oat drink <b>Milk</b><img src=x>"


def red_pixels(image: QImage, control: dict) -> int:
    """Pure red pixels where ``control`` is on the screen (the kiosk's own
    colours have none: its reds are darker)."""
    left, top, width, height = control["shown"]
    count = 0
    for x in range(left, left + width):
        for y in range(top, top + height):
            colour = image.pixelColor(x, y)
            count += colour.red() > 200 and colour.green() < 60 and colour.blue() < 60
    return count


def test_names_and_alerts_show_as_the_text_they_are(xk, tmp_path):
    status, _item = xk.api("POST", "/item", {"name": MARKUP_NAME})
    assert status == 201, _item
    status, alert = xk.api("POST", "/alert", {"severity": "Warning", "message": SHOUTING_ALERT})
    assert status == 201, alert
    # Nothing in stock: it is on the shopping list.
    open_item_page(xk, MARKUP_NAME, "Shopping list", query="oat")
    heading = xk.wait_for(MARKUP_NAME, "label")
    assert heading["plain"] and xk.on_screen(heading), heading
    xk.tap(xk.wait_for("‹ Back", "button"))
    search(xk, "")
    xk.tap(xk.wait_for(lambda text: text.startswith("⚠"), "button", inside="topbar"))
    shown = xk.reach(lambda text: SHOUTING_ALERT in text, "label")
    assert shown["plain"], shown
    time.sleep(0.5)  # the page drawn, not only laid out
    image = xk.screenshot(tmp_path / "alert.png")
    assert red_pixels(image, shown) == 0, f"the alert's markup is drawn, see {tmp_path / 'alert.png'}"
    assert xk.api("PATCH", f"/alert/{alert['id']}", {"is_acknowledged": True})[0] == 200
    xk.tap(xk.wait_for("‹ Back", "button"))


MILK_GS1 = "]d2010500012810447010ABC123"  # Whole milk's GTIN, then batch ABC123 (any length)
# xdotool's keys for GS, as a scanner in keyboard mode types it.
GS_KEYS = {"ctrl+]": ["key", "ctrl+bracketright"],
           "alt+0029": ["keydown", "Alt_L", "key", "KP_0", "KP_0", "KP_2", "KP_9", "keyup", "Alt_L"]}


@pytest.mark.parametrize("gs", list(GS_KEYS))
def test_a_usb_scanner_typing_a_gs1_code_adds_a_dated_unit(xk, gs):
    """A scanner that evdev cannot read types into the kiosk's window: real X
    key events, Shift for the batch's capitals and GS between batch and date."""
    milk = item_named(xk, "Whole milk 2 l")
    before = milk["total_quantity"]
    typed = [f"shift+{c.lower()}" if c.isupper() else {"]": "bracketright"}.get(c, c) for c in MILK_GS1]
    xk.xdotool("key", "--delay", "2", *typed, *GS_KEYS[gs], "key", "--delay", "2", *"17271231", "Return")

    eventually_sync(lambda: item_named(xk, "Whole milk 2 l")["total_quantity"] == before + 1,
                    what="the scan applied")
    status, detail = xk.api("GET", f"/item/{milk['id']}")
    assert status == 200
    dates = [lot["best_before"] for sku in detail["skus"] for lot in sku["lots"]]
    assert "2027-12-31" in dates


@pytest.fixture(scope="module")
def portrait(tmp_path_factory):
    require_tools()
    kiosk = XKiosk(tmp_path_factory.mktemp("xkiosk-portrait"), (480, 800))
    try:
        yield kiosk.start()
    finally:
        kiosk.stop()


def test_portrait_tabs_keys_and_typing_a_name(portrait):
    """Turned to portrait the tabs go in rows and the keyboard fits 480 px:
    the same taps name a product."""
    window = portrait.find("Stocky", "window")
    assert (window["w"], window["h"]) == (480, 800), f"the window does not fit the screen: {window}"
    tabs = portrait.find_all(lambda _text: True, "tab")
    assert len(tabs) == 5 and all(portrait.on_screen(tab) for tab in tabs), f"tabs cut or off the screen: {tabs}"
    portrait.tap(portrait.field("Search"))
    portrait.wait_for("Done", "button", inside="keyboard")
    keys = portrait.find_all(lambda _text: True, "button", inside="keyboard")
    small = [key for key in keys if not portrait.on_screen(key) or key["w"] < 36 or key["h"] < 48]
    assert len(keys) >= 40 and not small, f"keys off the screen or too small for a finger: {small}"
    portrait.tap(portrait.wait_for("Done", "button", inside="keyboard"))
    # Typing through the whole path; that everything else is reachable by
    # scrolling at 480x800 is test_small_screen.py's check.
    test_type_a_name_with_the_on_screen_keyboard(portrait)
