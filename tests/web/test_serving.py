"""How Stocky serves StockyWeb's files: deep links answer the app, hashed
assets are cached for a year and sent gzipped, pages carry a strict CSP, and
the API, /ws and /health keep their own answers."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from stocky.api.app import create_app
from stocky.api.web import WEB_DIST
from stocky.core.settings import Settings
from stocky.services.container import open_services

INDEX = (WEB_DIST / "index.html").read_bytes()
SCRIPT = next(path for path in (WEB_DIST / "assets").glob("index-*.js"))


@pytest.fixture
async def client(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=None, secret_key=None)
    async with open_services(settings) as services, TestClient(TestServer(create_app(services))) as client:
        yield client


async def get(client, path: str, **headers: str):
    async with client.get(path, headers=headers, auto_decompress=False) as response:
        return response.status, response.headers, await response.read()


@pytest.mark.parametrize("path", ["/", "/shopping", "/item/0b9a3f2e-6c1d-4f57-9a53-1c2b3d4e5f60", "/labels"])
async def test_every_page_address_answers_the_app_with_a_strict_policy(client, path):
    status, headers, body = await get(client, path, **{"Accept-Encoding": "identity"})
    assert status == 200 and body == INDEX
    assert headers["Content-Type"].startswith("text/html")
    assert headers["Cache-Control"] == "no-cache"
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    scripts = re.findall(rb"<script\b[^>]*>", INDEX)
    assert scripts and all(b' src="/assets/' in tag for tag in scripts)  # nothing inline


async def test_hashed_assets_are_cached_for_a_year_and_sent_gzipped(client):
    path = f"/assets/{SCRIPT.name}"
    status, headers, body = await get(client, path, **{"Accept-Encoding": "gzip, br"})
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Content-Encoding"] == "gzip" and headers["Vary"] == "Accept-Encoding"
    assert body == SCRIPT.with_name(SCRIPT.name + ".gz").read_bytes()
    assert headers["Content-Type"].startswith("text/javascript")
    status, headers, body = await get(client, path, **{"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in headers and body == SCRIPT.read_bytes()


async def test_the_manifest_and_icons_are_served(client):
    status, headers, _ = await get(client, "/manifest.webmanifest")
    assert status == 200 and headers["Content-Type"].startswith("application/manifest+json")
    status, headers, _ = await get(client, "/icon-192.png")
    assert status == 200 and headers["Content-Type"] == "image/png"


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1", "/ws/extra", "/health/x", "/assets/index-gone.js"])
async def test_api_addresses_and_missing_assets_are_404_not_the_app(client, path):
    status, headers, body = await get(client, path, **{"Accept-Encoding": "identity"})
    assert status == 404 and body != INDEX
    if path.startswith("/api"):
        assert headers["Content-Type"].startswith("application/json")


async def test_only_get_and_head_reach_the_files(client):
    async with client.post("/shopping", json={}) as response:
        assert response.status in (404, 405) and (await response.read()) != INDEX


@pytest.mark.parametrize("path", ["/..%2f..%2fpyproject.toml", "/assets/..%2f..%2fapi%2fweb.py", "/%2e%2e/web.py"])
async def test_nothing_outside_the_bundle_is_served(client, path):
    status, _, body = await get(client, path)
    assert b"import" not in body and b"[project]" not in body
    assert status in (200, 404)
