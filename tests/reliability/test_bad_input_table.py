"""Every bad input of the API and scanning issues, as one table.

Each row is a request a buggy client, a confused scanner or a curious
person could send. Each must get its 4xx with the documented error shape,
and the database must be exactly as before: every row of every table is
read from the SQLite file before and after each request and compared.

The table runs against a real ``Runtime`` (the HTTP site on loopback, the
real SQLite file). All rows are tried; the test fails once at the end with
every row that misbehaved, so one broken rule does not hide another.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any

import aiohttp
import bcrypt
import pytest
from reliability_support import API, in_process_stocky, table_dump

from stocky.schemas.actor import SYSTEM

UPC_A = "036000291452"  # stored as the EAN-13 0036000291452
NOBODY = "00000000-0000-4000-8000-000000000000"
PASSWORD = "a long enough password"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str  # below /api/v1; {sku}, {pantry}, {item} are filled in
    auth: str  # "admin", "scanner", "disabled", "viewer", "none", "query"
    status: int
    body: Any = None  # JSON-encoded unless bytes
    raw: bytes | None = None
    content_type: str = "application/json"


def scan(name: str, msg: Any, status: int, auth: str = "scanner", **extra: Any) -> Case:
    return Case(name, "POST", "/scanner/scan", auth, status, {"msg": msg, **extra})


# fmt: off
CASES = [
    # -- the API -------------------------------------------------------------
    Case("malformed JSON", "POST", "/location", "admin", 400, raw=b'{"name": "Attic",'),
    Case("nested too deep", "POST", "/location", "admin", 400, raw=b"[" * 100_000),
    Case("empty body", "POST", "/location", "admin", 400, raw=b""),
    Case("body over 256 KiB", "POST", "/location", "admin", 413,
         {"name": "Attic", "details": "a" * (256 * 1024 + 1)}),
    Case("scan body over 256 KiB", "POST", "/scanner/scan", "scanner", 413, {"msg": "1" * 300_000}),
    Case("unknown field", "POST", "/location", "admin", 422, {"name": "Attic", "colour": "red"}),
    Case("unknown field on PATCH", "PATCH", "/sku/{sku}", "admin", 422, {"quantity": 3, "x": 1}),
    Case("wrong type: number as name", "POST", "/item", "admin", 422, {"name": 42}),
    Case("wrong type: text as delta", "POST", "/sku/{sku}/adjust", "admin", 422, {"delta": "one"}),
    Case("wrong type: list as body", "POST", "/location", "admin", 422, ["Attic"]),
    Case("wrong type: null name", "PATCH", "/location/{pantry}", "admin", 422, {"name": None}),
    Case("duplicate UPC (EAN-13 form)", "POST", "/item", "admin", 409,
         {"name": "Cola", "upc": "0" + UPC_A}),
    Case("duplicate UPC (UPC-A form)", "POST", "/item", "admin", 409,
         {"name": "Cola", "upc": UPC_A}),
    Case("duplicate location name", "POST", "/location", "admin", 409, {"name": "Pantry"}),
    Case("duplicate location name, other case", "POST", "/location", "admin", 409,
         {"name": "PANTRY"}),
    Case("rename onto another location", "PATCH", "/location/{pantry}", "admin", 409,
         {"name": "Fridge"}),
    Case("duplicate username", "POST", "/user", "admin", 409,
         {"username": "viewer", "role": "Member", "password": PASSWORD}),
    Case("unknown storage type", "POST", "/location", "admin", 422,
         {"name": "Attic", "storage_type": "Lukewarm"}),
    Case("unknown storage type on item", "POST", "/item", "admin", 422,
         {"name": "Soup", "storage_type": "Hot"}),
    Case("unknown role", "POST", "/user", "admin", 422,
         {"username": "chef", "role": "Chef", "password": PASSWORD}),
    Case("quantity below zero (new SKU)", "POST", "/sku", "admin", 422,
         {"item_id": "{item}", "location_id": "{fridge}", "quantity": -1}),
    Case("quantity below zero (set)", "PATCH", "/sku/{sku}", "admin", 422, {"quantity": -1}),
    Case("quantity below zero (adjust past 0)", "POST", "/sku/{sku}/adjust", "admin", 409,
         {"delta": -3}),
    Case("move more than there is", "POST", "/sku/{sku}/move", "admin", 409,
         {"location_id": "{fridge}", "quantity": 3}),
    Case("unknown item id", "GET", f"/item/{NOBODY}", "admin", 404),
    Case("unknown location id", "PATCH", f"/location/{NOBODY}", "admin", 404, {"name": "Attic"}),
    Case("unknown item in new SKU", "POST", "/sku", "admin", 404,
         {"item_id": NOBODY, "location_id": "{pantry}", "quantity": 1}),
    Case("unknown user id", "DELETE", f"/user/{NOBODY}", "admin", 404),
    Case("not an id at all", "GET", "/item/not-a-uuid", "admin", 404),
    Case("password over 72 bytes", "POST", "/user", "admin", 422,
         {"username": "longpw", "role": "Member", "password": "x" * 73}),
    Case("password over 72 bytes in 37 characters", "POST", "/user", "admin", 422,
         {"username": "longpw", "role": "Member", "password": "é" * 37}),
    Case("a Read-only key may not write", "POST", "/location", "viewer", 403, {"name": "Attic"}),
    Case("API key in the query string", "GET", "/item?api_key={viewer_key}", "none", 401),
    # -- scanning ------------------------------------------------------------
    scan("empty scan", "", 422),
    scan("blank scan", "   \t ", 422),
    scan("10,000-character scan", "7" * 10_000, 422),
    Case("invalid UTF-8", "POST", "/scanner/scan", "scanner", 400,
         raw=b'{"msg": "50001\xff\xfe26"}'),
    scan("control character (BEL)", "5000112\u00076379", 422),
    scan("control character (escape sequence)", "\x1b[31m5000112637922", 422),
    scan("JSON that is not a command", '{"hello": "world"}', 422),
    scan("unknown command", '{"command": "self_destruct", "payload": "now"}', 422),
    scan("known command, bad payload", '{"command": "set_mode", "payload": "sideways"}', 422),
    scan("broken command JSON", '{"command": "set_mode", ', 422),
    scan("set_location of nothing", json.dumps({"command": "set_location", "payload": NOBODY}),
         404),
    scan("a UUID of nothing", NOBODY, 404),
    scan("empty scan_id", "5000112637922", 422, scan_id=""),
    scan("remove an unknown barcode", "9999999999994", 404),
    scan("remove what is not in stock", "{soup_upc}", 409),
    scan("scan_id over 100 characters", "5000112637922", 422, scan_id="x" * 101),
    scan("unknown field in a scan", "5000112637922", 422, volume="loud"),
    scan("number as scan", 5000112637922, 422),
    scan("an API key scanned as a barcode", "{scanner_key}", 422),
    scan("a disabled scanner's key", "5000112637922", 401, auth="disabled"),
    scan("a Read-only user's key", "5000112637922", 403, auth="viewer"),
    scan("no key at all", "5000112637922", 401, auth="none"),
    Case("scanner key in the query string", "POST", "/scanner/scan?api_key={scanner_key}", "none",
         401, {"msg": "5000112637922"}),
    Case("key in the query string next to the header", "POST", "/scanner/scan?key={scanner_key}",
         "scanner", 401, {"msg": "5000112637922"}),
    Case("a scanner may not use the API", "GET", "/item", "scanner", 403),
    # -- deep JSON, lone surrogates, types and caps (the review's 500s and leaks)
    scan("a command nested 1,000 deep", '{"command":' + "[" * 1000, 422),
    scan("a command nested 1,000 deep, closed", '{"a":' + "[" * 500 + "]" * 500 + "}", 422),
    Case("JSON nested 1,000 deep inside a field", "POST", "/location", "admin", 400,
         raw=b'{"name": ' + b"[" * 1000 + b"]" * 1000 + b"}"),
    Case("JSON nested 1,000 deep in a login", "POST", "/auth/login", "none", 400,
         raw=b'{"username": "admin", "password": ' + b"{" * 1000 + b"}" * 1000 + b"}"),
    Case("a lone surrogate in a name", "POST", "/location", "admin", 422,
         raw=b'{"name": "Attic \\ud800"}'),
    Case("a lone surrogate in a username", "POST", "/auth/login", "none", 422,
         raw=b'{"username": "\\udfff", "password": "x"}'),
    scan("a lone surrogate in a scan", "50001\ud80026", 422),
    scan("a lone surrogate in a scan id", "5000112637922", 422, scan_id="\udc00"),
    Case("a quantity sent as text", "PATCH", "/sku/{sku}", "admin", 422, {"quantity": "5"}),
    Case("a quantity sent as true", "PATCH", "/sku/{sku}", "admin", 422, {"quantity": True}),
    Case("a delta sent as true", "POST", "/sku/{sku}/adjust", "admin", 422, {"delta": True}),
    Case("a move of 2.0", "POST", "/sku/{sku}/move", "admin", 422,
         {"location_id": "{fridge}", "quantity": 2.0}),
    Case("with_api_key sent as 1", "POST", "/user", "admin", 422,
         {"username": "kim", "role": "Member", "password": PASSWORD, "with_api_key": 1}),
    Case("adjust past 1,000,000", "POST", "/sku/{sku}/adjust", "admin", 422,
         {"delta": 999_999}),
    Case("a username of zero-width spaces", "POST", "/user", "admin", 422,
         {"username": "\u200b\u200b", "role": "Scanner"}),
    Case("JSON sent as text/plain", "POST", "/location", "admin", 415, {"name": "Attic"},
         content_type="text/plain"),
    Case("a login sent as a form", "POST", "/auth/login", "none", 415,
         raw=b"username=admin&password=x", content_type="application/x-www-form-urlencoded"),
    scan("a piece of an API key scanned", "{scanner_key_piece}", 422),
    scan("a piece of an API key inside a scan", "Box {scanner_key_start}", 422),
    # -- digits that are not 0-9 (superscript, Arabic-Indic, fullwidth, Devanagari):
    # Python's isdigit() and int() take them; Stocky reads 0-9 only. A plain
    # barcode made of them is a barcode nobody has (404 in remove mode).
    scan("a GTIN ending in a superscript 3", "010950110153000\u00b3", 404),
    scan("a GS1 GTIN with a fullwidth digit", "]d2010950110153000\uff13", 422),
    scan("a GS1 GTIN in parentheses with an Arabic-Indic 3", "(01)0950110153000\u0663", 422),
    scan("a GS1 use-by date in fullwidth digits", "]d20109501101530003" "17\uff12\uff16\uff11\uff12\uff13\uff11",
         422),
    scan("a GS1 AI in Devanagari digits", "]d20109501101530003" "\u0967\u096d261231", 422),
    scan("a GS1 use-by date with a superscript", "]d20109501101530003" "172612\u00b31", 422),
    scan("an EAN-13 in Arabic-Indic digits", "\u0665\u0660\u0660\u0660\u0661\u0661\u0662\u0666\u0663\u0667"
         "\u0669\u0662\u0662", 404),
    scan("a UPC-A with a fullwidth digit", "03600029145\uff12", 404),
    scan("an item label in fullwidth digits", "{item_fullwidth}", 404),
    scan("set_location to an id in fullwidth digits",
         json.dumps({"command": "set_location", "payload": "{pantry_fullwidth}"}), 422),
    scan("a date card of +\u00b3d", '{"command": "best_before", "payload": "+\u00b3d"}', 422),
    scan("a date card of +\uff13d", '{"command": "best_before", "payload": "+\uff13d"}', 422),
    scan("a date card of +\u0663w", '{"command": "best_before", "payload": "+\u0663w"}', 422),
    scan("a date card of +\u0969m", '{"command": "best_before", "payload": "+\u0969m"}', 422),
    scan("a date card in fullwidth digits",
         '{"command": "best_before", "payload": "\uff12\uff10\uff12\uff16-12-31"}', 422),
    Case("an adjust dated in fullwidth digits", "POST", "/sku/{sku}/adjust", "admin", 422,
         {"delta": 1, "best_before": "\uff12\uff10\uff12\uff16-12-31"}),
    Case("a delta in Arabic-Indic digits", "POST", "/sku/{sku}/adjust", "admin", 422,
         {"delta": "\u0663"}),
    Case("a quantity in fullwidth digits", "PATCH", "/sku/{sku}", "admin", 422, {"quantity": "\uff13"}),
    Case("a limit in fullwidth digits", "GET", "/item?limit=\uff11\uff12", "admin", 422),
    Case("a limit with an underscore", "GET", "/item?limit=1_0", "admin", 422),
    Case("an offset in Devanagari digits", "GET", "/sku?offset=\u0969", "admin", 422),
    Case("days to expiry in Arabic-Indic digits", "GET", "/lot?expiring_within_days=\u0663", "admin",
         422),
    Case("an item id in fullwidth digits", "GET", "/item/{item_fullwidth}", "admin", 404),
    Case("a location renamed by an id in fullwidth digits", "PATCH", "/location/{pantry_fullwidth}",
         "admin", 404, {"name": "Attic"}),
]
# fmt: on

# Each digit 0-9 as its fullwidth form (U+FF10-U+FF19), which int() and uuid.UUID() read.
FULLWIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + n) for n in range(10)))


def fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in names.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    return value


@pytest.fixture
def cheap_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """bcrypt at its lowest cost: passwords are not what is tested here."""
    real = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda rounds=12, prefix=b"2b": real(4, prefix))


@pytest.mark.timeout(60)
async def test_every_bad_input_gets_its_4xx_and_changes_nothing(clean_env, tmp_path, cheap_bcrypt):
    async with in_process_stocky(tmp_path / "data") as runtime:
        services = runtime.services
        assert services is not None
        await services.users.create(
            {"username": "admin", "role": "Admin", "password": PASSWORD}, SYSTEM
        )
        viewer = await services.users.create(
            {"username": "viewer", "role": "Read-only", "password": PASSWORD, "with_api_key": True},
            SYSTEM,
        )
        scanner = await services.users.create({"username": "scanner", "role": "Scanner"}, SYSTEM)
        disabled = await services.users.create(
            {"username": "old scanner", "role": "Scanner"}, SYSTEM
        )
        pantry = await services.locations.create(
            {"name": "Pantry", "storage_type": "Ambient"}, SYSTEM
        )
        fridge = await services.locations.create(
            {"name": "Fridge", "storage_type": "Refrigerated"}, SYSTEM
        )
        cola = await services.items.create({"name": "Cola", "upc": UPC_A}, SYSTEM)
        await services.items.create(
            {"name": "Soup", "upc": "4000000000021"}, SYSTEM
        )  # none anywhere
        sku = await services.skus.create(
            {"item_id": cola.id, "location_id": pantry.id, "quantity": 2}, SYSTEM
        )
        await services.scans.set_state(
            scanner.id, {"current_location_id": pantry.id, "current_mode": "remove"}, SYSTEM
        )
        assert viewer.api_key and scanner.api_key and disabled.api_key
        base = f"http://127.0.0.1:{runtime.bound_port}{API}"

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.post(
                f"{base}/auth/login", json={"username": "admin", "password": PASSWORD}
            ) as r:
                assert r.status == 200
                token = (await r.json())["access_token"]
            async with http.patch(
                f"{base}/user/{disabled.id}",
                json={"is_active": False},
                headers={"Authorization": f"Bearer {token}"},
            ) as r:
                assert r.status == 200
            auth = {
                "admin": {"Authorization": f"Bearer {token}"},
                "scanner": {"X-API-Key": scanner.api_key},
                "disabled": {"X-API-Key": disabled.api_key},
                "viewer": {"X-API-Key": viewer.api_key},
                "none": {},
            }
            names = {
                "sku": str(sku.id),
                "pantry": str(pantry.id),
                "fridge": str(fridge.id),
                "item": str(cola.id),
                "viewer_key": viewer.api_key,
                "scanner_key": scanner.api_key,
                "scanner_key_piece": scanner.api_key[:-1],
                "scanner_key_start": scanner.api_key[:12],
                "soup_upc": "4000000000021",
                "item_fullwidth": str(cola.id).translate(FULLWIDTH),
                "pantry_fullwidth": str(pantry.id).translate(FULLWIDTH),
            }
            db = runtime.settings.data_dir / "stocky.db"
            wrong: list[str] = []
            for case in CASES:
                before = table_dump(db)
                headers = dict(auth[case.auth])
                if case.raw is not None:
                    data = case.raw
                    headers["Content-Type"] = case.content_type
                elif case.body is not None:
                    data = json.dumps(fill(case.body, names)).encode()
                    headers["Content-Type"] = case.content_type
                else:
                    data = None
                url = base + fill(case.path, names)
                async with http.request(case.method, url, data=data, headers=headers) as response:
                    status, raw = response.status, await response.read()
                after = table_dump(db)
                problems = []
                if status != case.status:
                    problems.append(f"status {status}, expected {case.status}")
                try:
                    error = json.loads(raw)["error"]
                    assert isinstance(error["code"], str) and isinstance(error["message"], str)
                    assert error["message"] and "Traceback" not in raw.decode("utf-8", "replace")
                except (ValueError, KeyError, TypeError, AssertionError):
                    problems.append(f"not the error shape: {raw[:200]!r}")
                if after != before:
                    changed = sorted(
                        t for t in set(before) | set(after) if before.get(t) != after.get(t)
                    )
                    problems.append(f"the database changed: {changed}")
                if problems:
                    wrong.append(f"{case.name}: {'; '.join(problems)} ({raw[:160]!r})")
        assert wrong == [], "\n".join(wrong)
        assert len(CASES) >= 50


# -- headers: the bytes no client library would send ------------------------------

FUZZ_SEED = 20261130
FUZZ_REQUESTS = 160
FUZZ_TARGETS = [
    ("GET", "/health"),
    ("GET", "/api/v1/item"),
    ("GET", "/api/v1/user/me"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/scanner/scan"),
    ("POST", "/api/v1/location"),
    ("GET", "/api/v1/docs"),
]
FUZZ_HEADERS = [
    "X-API-Key", "Authorization", "Content-Type", "X-Forwarded-For", "Accept", "Origin",
    "Cookie", "User-Agent", "Accept-Encoding", "Connection", "Upgrade", "X-Unknown",
]
# Valid UTF-8 lead and continuation bytes, broken sequences, encoded
# surrogates, Latin-1, controls, separators and the words a parser looks for.
FUZZ_PIECES = [
    b"\xff", b"\xfe", b"\x80", b"\xc3\x28", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80",
    b"\xe9", b"\x00", b"\x01", b"\x7f", b"\t", b" ", b",", b";", b"=", b".", b"Bearer ",
    b"Basic ", b"sk_", b"application/json", b"charset=", b"\xc3\xa9", b"\xe2\x80\x8b",
]
REFUSED_HEADERS = [
    b"X-API-Key: \xff",
    b"X-API-Key: \xed\xa0\x80",
    b"Authorization: Bearer \xff\xfe\xfd",
    b"Authorization: \x80 \x81",
    b"Authorization: Bearer a.\xed\xa0\x80.c",
    b"X-API-Key: sk_" + b"\xff" * 43,
]


def fuzzed_header(rng) -> bytes:
    value = b"".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(0, 12)))
    if rng.random() < 0.3:
        value += bytes(rng.randint(0x80, 0xFF) for _ in range(rng.randint(1, 8)))
    return rng.choice(FUZZ_HEADERS).encode() + b": " + value


async def raw_exchange(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


def request_bytes(method: str, path: str, headers: list[bytes], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: stocky", *headers]
    if method == "POST":
        lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join([*lines, b"Connection: close", b"", body])


@pytest.mark.timeout(60)
async def test_garbled_headers_get_an_answer_never_a_500(clean_env, tmp_path, cheap_bcrypt):
    """Known garbled credentials are 401; then a bounded, seeded fuzz of
    header values (undecodable bytes, surrogates, controls) on the main doors:
    every answer is below 500, and Stocky is healthy afterwards."""
    rng = random.Random(FUZZ_SEED)
    async with in_process_stocky(tmp_path / "data") as runtime:
        services = runtime.services
        assert services is not None
        await services.users.create({"username": "admin", "role": "Admin", "password": PASSWORD}, SYSTEM)
        port = runtime.bound_port
        for header in REFUSED_HEADERS:
            answer = await raw_exchange(port, request_bytes("GET", "/api/v1/item", [header]))
            assert answer.startswith(b"HTTP/1.1 401 "), (header, answer[:300])
            assert b'"not_authenticated"' in answer

        failures = []
        statuses: dict[int, int] = {}
        body = b'{"username": "admin", "password": "wrong", "msg": "5000112637922"}'
        for _ in range(FUZZ_REQUESTS):
            method, path = rng.choice(FUZZ_TARGETS)
            headers = [fuzzed_header(rng) for _ in range(rng.randint(1, 3))]
            if method == "POST" and rng.random() < 0.7:
                headers.append(b"Content-Type: application/json")
            answer = await raw_exchange(port, request_bytes(method, path, headers, body))
            if not answer:
                continue  # the parser may hang up on a request it cannot frame
            status = int(answer.split(b" ", 2)[1])
            statuses[status] = statuses.get(status, 0) + 1
            if status >= 500 or b"Traceback" in answer:
                failures.append((method, path, headers, answer[:200]))
        assert failures == []
        # The fuzz reached the handlers, not only the parser's 400.
        assert {401, 415} <= set(statuses), statuses
        health = await raw_exchange(port, request_bytes("GET", "/health", []))
        assert health.startswith(b"HTTP/1.1 200 "), health[:200]

