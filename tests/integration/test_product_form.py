"""A barcode looked up before an item is made (the phone's New item form),
through the real app and the same lookup a scan uses, against a real HTTP
product service on 127.0.0.1 speaking Open Food Facts' format."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from fake_product_service import OFF_UNKNOWN, FakeProductService, off_product, reply_json

from stocky.api.app import create_app
from stocky.schemas.actor import SYSTEM
from stocky.services.lookup_worker import LookupWorker

NUTELLA = "3017620422003"
UNKNOWN = "4006381333931"
PASSWORD = "the kitchen's own phrase"


@pytest.fixture
async def form(services) -> AsyncIterator[tuple[TestClient, FakeProductService, dict[str, str]]]:
    product_service = FakeProductService()
    await product_service.start()
    worker = LookupWorker(services, url=product_service.off_url, timeout=2.0, per_minute=6000)
    client = TestClient(TestServer(create_app(services, products=worker)))
    await client.start_server()
    await services.users.create({"username": "anna", "role": "Member", "password": PASSWORD}, SYSTEM)
    async with client.post("/api/v1/auth/login", json={"username": "anna", "password": PASSWORD}) as reply:
        token = (await reply.json())["access_token"]
    try:
        yield client, product_service, {"Authorization": f"Bearer {token}"}
    finally:
        await client.close()
        await worker.stop()
        await product_service.close()


async def test_a_new_barcode_prefills_the_name_and_makes_nothing(form, services):
    client, product_service, anna = form
    product_service.on(NUTELLA, reply_json(off_product(product_name="Nutella", brands="Ferrero", quantity="400 g")))
    async with client.get(f"/api/v1/product/{NUTELLA}", headers=anna) as reply:
        assert reply.status == 200
        body = await reply.json()
    assert body == {"barcode": NUTELLA, "found": True, "name": "Ferrero Nutella 400 g",
                    "description": None, "item_id": None}
    assert (await services.items.list(SYSTEM, stock="all")).total == 0


async def test_a_barcode_an_item_has_answers_that_item(form, services):
    client, product_service, anna = form
    jar = await services.items.create({"name": "Nutella", "upc": NUTELLA}, SYSTEM)
    async with client.get(f"/api/v1/product/{NUTELLA}", headers=anna) as reply:
        body = await reply.json()
    assert body["item_id"] == str(jar.id) and body["name"] == "Nutella"
    assert product_service.requests == []  # nobody was asked
    # Making a second one anyway is refused, naming the one there is.
    async with client.post("/api/v1/item", headers=anna, json={"name": "Jar", "upc": NUTELLA}) as refused:
        assert refused.status == 409
        assert (await refused.json())["error"]["id"] == str(jar.id)


async def test_an_unknown_product_is_404_with_a_sentence(form):
    client, product_service, anna = form
    product_service.on(UNKNOWN, reply_json(OFF_UNKNOWN))
    async with client.get(f"/api/v1/product/{UNKNOWN}", headers=anna) as reply:
        assert reply.status == 404
        assert "type its name" in (await reply.json())["error"]["message"]


async def test_a_product_service_that_fails_is_502_not_500(form):
    client, product_service, anna = form
    await product_service.close()  # nothing answers there now
    async with client.get(f"/api/v1/product/{NUTELLA}", headers=anna) as reply:
        assert reply.status == 502
        assert (await reply.json())["error"]["code"] == "lookup_failed"
