"""QR labels, /health, the OpenAPI description and the offline docs page."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from stocky.api.app import all_routes
from stocky.core import qr

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# -- QR -----------------------------------------------------------------------


async def test_item_label_is_a_png_by_default(api):
    reply = await api.get(f"/qr/item/{api.item('milk')}", who="Read-only")
    assert reply.status == 200, reply
    assert reply.headers["Content-Type"] == "image/png"
    assert reply.body.startswith(PNG_SIGNATURE)
    assert reply.body[12:16] == b"IHDR"
    # The label holds the item's id: a scan of it acts as the item's barcode.
    assert reply.body == qr.render(api.item("milk"), "png")


async def test_item_label_as_svg(api):
    reply = await api.get(f"/qr/item/{api.item('milk')}", params={"format": "svg"})
    assert reply.status == 200, reply
    assert reply.headers["Content-Type"] == "image/svg+xml"
    assert b"<svg" in reply.body[:300]
    assert not reply.body.startswith(PNG_SIGNATURE)


async def test_location_label_holds_the_set_location_command(api):
    pantry = api.loc("Pantry")
    label = await api.get(f"/qr/location/{pantry}", params={"format": "svg"})
    assert label.status == 200, label
    # What DESIGN.md section 4 says a location label holds, rendered the same way.
    expected = json.dumps({"command": "set_location", "payload": pantry}, separators=(",", ":"))
    assert label.body == qr.render(expected, "svg")
    # ... and the same picture as the command card for it.
    card = await api.post(
        "/qr/command", params={"format": "svg"}, json={"command": "set_location", "payload": pantry}
    )
    assert card.status == 200, card
    assert card.body == label.body
    png = await api.get(f"/qr/location/{pantry}")
    assert png.headers["Content-Type"] == "image/png" and png.body.startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    "command",
    [
        {"command": "show_view", "payload": "inventory"},
        {"command": "set_mode", "payload": "remove"},
        {"command": "associate_ui", "payload": "0b6f5ad6-3c43-4bd2-8a84-8b2f4d6a3f11"},
        {"command": "best_before", "payload": "+3d"},
        {"command": "best_before", "payload": "+1m"},
        {"command": "best_before", "payload": "2027-02-28"},
    ],
)
async def test_command_cards(api, command):
    reply = await api.post("/qr/command", who="Read-only", json=command)
    assert reply.status == 200, reply
    assert reply.headers["Content-Type"] == "image/png"
    assert reply.body.startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("command", "field"),
    [
        ({"command": "self_destruct", "payload": "now"}, "command"),
        ({"command": "set_mode", "payload": "sideways"}, None),
        ({"command": "show_view", "payload": "kitchen"}, None),
        ({"command": "set_location", "payload": "Pantry"}, None),
        ({"command": "associate_ui", "payload": ""}, None),
        ({"command": "best_before", "payload": "soon"}, None),
        ({"command": "best_before", "payload": "2027-02-30"}, None),
        ({"command": "set_mode"}, None),  # a payload is optional (undo has none), a mode is not
        ({"command": "set_mode", "payload": "add", "extra": 1}, "extra"),
    ],
)
async def test_an_invalid_command_is_422(api, command, field):
    reply = await api.post("/qr/command", json=command)
    fields = api.failing_fields(reply)
    if field:
        assert field in fields
    assert PNG_SIGNATURE not in reply.body


async def test_a_date_card_that_is_no_date_says_what_it_takes_once(api):
    reply = await api.post("/qr/command", json={"command": "best_before", "payload": "soon"})
    message = reply.json["error"]["message"]
    assert message.count("+<n>d") == 1 and "'soon'" in message, message


async def test_an_unknown_image_format_is_422(api):
    reply = await api.get(f"/qr/item/{api.item('milk')}", params={"format": "gif"})
    assert "format" in api.failing_fields(reply)


# -- /health --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/health", "/api/v1/health"])
async def test_health_needs_no_sign_in_and_tells_strangers_only_the_status(api, path):
    reply = await api.get(path, who="anonymous")
    assert reply.status == 200, reply
    assert reply.json == {"status": "ok"}


@pytest.mark.parametrize("who", ["Read-only", "Scanner"])
async def test_health_tells_signed_in_callers_the_version_and_database(api, who):
    reply = await api.get("/health", who=who)
    assert reply.status == 200, reply
    body = reply.json
    assert body["status"] == "ok" and body["database"] == "ok"
    assert isinstance(body["version"], str) and body["version"]


async def test_health_with_a_wrong_key_is_the_anonymous_answer(api):
    reply = await api.get("/health", who="anonymous", headers={"X-API-Key": "sk_wrong"})
    assert reply.status == 200, reply
    assert reply.json == {"status": "ok"}


async def test_health_is_503_when_the_database_is_gone(api, monkeypatch):
    def broken():
        raise OSError("disk unplugged")

    monkeypatch.setattr(api.services.db, "reader", broken)
    reply = await api.get("/health", who="anonymous")
    assert reply.status == 503, reply
    assert reply.json == {"status": "degraded"}
    assert "disk unplugged" not in reply.text


async def test_health_answers_a_signed_in_caller_while_the_database_cannot_be_read(api, caplog):
    """The credentials cannot be checked either: still the health answer, no details."""
    if not api.services.db.is_sqlite:
        pytest.skip("a database file deleted under Stocky is a SQLite fault")
    for name in ("stocky.db", "stocky.db-wal", "stocky.db-shm"):
        (api.data_dir / name).unlink(missing_ok=True)
    api.services.db.read_engine.dispose()  # the next read opens the (missing) file
    for who in ("Read-only", "Scanner"):
        reply = await api.get("/health", who=who)
        assert reply.status == 503, reply
        assert reply.json == {"status": "degraded"}
    assert not [record for record in caplog.records if record.exc_info]


# -- /openapi.json ------------------------------------------------------------------


async def test_openapi_is_3_1_and_lists_every_route_with_its_policy(api):
    reply = await api.get("/openapi.json", who="anonymous")
    assert reply.status == 200, reply
    spec = reply.json
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"] and spec["info"]["version"]
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    # Every REST route; only the WebSocket, which is no REST operation, says it is not documented.
    rest = [route for route in all_routes() if getattr(route, "documented", True)]
    # Not REST: the WebSocket, and the certificate and page a phone connects with.
    assert {route.full_path for route in all_routes() if route not in rest} <= {"/ws", "/ca.pem", "/connect"}
    declared = {(route.method, route.full_path) for route in rest}
    assert documented == declared
    for route in rest:
        operation = spec["paths"][route.full_path][route.method.lower()]
        assert operation["x-policy"] == route.policy.value
        assert str(route.status) in operation["responses"]
        assert (operation["security"] == []) == (route.policy.value == "anyone"), route.key
    operation_ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    assert (schemes["apiKey"]["in"], schemes["apiKey"]["name"]) == ("header", "X-API-Key")


async def test_openapi_references_resolve(api):
    spec = (await api.get("/openapi.json", who="anonymous")).json
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(spec)))
    assert refs
    assert refs <= set(spec["components"]["schemas"])


def _resolved(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


@pytest.mark.parametrize("stock", ["in", "shopping"])
async def test_openapi_documents_every_field_of_an_item_list(api, stock):
    spec = (await api.get("/openapi.json", who="anonymous")).json
    answer = spec["paths"]["/api/v1/item"]["get"]["responses"]["200"]["content"]["application/json"]
    items = _resolved(spec, answer["schema"])["properties"]["data"]["items"]
    shapes = [set(_resolved(spec, shape)["properties"]) for shape in items.get("anyOf", [items])]
    rows = api.page(await api.get("/item", params={"stock": stock}))
    assert rows  # the seeded kitchen has stock, and ran out of jam
    for row in rows:
        assert any(set(row) <= shape for shape in shapes), (sorted(row), shapes)


async def test_openapi_documents_what_storage_answers_to_every_change(api):
    spec = (await api.get("/openapi.json", who="anonymous")).json
    api.services.db.health.lost("The database file was deleted while Stocky was running")
    api.error(await api.post("/location", json={"name": "Cellar"}), 503, "storage_unavailable")
    changes = [(path, method, operation) for path, operations in spec["paths"].items()
               for method, operation in operations.items() if method != "get"]
    assert changes
    for path, method, operation in changes:
        for code in ("503", "507"):
            answer = operation["responses"].get(code)
            assert answer is not None, (method, path, code)
            body = _resolved(spec, answer["content"]["application/json"]["schema"])
            assert set(body["properties"]) == {"error"}, (method, path, code)
        assert "Retry-After" in operation["responses"]["503"]["headers"], (method, path)


# -- /docs ------------------------------------------------------------------------


def _referenced_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href|url)\s*[=:]\s*["\']([^"\']+)["\']', html)


async def _page_and_its_script(api) -> str:
    """The docs page with the text of its own script (docs.js) appended:
    what the browser runs."""
    html = (await api.get("/docs", who="anonymous")).text
    script = await api.get("/api/v1/docs/assets/docs.js", who="anonymous")
    assert script.status == 200, script
    return html + script.text


async def test_docs_page_uses_only_local_assets_and_they_are_served(api):
    reply = await api.get("/docs", who="anonymous")
    assert reply.status == 200, reply
    assert reply.headers["Content-Type"].startswith("text/html")
    html = await _page_and_its_script(api)
    external = [url for url in re.findall(r'(?:https?:)?//[^\s"\'<>)]+', html)]
    assert external == [], f"the docs page reaches out to {external}"
    urls = _referenced_urls(html)
    assert "/api/v1/openapi.json" in urls
    assets = [url for url in urls if url != "/api/v1/openapi.json"]
    assert any(url.endswith(".js") for url in assets) and any(
        url.endswith(".css") for url in assets
    )
    for url in urls:
        assert not urlsplit(url).netloc, url
        served = await api.get(url, who="anonymous")
        assert served.status == 200, (url, served)
        assert served.body, url
        if url.endswith(".js"):
            assert "javascript" in served.headers["Content-Type"]
        elif url.endswith(".css"):
            assert served.headers["Content-Type"].startswith("text/css")
            # The stylesheet pulls nothing from the internet either.
            assert not re.search(r"url\(\s*[\"']?(https?:)?//", served.text)
        elif url.endswith(".png"):
            assert served.body.startswith(PNG_SIGNATURE)


async def test_docs_page_runs_no_inline_script_and_may_not_be_framed(api):
    reply = await api.get("/docs", who="anonymous")
    assert reply.status == 200, reply
    policy = reply.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert reply.headers["X-Frame-Options"] == "DENY"
    # Every script of the page is a file (the policy would block inline ones).
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", reply.text, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)


async def test_docs_page_turns_off_the_online_validator(api):
    html = await _page_and_its_script(api)
    assert re.search(r"validatorUrl\s*:\s*(null|[\"']none[\"'])", html)


@pytest.mark.parametrize(
    "name",
    ["index.html", "..%2F..%2F..%2Fpyproject.toml", "swagger-ui-bundle.js.map", "secret_key"],
)
async def test_only_the_docs_files_are_served(api, name):
    reply = await api.get(f"/api/v1/docs/assets/{name}", who="anonymous")
    api.error(reply, 404)


async def test_a_422_says_our_sentence_without_pydantics_prefix(api):
    reply = await api.post("/qr/command", json={"command": "show_view", "payload": "kitchen"})
    detail = api.error(reply, 422, "validation_error")
    assert detail["message"].startswith("Invalid input (body: show_view takes one of: "), detail
    assert "Value error" not in reply.text
