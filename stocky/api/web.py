"""StockyWeb's files: the built bundle in ``stocky/web_dist`` (made from
``stocky_web/`` by ``npm run build``, committed, and checked against its
source by ``tests/web/test_bundle.py``).

These are public files with no data in them, so they need no route policy:
a GET or HEAD that no route matched, outside the API, ``/ws`` and
``/health``, is answered from here. A path that is not a file answers
``index.html``, so a deep link (``/item/...``) works on reload. Files are
looked up and read on a worker thread: an SD card's cold read must not hold
up the event loop (scans, sockets).
"""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path
from typing import Any

from aiohttp import web

from stocky.api.routing import PREFIX

WEB_DIST = Path(__file__).resolve().parent.parent / "web_dist"
RESERVED = (PREFIX, "/ws", "/health")

# Scripts, styles and connections only from Stocky itself; images also from
# blob: URLs (QR codes fetched with the bearer token) and data: (SVG icons).
CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".js": "text/javascript", ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml"}


def _reserved(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in RESERVED)


def _file_for(path: str, dist: Path) -> Path | None:
    """The bundle's file at ``path``; never anything outside the bundle."""
    relative = path.lstrip("/")
    if not relative or "\\" in relative or "\0" in relative:
        return None
    candidate = (dist / relative).resolve()
    if not candidate.is_relative_to(dist) or not candidate.is_file() or candidate.suffix == ".gz":
        return None
    return candidate


def _respond(request: web.Request, file: Path, cache: str, *, page: bool = False) -> web.StreamResponse:
    # nosniff, no-referrer and frame protection are added to every answer
    # (stocky/api/headers.py); a page brings its own, wider policy.
    headers = {
        "Cache-Control": cache,
        "Content-Type": TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream",
        "Vary": "Accept-Encoding",
    }
    if page:
        headers["Content-Security-Policy"] = CSP
    body = file
    packed = file.with_name(file.name + ".gz")
    if "gzip" in request.headers.get("Accept-Encoding", "") and packed.is_file():
        body = packed
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body.read_bytes(), headers=headers)


def serve(request: web.Request, dist: Path = WEB_DIST) -> web.StreamResponse:
    index = dist / "index.html"
    if not index.is_file():
        raise web.HTTPNotFound(reason="StockyWeb is not built into this installation.")
    if (file := _file_for(request.path, dist)) is not None:
        immutable = file.parent == dist / "assets"
        return _respond(request, file, IMMUTABLE if immutable else "no-cache", page=file.suffix == ".html")
    if request.path.startswith("/assets/"):
        raise web.HTTPNotFound(reason="No such file.")  # an old hashed name: not a page
    return _respond(request, index, "no-cache", page=True)


@web.middleware
async def web_ui_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    unmatched = request.match_info.http_exception is not None
    if unmatched and request.method in ("GET", "HEAD") and not _reserved(request.path):
        return await asyncio.to_thread(serve, request)
    return await handler(request)
