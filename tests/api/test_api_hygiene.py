"""HTTP hygiene: the headers every answer carries, JSON that must say it is
JSON, strict types, the same caps on every door, and headers a client may
garble without getting a 500."""

from __future__ import annotations

import asyncio

import pytest

LOGIN = "/auth/login"


@pytest.fixture(scope="module")
def db_backend() -> str:
    """SQLite only: headers, content types and schemas are decided before
    any database is asked (the quantity ceiling, which the database decides,
    is tested on both in test_api_skus.py)."""
    return "sqlite"


async def raw_request(api, head: bytes) -> tuple[int, bytes]:
    """Send ``head`` (request line and headers, as bytes: anything a socket
    can carry) and return the status and the whole answer."""
    server = api.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(head + b"Connection: close\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    return int(answer.split(b" ", 2)[1]), answer


# -- headers on every answer ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "who"),
    [("/health", "anonymous"), ("/item", "Read-only"), ("/item", "anonymous"), ("/docs", "anonymous"),
     ("/no/such/page", "anonymous"), ("/api/v1/docs/assets/swagger-ui.css", "anonymous")],
)
async def test_every_answer_forbids_sniffing_and_referrers_and_names_no_versions(api, path, who):
    reply = await api.get(path, who=who)
    assert reply.headers["X-Content-Type-Options"] == "nosniff", reply.headers
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    server = reply.headers.get("Server", "")
    assert "Python" not in server and "aiohttp" not in server and "/" not in server, server
    # Plain HTTP: HSTS would be ignored, and is only sent over HTTPS (tests/web/test_tls.py).
    assert "Strict-Transport-Security" not in reply.headers


@pytest.mark.parametrize("request_head", [b"GARBAGE / HTTP/1.1\r\n", b"GET / HTTP/1.1\r\nBad Header\r\n"])
async def test_requests_too_broken_to_parse_get_a_400_naming_no_versions(api, request_head):
    status, answer = await raw_request(api, request_head)
    assert status == 400
    assert b"\r\nServer: Stocky\r\n" in answer and b"aiohttp" not in answer and b"Python" not in answer


async def test_answers_with_a_token_or_a_key_are_never_cached(api):
    login = await api.post(
        LOGIN, who="anonymous",
        json={"username": "carol", "password": api.seed.passwords["Read-only"]},
    )
    assert login.status == 200 and "access_token" in login.json
    created = await api.post("/user", json={"username": "pantry-scanner", "role": "Scanner"})
    assert created.status == 201 and created.json["api_key"]
    rotated = await api.post(f"/user/{created.json['id']}/api-key")
    assert rotated.status == 200 and rotated.json["api_key"]
    for reply in (login, created, rotated):
        assert reply.headers["Cache-Control"] == "no-store", reply.headers


# -- JSON that says it is JSON ---------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
     "application/octet-stream"],
)
async def test_a_body_not_sent_as_json_is_415_and_changes_nothing(api, content_type):
    before = await api.snapshot()
    reply = await api.post(
        "/location", data=b'{"name": "Attic"}', headers={"Content-Type": content_type}
    )
    api.error(reply, 415, "unsupported_media_type")
    assert await api.snapshot() == before


async def test_a_login_sent_as_a_form_is_refused_before_any_password_check(api):
    reply = await api.call(
        "POST", LOGIN, who="anonymous",
        data=b'{"username": "carol", "password": "x"}', headers={"Content-Type": "text/plain"},
    )
    api.error(reply, 415)


# -- strict types ----------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["5", True, 5.0, "five"])
async def test_a_quantity_must_be_a_json_number(api, quantity):
    sku = api.sku("milk@Fridge")
    before = await api.snapshot()
    reply = await api.patch(f"/sku/{sku}", json={"quantity": quantity})
    assert api.failing_fields(reply) == {"quantity"}
    reply = await api.post(f"/sku/{sku}/adjust", json={"delta": quantity})
    assert api.failing_fields(reply) == {"delta"}
    reply = await api.patch(f"/item/{api.item('milk')}", json={"min_quantity": quantity})
    assert api.failing_fields(reply) == {"min_quantity"}
    assert await api.snapshot() == before


@pytest.mark.parametrize("flag", [1, 0, "true", "yes"])
async def test_a_yes_or_no_must_be_a_json_boolean(api, flag):
    alert = await api.new_alert()
    reply = await api.patch(f"/alert/{alert}", json={"is_acknowledged": flag})
    assert api.failing_fields(reply) == {"is_acknowledged"}
    reply = await api.patch(f"/user/{api.user('victim')}", json={"is_active": flag})
    assert api.failing_fields(reply) == {"is_active"}
    reply = await api.patch(f"/item/{api.item('milk')}", json={"in_basket": flag})
    assert api.failing_fields(reply) == {"in_basket"}


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200c\u200d", "\u2060\ufeff", "\u200e", " \u200b "])
async def test_a_username_needs_a_visible_character(api, name):
    reply = await api.post("/user", json={"username": name, "role": "Scanner"})
    assert api.failing_fields(reply) == {"username"}


async def test_a_username_with_a_zero_width_joiner_inside_letters_is_fine(api):
    reply = await api.post("/user", json={"username": "anna\u200dlena", "role": "Scanner"})
    assert reply.status == 201, reply


# -- garbled credentials ------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        b"X-API-Key: \xff",
        b"X-API-Key: sk_\xc3\x28\xa0\xa1",
        b"X-API-Key: \xed\xa0\x80",  # a lone surrogate, as UTF-8 bytes
        b"Authorization: Bearer \xff\xfe",
        b"Authorization: \xff \xff",
        b"Authorization: Bearer a.\xff.b",
    ],
)
async def test_credentials_with_bytes_no_text_has_are_401_not_500(api, header):
    status, answer = await raw_request(api, b"GET /api/v1/item HTTP/1.1\r\nHost: stocky\r\n" + header + b"\r\n")
    assert status == 401, answer[:300]
    assert b'"not_authenticated"' in answer


async def test_a_garbled_key_on_health_is_the_anonymous_answer(api):
    status, answer = await raw_request(api, b"GET /health HTTP/1.1\r\nHost: stocky\r\nX-API-Key: \xff\r\n")
    assert status == 200, answer[:300]
    assert answer.endswith(b'{"status":"ok"}')


# -- pieces of API keys ----------------------------------------------------------


@pytest.mark.parametrize(
    "piece", [lambda key: key[:-1], lambda key: key[:11], lambda key: f"Box {key[:14]} of tea"],
    ids=["all but the last character", "the prefix and 8 characters", "inside other text"],
)
async def test_a_scanned_piece_of_an_api_key_is_refused_and_never_logged(api, piece):
    key = api.seed.scanner_key
    scanned = piece(key)
    before = await api.snapshot()
    reply = await api.post("/scanner/scan", who="Scanner", json={"msg": scanned})
    assert api.failing_fields(reply) == {"msg"}
    assert await api.snapshot() == before  # not stored as a barcode
    log = await api.get("/log", who="Read-only", params={"limit": "1000"})
    assert log.status == 200, log
    text = log.text
    assert "sk_[hidden]" in text
    assert key[:11] not in text  # the prefix and 8 characters: never


def test_the_console_log_masks_pieces_of_keys_glued_to_anything_and_in_tracebacks():
    import logging
    import sys

    from stocky.core.logconfig import KeysHidden

    line = KeysHidden("%(levelname)s %(message)s")
    scan = logging.LogRecord("stocky.scan", logging.WARNING, __file__, 1, "Scan %r refused", (
        "010950110153000310sk_abcdefgh12345",), None)
    assert line.format(scan) == "WARNING Scan '010950110153000310sk_[hidden]' refused"
    try:
        raise ValueError("cannot read desk_drawer_left sk_abcdefgh12345")
    except ValueError:
        failed = logging.LogRecord("stocky.api", logging.ERROR, __file__, 1, "Unexpected error", (),
                                   sys.exc_info())
    text = line.format(failed)
    assert "Traceback" in text and "abcdefgh" not in text and "drawer_left" not in text
    assert "cannot read desk_[hidden] sk_[hidden]" in text  # a word that looks like a key is hidden too
    short = logging.LogRecord("stocky", logging.INFO, __file__, 1, "sk_1234567", (), None)
    assert line.format(short) == "INFO sk_1234567"  # 7 characters: too few to be a piece of a key
