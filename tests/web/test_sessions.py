"""Sign-ins that end where they should, in Chromium against a real Stocky
whose browser tokens last one minute: signing one browser out, signing out
everywhere, a new password given in the app, a page left open past its
token's life, and another site's page trying to sign this browser out."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from browser_support import LIVE_MS, TIMEOUT_MS, demo_kitchen, entry, open_account_menu, sign_in
from mosquitto import free_port

expect = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed").expect
TOKEN_MINUTES = 1  # STOCKY_WEB_ACCESS_MINUTES: the smallest, so a test can outlive a token
TUNA = ("Tuna chunks in brine", "5000232824715")  # a demo item and its barcode


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory):
    with demo_kitchen(tmp_path_factory.mktemp("sessions"), STOCKY_WEB_ACCESS_MINUTES=str(TOKEN_MINUTES)) as running:
        yield running


@pytest.fixture
def pages(browser) -> Iterator[Callable[..., Any]]:
    """A page in a browser of its own (its own cookie): a phone or a computer."""
    made = []

    def new(phone: bool = False) -> Any:
        size = {"width": 360, "height": 740} if phone else {"width": 1280, "height": 800}
        context = browser.new_context(viewport=size, is_mobile=phone, has_touch=phone)
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        return context.new_page()

    yield new
    for context in made:
        context.close()


def new_person(kitchen, role: str = "Member") -> tuple[str, str]:
    name, password = f"cook-{uuid.uuid4().hex[:6]}", "a-Member-Secret-1"
    kitchen.request("POST", "/api/v1/user", {"username": name, "role": role, "password": password},
                    headers=kitchen.admin())
    return name, password


@dataclass
class Connection:
    """One /ws connection of a page, and the messages it carried."""

    socket: Any
    sent: list[dict] = field(default_factory=list)
    received: list[dict] = field(default_factory=list)

    @property
    def tokens(self) -> list[str]:
        return [m["token"] for m in self.sent if m.get("action") == "identify_ui" and "token" in m]

    @property
    def identified(self) -> bool:
        return any(m.get("action") == "identified" and m.get("authenticated") for m in self.received)


def watch_sockets(page) -> list[Connection]:
    """Every /ws connection ``page`` opens from now on (call before sign-in)."""
    connections: list[Connection] = []

    def opened(socket) -> None:
        if socket.url.endswith("/ws"):
            connection = Connection(socket)
            socket.on("framesent", lambda payload: connection.sent.append(json.loads(payload)))
            socket.on("framereceived", lambda payload: connection.received.append(json.loads(payload)))
            connections.append(connection)

    page.on("websocket", opened)
    return connections


def until(page, condition: Callable[[], bool]) -> None:
    """Wait (letting the browser's events in) until ``condition`` holds."""
    for _ in range(TIMEOUT_MS // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    assert condition()


def live(page, kitchen, timeout: int = LIVE_MS) -> None:
    """A scan at the kitchen's scanner shows on ``page`` without reloading."""
    if page.get_by_role("heading", name="Inventory").count() == 0:
        page.get_by_role("link", name="Inventory").first.click()
    tuna = entry(page, TUNA[0])
    before = kitchen.item_named(TUNA[0])["total_quantity"]
    expect(tuna).to_contain_text(f"{before} in total")
    kitchen.scan(TUNA[1])
    expect(tuna).to_contain_text(f"{before + 1} in total", timeout=timeout)


# A socket the page opens itself, identified with the app's token: the app
# cannot close it, so only Stocky ending the token can.
PROBE = """async ({ url, uiId, token }) => {
  const socket = new WebSocket(url);
  window.probeClosed = null;
  socket.onclose = (event) => { window.probeClosed = event.code; };
  await new Promise((resolve) => {
    socket.onopen = () => socket.send(JSON.stringify({ action: "identify_ui", ui_id: uiId, token }));
    socket.onmessage = (event) => JSON.parse(event.data).action === "identified" && resolve();
  });
}"""


def test_signing_out_ends_this_browsers_token_and_socket_and_no_other(kitchen, pages):
    name, password = new_person(kitchen)
    page, phone = pages(), pages(phone=True)
    connections = watch_sockets(page)
    sign_in(page, kitchen.url, name, password)
    sign_in(phone, kitchen.url, name, password)  # the same person, another browser
    until(page, lambda: any(c.identified for c in connections))
    token = connections[-1].tokens[-1]
    page.evaluate(PROBE, {"url": kitchen.url.replace("http", "ws") + "/ws", "uiId": str(uuid.uuid4()), "token": token})

    open_account_menu(page)
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.wait_for_function("() => window.probeClosed !== null")
    assert page.evaluate("window.probeClosed") == 4401
    until(page, lambda: all(c.socket.is_closed() for c in connections))
    with pytest.raises(urllib.error.HTTPError) as refused:
        kitchen.request("GET", "/api/v1/user/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.value.code == 401

    live(phone, kitchen)  # the other browser is still signed in, and still live


def test_sign_out_everywhere_asks_first_then_ends_every_sign_in(kitchen, pages):
    name, password = new_person(kitchen, "Admin")  # the longest menu
    phone, computer = pages(phone=True), pages()
    computers = watch_sockets(computer)
    sign_in(phone, kitchen.url, name, password)
    sign_in(computer, kitchen.url, name, password)
    until(computer, lambda: any(c.identified for c in computers))

    open_account_menu(phone)
    everywhere = phone.get_by_role("button", name="Sign out everywhere")
    asked = phone.get_by_role("group", name="Sign out on every phone and computer, this one too?")
    everywhere.click()
    asked.get_by_role("button", name="Cancel").click()
    expect(asked).to_have_count(0)
    expect(everywhere).to_be_visible()  # changed their mind: still signed in
    everywhere.click()
    yes = asked.get_by_role("button", name="Yes, everywhere")
    box = yes.bounding_box()
    assert box and box["y"] + box["height"] <= 740, box  # the question comes into view at the end of a long menu
    yes.click()
    expect(phone.get_by_role("status")).to_have_text("You are signed out everywhere.")
    expect(phone.get_by_role("button", name="Sign in")).to_be_visible()

    # The computer's socket is closed, and its next step is the sign-in page.
    until(computer, lambda: all(c.socket.is_closed() for c in computers))
    expect(computer.get_by_role("status")).to_have_text("Your sign-in has ended; please sign in again.")
    computer.reload()
    expect(computer.get_by_role("button", name="Sign in")).to_be_visible()
    phone.reload()
    expect(phone.get_by_role("button", name="Sign in")).to_be_visible()


def test_a_new_password_ends_the_other_sign_ins_and_this_one_carries_on(kitchen, pages):
    name, password = new_person(kitchen)
    page, phone = pages(), pages(phone=True)
    sign_in(page, kitchen.url, name, password)
    sign_in(phone, kitchen.url, name, password)
    open_account_menu(page)
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    form = page.locator("form")

    def change(current: str, new: str, again: str | None = None) -> None:
        form.get_by_label("Current password").fill(current)
        form.get_by_label("New password", exact=True).fill(new)
        form.get_by_label("New password again").fill(again or new)
        form.get_by_role("button", name="Change password").click()

    said = form.get_by_role("alert")
    change("not-my-password", "a-Fresh-Secret-42")
    expect(said).to_have_text("The current password is not right.")
    change(password, "short-one")
    expect(said).to_have_text("The password needs at least 10 characters.")
    change(password, "qwertyuiop")
    expect(said).to_have_text("That password is one of the most common ones, which are tried first; choose another.")
    change(password, "a-Fresh-Secret-42", "a-Fresh-Secret-24")
    expect(said).to_have_text("The two new passwords are not the same.")
    expect(phone.locator(".shell")).to_be_visible()  # nothing changed yet

    change(password, "a-Fresh-Secret-42")
    expect(form.get_by_role("status")).to_have_text("Password changed; your other sign-ins have ended.")
    expect(phone.get_by_role("status")).to_have_text("Your sign-in has ended; please sign in again.")

    # This browser carries on: its live connection comes back with the new
    # token (the first scan may arrive as the catch-up after reconnecting,
    # the second one comes live), a tap works, and so does a reload.
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    live(page, kitchen, timeout=TIMEOUT_MS)
    live(page, kitchen)
    tuna = entry(page, TUNA[0])
    before = kitchen.item_named(TUNA[0])["total_quantity"]
    tuna.locator(".item-toggle").click()
    tuna.get_by_role("button", name=f"One less {TUNA[0]} in Pantry").click()
    expect(tuna).to_contain_text(f"{before - 1} in total")
    page.reload()
    expect(page.get_by_role("heading", name="Inventory")).to_be_visible()
    sign_in(phone, kitchen.url, name, "a-Fresh-Secret-42")


def test_a_page_left_open_past_its_tokens_life_stays_live(kitchen, pages):
    page = pages()
    connections = watch_sockets(page)
    sign_in(page, kitchen.url)
    until(page, lambda: any(c.identified for c in connections))
    opened, connection = len(connections), connections[-1]
    page.wait_for_timeout((TOKEN_MINUTES * 60 + 15) * 1000)  # past the first token's expiry, and no more
    assert len(connections) == opened and not connection.socket.is_closed()  # never closed, never replaced
    assert len(set(connection.tokens)) >= 2  # it identified again with a renewed token
    live(page, kitchen)


OTHER_SITE = """<!doctype html><title>Another site</title>
<form method="post" action="{stocky}/api/v1/auth/logout"><button>Claim your prize</button></form>"""


@contextmanager
def another_site(html: str) -> Iterator[str]:
    """A tiny web server on loopback at another port: another origin, the
    same site, so the browser sends Stocky's SameSite=Strict cookie along."""
    app = web.Application()

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app.router.add_get("/", page)
    runner, port = web.AppRunner(app), free_port()

    async def start() -> None:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()

    # Its own loop in its own thread: Playwright's runs in this one.
    loop = asyncio.new_event_loop()
    serving = threading.Thread(target=loop.run_forever, daemon=True)
    serving.start()
    try:
        asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
        yield f"http://127.0.0.1:{port}/"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        serving.join(timeout=5)
        loop.close()


def test_another_sites_page_cannot_sign_this_browser_out(kitchen, pages):
    page = pages()
    sign_in(page, kitchen.url)
    logout = kitchen.url + "/api/v1/auth/logout"
    with another_site(OTHER_SITE.format(stocky=kitchen.url)) as address:
        other = page.context.new_page()
        other.goto(address)
        # Its script tries; the browser keeps Stocky's answer from it, and
        # without CORS the same request shows that answer to the test.
        fetch = "([url, mode]) => fetch(url, { method: 'POST', credentials: 'include', mode }).then(r => r.status, e => e.name)"
        assert other.evaluate(fetch, [logout, "cors"]) == "TypeError"
        with other.expect_response(logout) as fetched:
            other.evaluate(fetch, [logout, "no-cors"])
        assert fetched.value.status == 403
        with other.expect_response(logout) as posted:
            other.get_by_role("button", name="Claim your prize").click()
        assert posted.value.status == 403
        assert "stocky_refresh=" in posted.value.request.all_headers()["cookie"]  # same site: the cookie went along
    page.reload()
    expect(page.get_by_role("heading", name="Inventory")).to_be_visible()  # still signed in
