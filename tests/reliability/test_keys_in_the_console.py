"""A key sent with a scan never reaches the console (journald keeps what
``stocky serve`` writes) nor ``GET /log`` (Read-only people read it).

The real ``python -m stocky serve`` logs at INFO, so every request's line
(its path included) and every refusal is written; the scanner's key is then
sent the ways a misconfigured scanner or a curious person sends it.
"""

from __future__ import annotations

import json

import pytest
from mosquitto import free_port
from reliability_support import Kitchen, StockyProcess, add_scanner_with_cli, create_admin

PASSWORD = "a long enough password"
GS = "\x1d"


@pytest.mark.timeout(90)
async def test_a_key_sent_with_scans_is_hidden_in_the_console_and_the_log(tmp_path, http):
    stocky = StockyProcess(tmp_path / "data", free_port(), STOCKY_LOG_LEVEL="INFO")
    create_admin(stocky, "admin", PASSWORD)
    key = add_scanner_with_cli(stocky, "Pantry scanner")
    secret = key[3:11]  # the first 8 characters after "sk_"
    stocky.start()
    try:
        kitchen = Kitchen(stocky.url, http)
        await kitchen.login("admin", PASSWORD)
        await kitchen.ok("POST", "/user", 201,
                         json_body={"username": "carol", "role": "Read-only", "password": PASSWORD})
        for sent in (
            f"010950110153000310{key}",
            f"]d20109501101530003{GS}10{key}",
            json.dumps({"id": key, "msg": "4006381333931"}),
            f"https://stocky.example/?k={key}",
        ):
            answer = await kitchen.scan(key, sent)
            assert answer.status == 422, answer
        assert (await kitchen.request("GET", f"/item/{key}")).status == 404  # the path is logged

        reader = Kitchen(stocky.url, http)
        await reader.login("carol", PASSWORD)
        log = await reader.ok("GET", "/log?limit=1000")
    finally:
        stocky.stop()

    refusals = [entry["message"] for entry in log["data"] if "refused" in entry["message"]]
    assert len(refusals) == 4 and all("sk_[hidden]" in line for line in refusals), refusals
    assert secret not in json.dumps(log)
    console = stocky.log()
    assert "Scan '010950110153000310sk_[hidden]' refused" in console, console
    assert "GET /api/v1/item/sk_[hidden] 404" in console, console
    assert secret not in console
