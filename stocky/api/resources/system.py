from __future__ import annotations

import mimetypes
from pathlib import Path

import swagger_ui_bundle
from aiohttp import web
from sqlalchemy import text

import stocky
from stocky.api import keys
from stocky.api.openapi import build_spec
from stocky.api.policy import Policy
from stocky.api.routing import Call, Route
from stocky.core.errors import NotFound
from stocky.schemas.common import Output

ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
ASSET_NAMES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})

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
  <script>
    window.ui = SwaggerUIBundle({
      url: "/api/v1/openapi.json",
      dom_id: "#docs",
      deepLinking: true,
      persistAuthorization: false,
      tryItOutEnabled: true,
      validatorUrl: null,
    });
  </script>
</body>
</html>
"""


class Health(Output):
    status: str
    version: str
    database: str


async def health(call: Call) -> web.Response:
    """Liveness for systemd, Docker and monitoring: 503 when the database is
    unreachable or writes are failing."""
    db = call.services.db
    try:
        await db.read(lambda session: session.execute(text("SELECT 1")))
    except Exception:
        body = Health(status="degraded", version=stocky.__version__, database="unreachable")
        status = 503
    else:
        if db.health.ok:
            body = Health(status="ok", version=stocky.__version__, database="ok")
            status = 200
        else:
            body = Health(status="degraded", version=stocky.__version__, database="failing")
            status = 503
    return web.Response(text=body.model_dump_json(), status=status, content_type="application/json")


async def openapi(call: Call) -> web.Response:
    spec = build_spec(list(call.request.app[keys.ROUTES].values()))
    return web.json_response(spec)


async def docs(call: Call) -> web.Response:
    return web.Response(text=DOCS_PAGE, content_type="text/html")


async def docs_asset(call: Call) -> web.FileResponse:
    name = call.request.match_info["name"]
    if name not in ASSET_NAMES:
        raise NotFound(f"No documentation file {name}.")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return web.FileResponse(ASSETS / name, headers={"Content-Type": content_type})


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
