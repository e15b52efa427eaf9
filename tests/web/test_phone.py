"""The household's phone, as a daily tool: Chromium at 360 px over Stocky's
own HTTPS, trusting Stocky's certificate authority the way a phone does once
/connect's certificate is installed (an NSS database holding ca.pem, no
certificate errors ignored), against a real ``stocky serve`` whose product
service is a local one speaking Open Food Facts' format.

It checks the certificate and its name constraints, the shell and the list
opening offline, ticks kept on the phone and sent when the signal is back,
a new item from a typed barcode and one read by the camera, a search that
finds what ran out, and that every dialog closes with Escape; over plain
HTTP from another machine, the one-time word about the secure address."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest
from browser_support import (
    CHROMIUM,
    chromium_args,
    demo_kitchen,
    entry,
    product_service,
    qr_video,
    sign_in,
    trust_like_a_phone,
)
from cryptography import x509
from fake_product_service import off_product, reply_json
from mosquitto import free_port

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
expect = sync_api.expect

PHONE = {"width": 360, "height": 740}
NUTELLA = ("3017620422003", "Ferrero Nutella 400 g")  # the product service knows it; the kitchen does not
COFFEE = ("8000070038523", "Coffee beans 1 kg")  # the kitchen has it: what the fake camera shows
# Another machine on the home network, by name: Chromium resolves it to this one.
OTHER_NAME = "pantry-box.test"


@pytest.fixture(scope="module")
def products():
    with product_service() as (service, _):
        service.on(NUTELLA[0], reply_json(off_product(product_name="Nutella", brands="Ferrero", quantity="400 g")))
        yield service


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory, products):
    https_port = free_port()
    with demo_kitchen(tmp_path_factory.mktemp("phone"), STOCKY_HTTPS_PORT=str(https_port),
                      UDA_API_URL=products.off_url) as running:
        running.secure_url = f"https://localhost:{https_port}"  # type: ignore[attr-defined]
        yield running


def ca_of(kitchen) -> Path:
    return kitchen.process.data_dir / "tls" / "ca.pem"


@pytest.fixture(scope="module")
def phone_browser(kitchen, tmp_path_factory):
    """Chromium that trusts Stocky's CA from its NSS database, nothing more."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    env = trust_like_a_phone(ca_of(kitchen), tmp_path_factory.mktemp("phone-home"))
    video = qr_video(COFFEE[0], tmp_path_factory.mktemp("camera") / "qr.y4m")
    args = chromium_args(
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
        f"--host-resolver-rules=MAP {OTHER_NAME} 127.0.0.1",
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, env=env)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def phone(phone_browser):
    context = phone_browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def test_the_certificate_verifies_for_the_box_and_its_authority_is_name_constrained(kitchen, phone):
    ca = x509.load_pem_x509_certificate(ca_of(kitchen).read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    permitted = {str(name.value) for name in constraints.value.permitted_subtrees}
    assert "localhost" in permitted and socket.gethostname() in " ".join(permitted)
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert basic.ca and basic.path_length == 0

    port = int(kitchen.secure_url.rsplit(":", 1)[1])
    trust = ssl.create_default_context(cafile=str(ca_of(kitchen)))  # hostname checked too
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            trust.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")

    answer = phone.goto(kitchen.secure_url + "/")  # no certificate error: the phone trusts it
    assert answer is not None and answer.ok
    expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
    assert phone.evaluate("window.isSecureContext")


def tick(page, name: str):
    box = page.get_by_role("checkbox", name=f"{name} is in the basket")
    box.tap()
    return box


def row(page, name: str):
    return page.locator(".shopping li").filter(has_text=name)


def test_offline_the_app_reloads_and_ticks_wait_on_the_phone_until_the_signal_is_back(kitchen, phone):
    spinach = kitchen.item_named("Frozen spinach 450 g")
    tea = kitchen.item_named("Black tea, 80 bags")
    sign_in(phone, kitchen.secure_url, path="/shopping")
    expect(row(phone, "Black tea, 80 bags")).to_have_count(1)
    assert phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.reload()  # now under the worker: the shell's files pass through it and are kept
    expect(row(phone, "Frozen spinach 450 g")).to_have_count(1)

    phone.context.set_offline(True)
    phone.reload()  # the shop has no signal: the kept shell and list open
    expect(phone.get_by_role("status").filter(has_text="No connection to Stocky.")).to_be_visible()
    expect(phone.get_by_role("button", name="Try again")).to_be_visible()
    tea_box = tick(phone, "Black tea, 80 bags")
    expect(tea_box).to_be_checked()
    spinach_box = tick(phone, "Frozen spinach 450 g")
    expect(row(phone, "Black tea, 80 bags")).to_contain_text("not sent yet")
    expect(phone.get_by_role("status").filter(has_text="2 ticks wait for the connection")).to_be_visible()

    phone.reload()  # still no signal: the ticks were kept on the phone
    expect(tea_box).to_be_checked()
    expect(spinach_box).to_be_checked()
    expect(row(phone, "Frozen spinach 450 g")).to_contain_text("not sent yet")
    assert kitchen.item_named("Black tea, 80 bags")["in_basket"] is False

    kitchen.scan(spinach["upc"])  # meanwhile at home a bag of spinach goes in the freezer
    phone.context.set_offline(False)
    refusal = phone.get_by_role("alert")
    expect(refusal).to_contain_text(
        "Frozen spinach 450 g came off the shopping list meanwhile (stock arrived), so it was not ticked.")
    assert kitchen.item_named("Black tea, 80 bags")["in_basket"] is True  # the other tick arrived
    expect(row(phone, "Black tea, 80 bags")).not_to_contain_text("not sent yet")
    expect(phone.locator(".in-basket li").filter(has_text="Black tea, 80 bags")).to_have_count(1)
    expect(row(phone, "Frozen spinach 450 g")).to_have_count(0)
    refusal.get_by_role("button", name="OK").tap()
    expect(refusal).to_have_count(0)
    kitchen.request("PATCH", f"/api/v1/item/{tea['id']}", {"in_basket": False}, kitchen.admin())


def test_a_new_item_from_a_typed_barcode_and_one_the_camera_finds_in_the_kitchen(kitchen, phone, products):
    sign_in(phone, kitchen.secure_url)
    phone.get_by_role("link", name="New item").tap()
    form = phone.get_by_role("form", name="New item")
    form.get_by_label("Barcode", exact=True).fill(NUTELLA[0])
    form.get_by_role("button", name="Look up").tap()
    expect(form.get_by_role("status")).to_have_text(f"The product service knows it as “{NUTELLA[1]}”.")
    expect(form.get_by_label("Name")).to_have_value(NUTELLA[1])
    form.get_by_label("Where it goes").select_option(label="Pantry")
    form.get_by_label("How many").fill("2")
    form.get_by_role("button", name="Add item").tap()
    expect(phone.get_by_role("heading", name=NUTELLA[1])).to_be_visible()  # its page
    expect(phone.get_by_role("status").filter(has_text=f"Added {NUTELLA[1]} to Pantry (now 2)")).to_be_visible()
    made = kitchen.item_named(NUTELLA[1])
    assert (made["upc"], made["total_quantity"]) == (NUTELLA[0], 2)
    assert len(products.seen(NUTELLA[0])) == 1

    # Loose apples: no barcode at all.
    phone.goto(kitchen.secure_url + "/new-item")
    form.get_by_label("Name").fill("Loose apples")
    form.get_by_label("Where it goes").select_option(label="Fridge")
    form.get_by_label("How many").fill("6")
    form.get_by_role("button", name="Add item").tap()
    expect(phone.get_by_role("heading", name="Loose apples")).to_be_visible()
    apples = kitchen.item_named("Loose apples")
    assert (apples["upc"], apples["total_quantity"]) == (None, 6)

    # The camera reads a barcode the kitchen has: that item opens, no second one.
    phone.goto(kitchen.secure_url + "/new-item")
    form.get_by_role("button", name="Scan the barcode").tap()
    expect(phone.get_by_role("heading", name=COFFEE[1])).to_be_visible(timeout=15_000)
    expect(phone.get_by_role("status").filter(has_text=f"{COFFEE[1]} has this barcode already")).to_be_visible()
    found = kitchen.request("GET", f"/api/v1/item?stock=all&search={COFFEE[0]}", headers=kitchen.admin())
    assert found["total"] == 1


def test_a_search_finds_what_ran_out(kitchen, phone):
    sign_in(phone, kitchen.secure_url)
    expect(entry(phone, "Whole milk 2 l")).to_have_count(1)
    expect(entry(phone, "Cinnamon sticks")).to_have_count(0)  # the inventory: what is at home
    phone.get_by_label("Search").fill("cinnamon")
    cinnamon = entry(phone, "Cinnamon sticks")
    expect(cinnamon.locator(".item-total")).to_have_text("none at home")
    phone.get_by_label("Search").fill("dragon fruit")
    expect(phone.get_by_text("Nothing matches “dragon fruit”.")).to_be_visible()
    phone.get_by_role("link", name="New item “dragon fruit”").tap()
    expect(phone.get_by_role("form", name="New item").get_by_label("Name")).to_have_value("dragon fruit")


def test_move_everything_asks_first_and_undo_puts_it_all_back(kitchen, phone):
    def totals() -> dict[str, int]:
        return {loc["name"]: loc["total_quantity"]
                for loc in kitchen.request("GET", "/api/v1/location", headers=kitchen.admin())["data"]}

    before = totals()
    sign_in(phone, kitchen.secure_url, path="/locations")
    rack = phone.locator("li.location").filter(has=phone.locator("strong", has_text="Spice rack"))
    rack.get_by_role("button", name="Move everything").tap()
    question = rack.get_by_role("group", name=f"Move all {before['Spice rack']} units in Spice rack into Freezer?")
    question.get_by_label("Into").select_option(label="Pantry")
    question = rack.get_by_role("group", name=f"Move all {before['Spice rack']} units in Spice rack into Pantry?")
    expect(question).to_be_visible()
    assert totals() == before  # asked, nothing moved yet
    question.get_by_role("button", name="Yes, move").tap()
    banner = phone.get_by_role("status").filter(
        has_text=f"Moved {before['Spice rack']} units from Spice rack into Pantry.")
    expect(banner).to_be_visible()
    expect(rack).to_contain_text("0 units here")
    moved = totals()
    assert (moved["Spice rack"], moved["Pantry"]) == (0, before["Pantry"] + before["Spice rack"])

    banner.get_by_role("button", name="Undo").tap()
    expect(phone.get_by_role("status").filter(has_text="Undone: everything moved is back in Spice rack.")).to_be_visible()
    expect(rack).to_contain_text(f"{before['Spice rack']} units here")
    assert totals() == before


def test_every_dialog_closes_with_escape_and_shows_its_close(kitchen, phone):
    # A phone whose camera is busy elsewhere: the camera's dialog stays open
    # (saying so) until it is closed, rather than closing itself on a read.
    phone.add_init_script("navigator.mediaDevices.getUserMedia = () => Promise.reject(new Error('busy'))")
    sign_in(phone, kitchen.secure_url)

    def from_menu(control: str):
        def open_it():
            if phone.get_by_role("button", name="Menu").get_attribute("aria-expanded") != "true":
                phone.get_by_role("button", name="Menu").tap()
            phone.get_by_role("button", name=control).tap()
        return open_it

    def from_new_item():
        phone.goto(kitchen.secure_url + "/new-item")
        phone.get_by_role("button", name="Scan the barcode").tap()

    for name, open_it in (("Link a scanner", from_menu("Link a scanner")),
                          ("Scan with the camera", from_menu("Scan with the camera")),
                          ("Scan the barcode", from_new_item)):
        open_it()
        dialog = phone.get_by_role("dialog", name=name)
        close = dialog.get_by_role("button", name="Close")
        expect(close).to_be_visible()
        colour, background = close.evaluate("b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")
        assert colour != background, (name, colour)  # never white on white again
        if name != "Link a scanner":
            expect(dialog.get_by_role("status")).to_have_text("No camera is available here.")
        phone.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
    close_by_tap = from_new_item
    close_by_tap()
    phone.get_by_role("dialog", name="Scan the barcode").get_by_role("button", name="Close").tap()
    expect(phone.get_by_role("dialog")).to_have_count(0)


def test_over_plain_http_from_another_machine_it_says_once_where_the_secure_address_is(kitchen, phone):
    http_port = kitchen.url.rsplit(":", 1)[1]
    phone.goto(f"http://{OTHER_NAME}:{http_port}/")
    notice = phone.get_by_role("complementary", name="Set it up on this phone")
    expect(notice).to_contain_text("works without a signal")
    link = notice.get_by_role("link", name="Set it up on this phone")
    assert link.get_attribute("href") == "/connect"
    notice.get_by_role("button", name="OK").tap()
    expect(notice).to_have_count(0)
    phone.reload()
    expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
    expect(notice).to_have_count(0)  # said once
    link_page = phone.goto(f"http://{OTHER_NAME}:{http_port}/connect")
    assert link_page is not None and link_page.ok
    expect(phone.get_by_role("heading", name="Connect a phone to Stocky")).to_be_visible()

    phone.goto(kitchen.secure_url + "/")  # the secure address says nothing of the kind
    expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
    expect(phone.locator(".https-notice")).to_have_count(0)


def test_on_this_machine_over_plain_http_nothing_is_said(kitchen, phone):
    phone.goto(kitchen.url + "/")  # 127.0.0.1: the browser counts it as secure, camera and all
    expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
    expect(phone.locator(".https-notice")).to_have_count(0)
