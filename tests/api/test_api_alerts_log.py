"""/alert (what needs a person's attention) and /log (the appliance's recent story)."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest

ALERT_KEYS = {"id", "timestamp", "severity", "message", "is_acknowledged"}


def assert_alert(api, alert: dict) -> None:
    assert ALERT_KEYS <= set(alert), alert
    assert api.is_uuid(alert["id"]) and api.is_timestamp(alert["timestamp"])


# -- /alert -------------------------------------------------------------------


async def test_raise_list_acknowledge_and_delete_alerts(api):
    first = await api.post("/alert", who="Member", json={"message": "Freezer door open"})
    assert first.status == 201, first
    assert_alert(api, first.json)
    assert (first.json["severity"], first.json["is_acknowledged"]) == ("Info", False)
    await asyncio.sleep(0.01)
    second = await api.post("/alert", json={"message": "Milk expires today", "severity": "Warning"})
    assert second.status == 201, second

    rows = api.page(await api.get("/alert", who="Read-only"))
    assert [r["message"] for r in rows] == [
        "Milk expires today",
        "Freezer door open",
    ]  # newest first
    for row in rows:
        assert_alert(api, row)

    acked = await api.patch(
        f"/alert/{first.json['id']}", who="Member", json={"is_acknowledged": True}
    )
    assert acked.status == 200 and acked.json["is_acknowledged"] is True
    open_ = api.page(await api.get("/alert", params={"acknowledged": "false"}))
    assert [r["message"] for r in open_] == ["Milk expires today"]
    done = api.page(await api.get("/alert", params={"acknowledged": "true"}))
    assert [r["message"] for r in done] == ["Freezer door open"]

    all_acked = await api.post("/alert/acknowledge", who="Member")
    assert all_acked.status == 200 and all_acked.json == {"acknowledged": 1}
    assert api.page(await api.get("/alert", params={"acknowledged": "false"})) == []

    fetched = await api.get(f"/alert/{second.json['id']}")
    assert fetched.status == 200 and fetched.json["is_acknowledged"] is True
    assert (await api.delete(f"/alert/{second.json['id']}", who="Member")).status == 204
    api.error(await api.get(f"/alert/{second.json['id']}"), 404)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/alert", {"message": ""}, "message"),
        ("POST", "/alert", {"message": "x", "severity": "Panic"}, "severity"),
        ("POST", "/alert", {"message": "x" * 2001}, "message"),
        ("PATCH", "/alert/{id}", {"is_acknowledged": "maybe"}, "is_acknowledged"),
        ("PATCH", "/alert/{id}", {}, "is_acknowledged"),
    ],
)
async def test_alert_validation_names_the_field(api, method, path, body, field):
    alert = await api.new_alert()
    reply = await api.call(method, path.format(id=alert), json=body)
    assert field in api.failing_fields(reply)


async def test_bad_acknowledged_filter_is_422(api):
    assert "acknowledged" in api.failing_fields(
        await api.get("/alert", params={"acknowledged": "perhaps"})
    )


@pytest.mark.parametrize("bad_id", [str(uuid.uuid4()), "door"])
async def test_unknown_or_malformed_alert_id_is_404(api, bad_id):
    api.error(await api.get(f"/alert/{bad_id}"), 404, "not_found")
    api.error(await api.patch(f"/alert/{bad_id}", json={"is_acknowledged": True}), 404)
    api.error(await api.delete(f"/alert/{bad_id}"), 404)


# -- /log ---------------------------------------------------------------------

LOG_KEYS = {"id", "timestamp", "severity", "message", "source"}


def _which(rows: list[dict], markers: list[str]) -> list[str]:
    """The markers the log lines mention, in the log's order."""
    return [m for row in rows for m in markers if m in row["message"]]


async def test_log_is_newest_first_and_filters_by_severity_and_text(api):
    # Four events, each with a word of its own; the log may say more around them.
    markers = ["Garage", "Fridge-warm", "Freezer-failed", "Balcony"]
    assert (await api.post("/location", who="Member", json={"name": "Garage"})).status == 201
    warm = {"message": "Fridge-warm", "severity": "Warning"}
    assert (await api.post("/alert", json=warm)).status == 201
    failed = {"message": "Freezer-failed", "severity": "Error"}
    assert (await api.post("/alert", json=failed)).status == 201
    assert (await api.post("/location", json={"name": "Balcony"})).status == 201

    rows = api.page(await api.get("/log", who="Read-only"))
    for row in rows:
        assert LOG_KEYS <= set(row), row
        assert api.is_uuid(row["id"]) and api.is_timestamp(row["timestamp"])
        assert row["severity"] in {"INFO", "WARN", "ERROR"}
    assert _which(rows, markers) == ["Balcony", "Freezer-failed", "Fridge-warm", "Garage"]
    stamps = [r["timestamp"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)
    garage = next(r for r in rows if "Garage" in r["message"])
    assert garage["source"] == "bob"  # who did it
    assert garage["severity"] == "INFO"

    warn_up = api.page(await api.get("/log", params={"severity": "WARN"}))
    assert _which(warn_up, markers) == ["Freezer-failed", "Fridge-warm"]
    assert {r["severity"] for r in warn_up} <= {"WARN", "ERROR"}
    errors = api.page(await api.get("/log", params={"severity": "ERROR"}))
    assert _which(errors, markers) == ["Freezer-failed"]
    assert {r["severity"] for r in errors} == {"ERROR"}
    found = api.page(await api.get("/log", params={"search": "gARAGE"}))
    assert found and all("garage" in r["message"].lower() for r in found)
    by_source = api.page(await api.get("/log", params={"search": "bob"}))
    assert _which(by_source, markers) == ["Garage"]
    limited = api.page(await api.get("/log", params={"limit": 1}))
    assert limited == rows[:1]


async def test_log_shows_what_loggers_of_stocky_say(api):
    logging.getLogger("stocky.test").warning("The scanner battery is low")
    rows = api.page(await api.get("/log", params={"search": "battery"}))
    assert [(r["severity"], r["message"], r["source"]) for r in rows] == [
        ("WARN", "The scanner battery is low", "test"),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"severity": "DEBUG"}, "severity"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"search": "x" * 201}, "search"),
    ],
)
async def test_bad_log_query_is_422(api, params, field):
    assert field in api.failing_fields(await api.get("/log", params=params))


async def test_an_alert_about_a_bare_barcode_names_the_product_once_it_is_named(api):
    item = await api.post("/item", json={"upc": "4000000000123", "storage_type": "Frozen"})
    assert item.status == 201, item
    put = await api.post("/sku", json={"item_id": item.json["id"], "location_id": api.loc("Pantry"), "quantity": 1})
    assert put.status == 201, put
    open_alerts = api.page(await api.get("/alert", params={"acknowledged": "false"}))
    assert any("4000000000123 is Frozen" in alert["message"] for alert in open_alerts)
    named = await api.patch(f"/item/{item.json['id']}", json={"name": "Fish fingers"})
    assert named.status == 200, named
    messages = [alert["message"] for alert in api.page(await api.get("/alert", params={"acknowledged": "false"}))]
    assert any("Fish fingers is Frozen" in message for message in messages), messages
    assert not any("4000000000123" in message for message in messages)
