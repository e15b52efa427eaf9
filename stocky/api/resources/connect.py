"""Connecting a phone: ``/ca.pem`` is Stocky's own certificate authority
(public, like any certificate), and ``/connect`` tells a person, for Android
and iPhone, how to install it, with the fingerprint to compare and the
secure address to open. Both answer over plain HTTP too: that is where a
phone starts."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html

from aiohttp import web

from stocky.api import keys
from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.core import qr
from stocky.core.errors import NotFound

CA_NAME = "Stocky-CA.pem"
STYLE = """
body { font: 18px/1.5 system-ui, sans-serif; margin: 0; color: #1d2a22; background: #f6f7f4; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin-top: 1.5rem; }
a.button { display: inline-block; padding: .75rem 1rem; min-height: 44px; box-sizing: border-box;
  background: #2f6b45; color: #fff; border-radius: .5rem; text-decoration: none; font-weight: 600; }
code { font-size: .85rem; overflow-wrap: anywhere; background: #e7eae3; padding: .1rem .25rem; }
code.fingerprint { display: block; padding: .5rem .75rem; border-radius: .5rem; line-height: 1.6; overflow-wrap: normal; }
img.qr { width: 12rem; height: 12rem; image-rendering: pixelated; }
.muted { color: #56635b; }
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# The page's own policy: the HTTP answers' one, plus this one style block.
PAGE_POLICY = (
    "default-src 'none'; img-src data:; style-src 'sha256-" + _STYLE_HASH + "'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


async def ca_certificate(call: Call) -> web.Response:
    """Stocky's certificate authority, for a phone to install."""
    https = call.request.app[keys.HTTPS]
    if https.ca is None:
        raise NotFound("Stocky serves HTTPS with a certificate from elsewhere, or not at all: "
                       "there is no certificate of its own to install.")
    body = await asyncio.to_thread(https.ca.read_bytes)
    return web.Response(body=body, content_type="application/x-x509-ca-cert", headers={
        "Content-Disposition": f'attachment; filename="{CA_NAME}"', "Cache-Control": "no-cache"})


async def connect_page(call: Call) -> web.Response:
    """How to connect a phone over HTTPS, in three steps."""
    https = call.request.app[keys.HTTPS]
    address = https.address()
    if address is None:
        body = "<p>Stocky serves plain HTTP only here (its HTTPS port is turned off).</p>"
    else:
        here = f"{call.request.scheme}://{call.request.host}/connect"
        code = await asyncio.get_running_loop().run_in_executor(None, qr.render, here, "svg")
        body = _steps(address, https.fingerprint, base64.b64encode(code).decode())
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Connect a phone to Stocky</title><style>{STYLE}</style></head>"
        f"<body><main><h1>Connect a phone to Stocky</h1>{body}</main></body></html>"
    )
    return web.Response(text=page, content_type="text/html",
                        headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store"})


def _breakable(fingerprint: str) -> str:
    """The fingerprint, wrapped only between its bytes (never "5" and "5:16")."""
    return html.escape(fingerprint).replace(":", ":<wbr>")


def _steps(address: str, fingerprint: str | None, qr_svg: str) -> str:
    link = html.escape(address)
    opening = (
        "<p>Stocky's secure address works in the shop without a connection (the shopping "
        "list) and with the phone's camera. Each phone trusts Stocky's own certificate once.</p>"
    )
    if fingerprint is None:  # a certificate from elsewhere: nothing to install
        return opening + f'<p><a class="button" href="{link}">Open {link}</a></p>'
    install = (
        f'<p><a class="button" href="/ca.pem" download="{CA_NAME}">Get Stocky\'s certificate</a></p>'
        "<h2>Android</h2><ol>"
        "<li>Open the downloaded file, or go to <b>Settings → Security → More security settings → "
        f"Install a certificate → CA certificate</b> and choose <b>{CA_NAME}</b>.</li>"
        "<li>Tap <b>Install anyway</b>.</li>"
        f'<li>Open <a href="{link}">{link}</a>.</li></ol>'
        "<h2>iPhone and iPad</h2><ol>"
        "<li>Open this page in Safari, tap the button above and <b>Allow</b>.</li>"
        "<li><b>Settings → General → VPN &amp; Device Management → Stocky → Install</b>.</li>"
        "<li><b>Settings → General → About → Certificate Trust Settings</b>: turn on Stocky.</li>"
        f'<li>Open <a href="{link}">{link}</a>.</li></ol>'
    )
    check = (
        "<h2>Check it is this box's</h2><p>The phone shows the certificate's SHA-256 "
        f'fingerprint; it must read:</p><p><code class="fingerprint">{_breakable(fingerprint)}</code></p>'
        '<p class="muted">This certificate can vouch only for this box, by its own names and '
        "addresses: never for another website.</p>"
    )
    scan = (
        "<h2>On a computer?</h2><p>Scan this with the phone to open this page there:</p>"
        f'<img class="qr" alt="QR code of this page" src="data:image/svg+xml;base64,{qr_svg}">'
    )
    return opening + install + check + scan


ROUTES = [
    Route("GET", "/ca.pem", ca_certificate, Policy.ANYONE,
          "Stocky's own certificate authority, for a phone to install", "system",
          prefixed=False, documented=False),
    Route("GET", "/connect", connect_page, Policy.ANYONE,
          "How to connect a phone over HTTPS", "system", prefixed=False, documented=False),
]
