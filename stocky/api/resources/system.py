from __future__ import annotations

import logging
import mimetypes
from pathlib import Path

import swagger_ui_bundle
from aiohttp import web
from sqlalchemy import text

import stocky
from stocky.api import keys
from stocky.api.auth import authenticate
from stocky.api.openapi import build_spec
from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.core.errors import NotFound, StockyError
from stocky.schemas.common import Output

log = logging.getLogger("stocky.api")

SWAGGER = Path(swagger_ui_bundle.swagger_ui_path)
STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = {
    "swagger-ui.css": SWAGGER,
    "swagger-ui-bundle.js": SWAGGER,
    "favicon-32x32.png": SWAGGER,
    "docs.js": STATIC,
}

DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Stocky API</title>
  <link rel="icon" href="/api/v1/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/api/v1/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="docs"></div>
  <script src="/api/v1/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/api/v1/docs/assets/docs.js"></script>
</body>
</html>
"""


class Health(Output):
    """Anonymous callers learn only ``status``; signed-in ones also the
    version and what the database is doing."""

    status: str
    version: str | None = None
    database: str | None = None


async def _signed_in(call: Call) -> bool:
    request = call.request
    if "Authorization" not in request.headers and "X-API-Key" not in request.headers:
        return False
    # /health answers whatever happens: credentials that cannot be checked
    # (a refused key, a database that fails to read them) only hide details.
    try:
        await authenticate(request, call.services)
    except StockyError:
        return False
    except Exception:
        log.exception("Checking the credentials of a /health call failed")
        return False
    return True


async def health(call: Call) -> web.Response:
    """Liveness for systemd, Docker and monitoring: 503 when the database is
    unreachable or writes are failing."""
    db = call.services.db
    try:
        await db.read(lambda session: session.execute(text("SELECT 1")))
    except Exception:
        database, status = "unreachable", 503
    else:
        database, status = ("ok", 200) if db.health.ok else ("failing", 503)
    body = Health(status="ok" if status == 200 else "degraded")
    if await _signed_in(call):
        body = Health(status=body.status, version=stocky.__version__, database=database)
    return web.Response(
        text=body.model_dump_json(exclude_none=True), status=status, content_type="application/json"
    )


async def openapi(call: Call) -> web.Response:
    spec = build_spec(list(call.request.app[keys.ROUTES].values()))
    return web.json_response(spec)


async def docs(call: Call) -> web.Response:
    return web.Response(text=DOCS_PAGE, content_type="text/html")


async def docs_asset(call: Call) -> web.FileResponse:
    name = call.request.match_info["name"]
    if name not in ASSETS:
        raise NotFound(f"No documentation file {name}.")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return web.FileResponse(ASSETS[name] / name, headers={"Content-Type": content_type})


ROUTES = [
    Route("GET", "/health", health, Policy.ANYONE, "Is Stocky up", "system", response=Health,
          prefixed=False, errors=(503,)),
    Route("GET", "/health", health, Policy.ANYONE, "Is Stocky up", "system", response=Health,
          errors=(503,)),
    Route("GET", "/openapi.json", openapi, Policy.ANYONE, "This API description", "system"),
    Route("GET", "/docs", docs, Policy.ANYONE, "Interactive API documentation", "system",
          media_type="text/html"),
    Route("GET", "/docs/assets/{name}", docs_asset, Policy.ANYONE,
          "Files of the documentation page (served locally, no internet needed)", "system",
          media_type="*/*"),
]
