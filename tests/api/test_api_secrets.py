"""No API key, token or password ever reaches a log.

This runs the real composition root (``stocky.runtime.Runtime``, the one
``stocky serve`` and the kiosk use) on a loopback port, with every logger
open at DEBUG (SQL statements included), and uses keys and tokens the ways a
kitchen would, and a few ways it should not (a key in the address).
"""

from __future__ import annotations

import json
import logging
import uuid

import aiohttp
import pytest

MILK_UPC = "4006381333931"


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is still a record
            message = f"{record.msg!r} % {record.args!r}"
        extra = {k: v for k, v in vars(record).items() if k not in {"msg", "args", "exc_info"}}
        exc = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.lines.append(
            f"{record.name} {message} {record.args!r} {extra!r} {exc} {record.stack_info or ''}"
        )


@pytest.fixture
def all_logs_at_debug():
    handler = Everything()
    root = logging.getLogger()
    touched = [
        root,
        logging.getLogger("stocky"),
        logging.getLogger("aiohttp"),
        logging.getLogger("sqlalchemy"),
    ]
    levels = [logger.level for logger in touched]
    for logger in touched:
        logger.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    for logger, level in zip(touched, levels, strict=True):
        logger.setLevel(level)


async def test_keys_and_tokens_never_reach_a_log(api_template, tmp_path, all_logs_at_debug):
    seed = api_template.seed
    runtime = api_template.runtime_in(tmp_path / "data")
    await runtime.start()
    secrets: dict[str, str] = {
        "scanner key": seed.scanner_key,
        "admin password": seed.passwords["Admin"],
        "template token": seed.tokens["Member"],
    }
    statuses: dict[str, int] = {}
    try:
        base = f"http://127.0.0.1:{runtime.bound_port}"
        async with aiohttp.ClientSession(base) as http:

            async def call(label: str, method: str, path: str, **kwargs) -> dict | None:
                async with http.request(method, path, **kwargs) as response:
                    statuses[label] = response.status
                    text = await response.text()
                    return json.loads(text) if text.startswith("{") else None

            key = {"X-API-Key": seed.scanner_key}
            login = await call(
                "login",
                "POST",
                "/api/v1/auth/login",
                json={"username": "alice", "password": seed.passwords["Admin"]},
            )
            secrets["fresh token"] = token = login["access_token"]
            admin = {"Authorization": f"Bearer {token}"}

            await call(
                "scan with key", "POST", "/api/v1/scanner/scan", headers=key, json={"msg": MILK_UPC}
            )
            await call("key on inventory", "GET", "/api/v1/item", headers=key)
            await call("key on me", "GET", "/api/v1/user/me", headers=key)
            await call("key on health", "GET", "/health", headers=key)
            await call("key in query", "GET", "/api/v1/item", params={"api_key": seed.scanner_key})
            await call(
                "key in query, scan",
                "POST",
                "/api/v1/scanner/scan",
                params={"api_key": seed.scanner_key},
                json={"msg": MILK_UPC},
            )
            await call("token in query", "GET", "/api/v1/item", params={"access_token": token})
            secrets["wrong key"] = wrong = "sk_" + uuid.uuid4().hex + "wrongwrong"
            await call("wrong key", "GET", "/api/v1/item", headers={"X-API-Key": wrong})
            secrets["forged token"] = forged = token[:-6] + "AAAAAA"
            await call(
                "forged token", "GET", "/api/v1/item", headers={"Authorization": f"Bearer {forged}"}
            )
            await call(
                "member token",
                "GET",
                "/api/v1/item",
                headers={"Authorization": f"Bearer {seed.tokens['Member']}"},
            )

            created = await call(
                "new scanner",
                "POST",
                "/api/v1/user",
                headers=admin,
                json={"username": "Freezer scanner", "role": "Scanner"},
            )
            secrets["new scanner key"] = created["api_key"]
            rotated = await call(
                "rotate", "POST", f"/api/v1/user/{seed.users['Scanner']}/api-key", headers=admin
            )
            secrets["rotated key"] = rotated["api_key"]
            await call(
                "scan with rotated key",
                "POST",
                "/api/v1/scanner/scan",
                headers={"X-API-Key": rotated["api_key"]},
                json={"msg": "not a ' product\x07"},
            )
            await call("old key after rotation", "GET", "/health", headers=key)
            await call(
                "old key refused",
                "POST",
                "/api/v1/scanner/scan",
                headers=key,
                json={"msg": MILK_UPC},
            )
            await call("log", "GET", "/api/v1/log", headers=admin, params={"limit": "10000"})

            async with http.ws_connect("/ws", params={"token": token}) as ws:
                refused = await ws.receive_json(timeout=5)  # never in the address
                assert refused["action"] == "error", refused
            async with http.ws_connect("/ws") as ws:
                await ws.send_json(
                    {
                        "action": "identify_ui",
                        "ui_id": str(uuid.uuid4()),
                        "token": created["api_key"],
                    }
                )
                identified = await ws.receive_json(timeout=5)
                assert identified["action"] == "identified"
                await ws.send_str("{not json " + seed.scanner_key)

        buffer = runtime.services.logs.query(limit=100_000)
    finally:
        await runtime.stop()

    # The requests did what they should (so the logs below saw the real thing).
    assert statuses["login"] == 200
    assert statuses["scan with key"] == 200
    assert statuses["key on inventory"] == 403
    assert statuses["key in query"] == 401
    assert statuses["key in query, scan"] == 401
    assert statuses["token in query"] == 401
    assert statuses["wrong key"] == 401
    assert statuses["forged token"] == 401
    assert statuses["new scanner"] == 201 and statuses["rotate"] == 200
    assert statuses["scan with rotated key"] == 422
    assert statuses["old key refused"] == 401

    lines = all_logs_at_debug.lines
    buffer_lines = [f"{e.severity} {e.source} {e.message}" for e in buffer]
    # The capture works: the refused request with the key in its address is in the access log...
    assert any("GET /api/v1/item 401" in line for line in lines), lines[-20:]
    # ... SQL is logged (DEBUG really is on), and the kitchen's log has the scans.
    assert any("SELECT" in line for line in lines)
    assert any("Added Whole Milk to Fridge" in line for line in buffer_lines), buffer_lines

    for name, secret in secrets.items():
        assert secret and len(secret) >= 8, name
        leaks = [line for line in lines if secret in line]
        assert not leaks, f"the {name} is in the log: {leaks[0][:500]}"
        leaks = [line for line in buffer_lines if secret in line]
        assert not leaks, f"the {name} is in GET /log: {leaks[0][:500]}"


async def test_a_scanned_api_key_is_refused_and_never_logged_or_stored(api):
    _, key = await api.new_scanner()  # another scanner's key, e.g. its printed setup QR
    await api.post(
        "/scanner/scan",
        who="Scanner",
        json={"msg": json.dumps({"command": "set_location", "payload": api.loc("Pantry")})},
    )
    reply = await api.post("/scanner/scan", who="Scanner", json={"msg": key})
    assert 400 <= reply.status < 500, reply
    assert key not in reply.text
    logged = [f"{e.source} {e.message}" for e in api.services.logs.query(limit=10_000)]
    assert not [line for line in logged if key in line]
    stored = await api.get("/item", params={"search": key[:20], "stock": "all"})
    assert api.page(stored) == []


# -- a key sent along with a scan -------------------------------------------------

GS = "\x1d"


@pytest.mark.parametrize(
    "scanned",
    [
        lambda key: f"010950110153000310{key}",  # a GS1 code whose batch field (AI 10) is the key
        lambda key: f"]d20109501101530003{GS}10{key}{GS}17261231",  # the same after a GS separator
        lambda key: json.dumps({"id": key, "msg": MILK_UPC}),  # the whole MQTT message scanned
        lambda key: f"https://stocky.example/?k={key}",  # a link carrying it
        lambda key: f"Jar{key[:14]}",  # glued after letters, and cut short
    ],
    ids=["after a GTIN", "after GS", "inside JSON", "inside a URL", "after letters"],
)
async def test_a_key_inside_a_scan_is_refused_and_hidden_everywhere(api, scanned):
    key = api.seed.scanner_key
    secret = key[3:11]  # the first 8 characters after "sk_": never shown anywhere
    await api.call("PUT", f"/scanner/{api.user('Scanner')}/state", json={"current_location_id": api.loc("Pantry")})
    before = await api.snapshot()

    reply = await api.post("/scanner/scan", who="Scanner", json={"msg": scanned(key)})

    assert api.failing_fields(reply) == {"msg"}
    assert secret not in reply.text
    assert await api.snapshot() == before  # no item, no journal row, no alert
    log = await api.get("/log", who="Read-only", params={"limit": "1000"})
    refusal = [e["message"] for e in api.page(log) if "refused" in e["message"]]
    assert refusal and "sk_[hidden]" in refusal[0], refusal
    assert secret not in log.text


async def test_a_key_as_a_scan_id_is_refused_so_the_journal_never_holds_it(api):
    key = api.seed.scanner_key
    await api.call("PUT", f"/scanner/{api.user('Scanner')}/state", json={"current_location_id": api.loc("Pantry")})
    before = await api.snapshot()

    reply = await api.post("/scanner/scan", who="Scanner", json={"msg": MILK_UPC, "scan_id": f"7{key}"})

    assert api.failing_fields(reply) == {"scan_id"}
    assert await api.snapshot() == before
    history = await api.get(f"/item/{api.item('milk')}/history", who="Read-only")
    assert history.status == 200 and key[3:11] not in history.text


async def test_an_answer_never_echoes_a_key_it_was_sent(api):
    key = api.seed.scanner_key
    in_address = await api.get(f"/item/{key}", who="Read-only")
    assert api.error(in_address, 404)["message"] == "No item with id sk_[hidden]."
    as_barcode = await api.post("/item", who="Member", json={"name": "Tea", "upc": f"40{key}"})
    assert api.failing_fields(as_barcode) == {"upc"}  # never stored, never sent to the product service
    as_field = await api.post("/location", who="Member", json={"name": "Attic", key: "x"})
    assert api.failing_fields(as_field) == {"sk_[hidden]"}
    for reply in (in_address, as_barcode, as_field):
        assert key[3:11] not in reply.text


async def test_an_alert_and_a_scan_message_hide_a_key_a_person_typed(api):
    key = api.seed.scanner_key
    made = await api.post("/alert", who="Member", json={"message": f"New scanner key:{key}", "severity": "Info"})
    assert made.status == 201, made
    assert made.json["message"] == "New scanner key:sk_[hidden]"
    listed = await api.get("/alert", who="Read-only")
    assert "New scanner key:sk_[hidden]" in [a["message"] for a in api.page(listed)]

    # A product named with a key (by a person, or a product service) scans as "sk_[hidden]".
    await api.patch(f"/item/{api.item('milk')}", who="Member", json={"name": f"Milk{key}"})
    scan = await api.post("/scanner/scan", who="Scanner", json={"msg": MILK_UPC})
    assert scan.status == 200, scan
    assert scan.json["message"] == "Added Milksk_[hidden] to Fridge (now 4)"

    log = await api.get("/log", who="Read-only", params={"limit": "1000"})
    messages = [e["message"] for e in api.page(log)]
    assert "Alert: New scanner key:sk_[hidden]" in messages
    assert "Added Milksk_[hidden] to Fridge (now 4)" in messages
    assert key[3:11] not in log.text + listed.text
