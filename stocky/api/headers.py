"""Headers every answer carries, set once just before it is sent.

Browsers are told not to guess content types or pass our addresses on, and
to stay on HTTPS once they reached Stocky over it (HSTS); HTML
pages may not be framed and run only the scripts and styles Stocky serves
itself; JSON answers (tokens, keys, inventory) are never stored by a cache;
the ``Server`` header names no versions.
"""

from __future__ import annotations

from aiohttp import web, web_response

SERVER = "Stocky"
# The default of every answer aiohttp makes itself, before any handler runs
# (a request it cannot parse gets its 400 there): no versions in those either.
web_response.SERVER_SOFTWARE = SERVER
EVERY_ANSWER = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
HTML_PAGE = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
}
PRIVATE = {"Cache-Control": "no-store"}
# A browser that reached Stocky over HTTPS (its certificate trusted) keeps
# using HTTPS for this name for a year; browsers ignore the header over plain
# HTTP and on a certificate they do not trust. No includeSubDomains: the
# household's other devices under the same name are not Stocky's to decide.
HSTS = "max-age=31536000"


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers["Server"] = SERVER
    headers.update(EVERY_ANSWER)
    if request.secure:
        headers["Strict-Transport-Security"] = HSTS
    content_type = response.content_type
    if content_type == "text/html":
        for name, value in HTML_PAGE.items():
            headers.setdefault(name, value)  # a page may bring a policy of its own (StockyWeb's)
    elif content_type == "application/json":
        headers.update(PRIVATE)
