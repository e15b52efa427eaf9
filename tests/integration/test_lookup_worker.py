"""The product lookup worker against a real HTTP product service on
127.0.0.1 and a real SQLite file: new barcodes get their names, a slow or
broken service ends in ``failed`` with an alert, and never slows a scan."""

from __future__ import annotations

import asyncio
import socket
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator

import pytest
from aiohttp.abc import AbstractResolver
from fake_product_service import (
    OFF_UNKNOWN,
    FakeProductService,
    off_product,
    reply_endless_json,
    reply_hang,
    reply_json,
    reply_raw,
    reply_redirect,
)
from scan_support import stocky_info_logs  # noqa: F401 (a fixture)
from support.polling import eventually

from stocky.core.outbound import USER_AGENT, OutboundClient
from stocky.core.settings import Settings
from stocky.schemas.actor import SYSTEM
from stocky.services.container import Services, open_services
from stocky.services.lookup_worker import LookupWorker
from stocky.services.users import actor_of

# ``stocky serve`` logs Stocky's INFO lines; so do these tests.
pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("stocky_info_logs")]

NUTELLA = "3017620422003"
DRILL_BIT = "4006381333931"
MILKA = "7622300336738"


@pytest.fixture
async def product_service() -> AsyncIterator[FakeProductService]:
    service = FakeProductService()
    await service.start()
    try:
        yield service
    finally:
        await service.close()


@pytest.fixture
async def make_worker(services: Services, product_service: FakeProductService):
    """Workers against the fake service, quick to give up; all stopped at the end."""
    made: list[LookupWorker] = []

    def make(target: Services | None = None, **options) -> LookupWorker:
        options.setdefault("url", product_service.off_url)
        options.setdefault("timeout", 2.0)
        options.setdefault("backoff", 0.05)
        options.setdefault("per_minute", 6000)
        worker = LookupWorker(target or services, **options)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        await worker.stop()


async def new_item(services: Services, barcode: str, **fields) -> uuid.UUID:
    item = await services.items.create({"upc": barcode, **fields}, SYSTEM)
    return item.id


async def settled(services: Services, item_id: uuid.UUID, within: float = 20.0):
    """The item once its lookup is no longer pending."""

    async def looked_up():
        item = await services.items.get(item_id, SYSTEM)
        return item if item.lookup_status != "pending" else None

    return await eventually(looked_up, timeout=within, what=f"item {item_id} to leave pending")


async def alert_messages(services: Services) -> list[str]:
    return [alert.message for alert in (await services.alerts.list(SYSTEM)).data]


def log_lines(services: Services, severity: str) -> list[str]:
    return [e.message for e in services.logs.query(severity=severity) if e.severity == severity]


# -- answers ----------------------------------------------------------------


async def test_a_known_product_gets_brand_name_quantity_and_description(
    services, product_service, make_worker
):
    product_service.on(
        NUTELLA,
        reply_json(
            off_product(
                product_name="Nutella",
                generic_name="Hazelnut spread with cocoa",
                brands="Ferrero,Nutella",
                quantity="400 g",
                image_url="https://images.example/nutella.jpg",
            )
        ),
    )
    item_id = await new_item(services, NUTELLA)
    worker = make_worker()
    await worker.start()

    item = await settled(services, item_id)

    assert item.lookup_status == "found"
    assert item.name == "Ferrero Nutella 400 g"
    assert item.description == "Hazelnut spread with cocoa"
    [request] = product_service.seen(NUTELLA)
    assert request.path == f"/api/v2/product/{NUTELLA}.json"
    assert request.user_agent == USER_AGENT
    assert request.user_agent.startswith("Stocky/")
    assert await alert_messages(services) == []


async def test_the_brand_is_not_said_twice(services, product_service, make_worker):
    product_service.on(
        MILKA,
        reply_json(off_product(product_name="Milka Alpenmilch", brands="Milka", quantity="100g")),
    )
    item_id = await new_item(services, MILKA)
    worker = make_worker()

    assert await worker.run_once(item_id) == "found"

    item = await services.items.get(item_id, SYSTEM)
    assert item.name == "Milka Alpenmilch 100g"
    assert item.description is None


async def test_an_unknown_product_is_not_found_not_a_failure(
    services, product_service, make_worker
):
    # Open Food Facts answers an unknown barcode with 404 and {"status": 0}.
    product_service.on(DRILL_BIT, reply_json(OFF_UNKNOWN, status=404))
    item_id = await new_item(services, DRILL_BIT)
    worker = make_worker()
    await worker.start()

    item = await settled(services, item_id)

    assert item.lookup_status == "not_found"
    assert item.name is None
    assert len(product_service.seen(DRILL_BIT)) == 1  # nothing to retry
    assert any(DRILL_BIT in line for line in log_lines(services, "INFO"))
    assert await alert_messages(services) == []


async def test_a_200_with_status_0_is_not_found_too(services, product_service, make_worker):
    product_service.on(DRILL_BIT, reply_json(OFF_UNKNOWN))
    item_id = await new_item(services, DRILL_BIT)

    assert await make_worker().run_once(item_id) == "not_found"
    assert (await services.items.get(item_id, SYSTEM)).lookup_status == "not_found"


async def test_the_plain_name_and_description_format_with_a_upc_placeholder(
    services, product_service, make_worker
):
    product_service.on(
        NUTELLA, reply_json({"name": "Nuss-Nougat-Creme", "description": "Brotaufstrich"})
    )
    item_id = await new_item(services, NUTELLA)
    worker = make_worker(url=product_service.plain_url)
    await worker.start()

    item = await settled(services, item_id)

    assert (item.lookup_status, item.name, item.description) == (
        "found",
        "Nuss-Nougat-Creme",
        "Brotaufstrich",
    )
    assert [r.path for r in product_service.seen(NUTELLA)] == [f"/plain/{NUTELLA}"]


async def test_a_name_a_person_typed_is_kept(services, product_service, make_worker):
    product_service.on(
        NUTELLA,
        reply_json(off_product(product_name="Nutella", brands="Ferrero", generic_name="Spread")),
    )
    item_id = await new_item(services, NUTELLA)
    await services.items.update(item_id, {"name": "Grandma's hazelnut jar"}, SYSTEM)

    assert await make_worker().run_once(item_id) == "found"

    item = await services.items.get(item_id, SYSTEM)
    assert item.name == "Grandma's hazelnut jar"
    assert item.description == "Spread"  # nobody typed one, so the service's fills it


# -- failures ---------------------------------------------------------------


async def test_a_server_error_is_retried_and_then_succeeds(services, product_service, make_worker):
    product_service.on(
        NUTELLA,
        reply_raw(b"Internal Server Error", status=500, content_type="text/plain"),
        reply_json(off_product(product_name="Nutella", brands="Ferrero")),
    )
    item_id = await new_item(services, NUTELLA)
    worker = make_worker(attempts=3)
    await worker.start()

    item = await settled(services, item_id)

    assert (item.lookup_status, item.name) == ("found", "Ferrero Nutella")
    assert len(product_service.seen(NUTELLA)) == 2
    assert await alert_messages(services) == []


async def test_a_service_that_hangs_ends_failed_with_an_alert_after_the_last_attempt(
    services, product_service, make_worker
):
    product_service.on(DRILL_BIT, reply_hang())
    item_id = await new_item(services, DRILL_BIT)
    worker = make_worker(timeout=0.3, attempts=3)
    started = time.monotonic()
    await worker.start()

    item = await settled(services, item_id)

    assert item.lookup_status == "failed"
    assert item.name is None
    assert len(product_service.seen(DRILL_BIT)) == 3
    assert time.monotonic() - started >= 3 * 0.3  # each attempt waited its timeout
    assert await alert_messages(services) == [
        f"Could not look up barcode {DRILL_BIT}: the product service did not answer"
    ]
    assert any(DRILL_BIT in line for line in log_lines(services, "WARN"))


async def test_a_service_that_cannot_be_reached_ends_failed(services, make_worker):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    item_id = await new_item(services, DRILL_BIT)
    worker = make_worker(url=f"http://127.0.0.1:{port}/api/v2/product", attempts=2)

    assert await worker.run_once(item_id) == "failed"
    assert await alert_messages(services) == [
        f"Could not look up barcode {DRILL_BIT}: the product service could not be reached"
    ]


async def test_malformed_json_fails_and_the_worker_goes_on(services, product_service, make_worker):
    product_service.on(DRILL_BIT, reply_raw(b'{"status": 1, "product": {"product_na'))
    product_service.on(NUTELLA, reply_json(off_product(product_name="Nutella")))
    broken = await new_item(services, DRILL_BIT)
    fine = await new_item(services, NUTELLA)
    worker = make_worker(concurrency=1)
    await worker.start()

    assert (await settled(services, broken)).lookup_status == "failed"
    assert (await settled(services, fine)).lookup_status == "found"
    assert len(product_service.seen(DRILL_BIT)) == 1  # a broken answer is not retried
    [message] = await alert_messages(services)
    assert DRILL_BIT in message and "not valid JSON" in message


async def test_a_10_mb_answer_fails_without_being_read_whole(
    services, product_service, make_worker
):
    product_service.on(DRILL_BIT, reply_endless_json(10_000_000))
    item_id = await new_item(services, DRILL_BIT)
    worker = make_worker(max_body=2_000_000)

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        status = await worker.run_once(item_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert status == "failed"
    assert (await services.items.get(item_id, SYSTEM)).lookup_status == "failed"
    # The cap is 2 MB; reading the 10 MB whole would need at least 10 MB.
    assert peak < 6_000_000, f"peak {peak / 1e6:.1f} MB"
    [message] = await alert_messages(services)
    assert "larger than 2 MB" in message


async def test_an_item_deleted_while_it_waited_is_skipped_quietly(
    services, product_service, make_worker
):
    product_service.on(NUTELLA, reply_json(off_product(product_name="Nutella")))
    gone = await new_item(services, DRILL_BIT)
    await services.items.delete(gone, SYSTEM)  # still queued
    kept = await new_item(services, NUTELLA)
    worker = make_worker(concurrency=1)
    await worker.start()

    assert (await settled(services, kept)).lookup_status == "found"
    assert product_service.seen(DRILL_BIT) == []
    assert await alert_messages(services) == []
    assert log_lines(services, "ERROR") == []
    assert worker.running


# -- where it may ask -------------------------------------------------------


class NamesLeadTo(AbstractResolver):
    """A name service that answers every name with ``address``: a public
    name pointed at the appliance itself, as DNS rebinding would."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.asked: list[str] = []

    async def resolve(self, host, port=0, family=socket.AF_INET):
        self.asked.append(host)
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        return [{"hostname": host, "host": self.address, "port": port, "family": family,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


@pytest.fixture
async def internal_service(request) -> AsyncIterator[FakeProductService]:
    """Something on the appliance's own network (at the address the test is
    parametrized with) that a product service must not reach through
    Stocky: it would happily name a product."""
    service = FakeProductService()
    await service.start(request.param)
    service.on(NUTELLA, reply_json(off_product(product_name="Router admin page")))
    try:
        yield service
    finally:
        await service.close()


def refusals(services: Services, words: str) -> list[str]:
    return [line for line in log_lines(services, "WARN") if words in line]


@pytest.mark.parametrize(
    ("internal_service", "host"),
    [("127.0.0.1", "localhost"), ("127.0.0.1", "127.0.0.1"), ("127.0.0.2", "127.0.0.2")],
    indirect=["internal_service"],
    ids=["localhost", "another-port", "another-address"],
)
async def test_a_redirect_to_another_host_is_not_followed(
    services, product_service, internal_service, make_worker, host
):
    # The configured service is on loopback (allowed: the household chose
    # it); where it points next is not, even on the same machine: another
    # name for it, another port, another loopback address.
    target = (f"http://admin:hunter2@{host}:{internal_service.port}"
              f"/api/v2/product/{NUTELLA}.json?token=t0ps3cret")
    product_service.on(NUTELLA, reply_redirect(target))
    item_id = await new_item(services, NUTELLA)
    worker = make_worker(attempts=3)
    await worker.start()

    item = await settled(services, item_id)

    assert item.lookup_status == "failed"
    assert item.label == NUTELLA  # it keeps its barcode as its name
    assert internal_service.requests == []
    assert len(product_service.seen(NUTELLA)) == 1  # a refusal is not retried
    [line] = refusals(services, "another host")
    assert f"{host}:{internal_service.port}" in line
    assert "hunter2" not in line and "t0ps3cret" not in line
    [message] = await alert_messages(services)
    assert "another host" in message and "hunter2" not in message


async def test_a_redirect_on_the_same_host_is_followed(services, product_service, make_worker):
    # A service that moved its answers, told once absolutely, once relatively.
    product_service.on(NUTELLA, reply_redirect(f"{product_service.base}/plain/{DRILL_BIT}"))
    product_service.on(DRILL_BIT, reply_redirect(f"/plain/{MILKA}", status=308))
    product_service.on(MILKA, reply_json({"name": "Moved jar"}))
    item_id = await new_item(services, NUTELLA)

    assert await make_worker().run_once(item_id) == "found"
    assert (await services.items.get(item_id, SYSTEM)).name == "Moved jar"


@pytest.mark.parametrize(
    ("address", "kind"),
    [("127.0.0.1", "loopback"), ("::ffff:127.0.0.1", "loopback"), ("192.168.1.1", "private"),
     ("169.254.169.254", "link-local"), ("::", "unspecified")],
)
async def test_a_public_name_that_leads_inside_is_refused(
    services, product_service, make_worker, address, kind
):
    product_service.on(NUTELLA, reply_json(off_product(product_name="Nutella")))
    names = NamesLeadTo(address)
    url = f"http://products.example.com:{product_service.port}/api/v2/product"
    item_id = await new_item(services, NUTELLA)
    async with OutboundClient(resolver=names) as client:
        worker = make_worker(url=url, client=client, attempts=3)
        await worker.start()
        item = await settled(services, item_id)

    assert names.asked == ["products.example.com"]  # the name was looked up, once
    assert item.lookup_status == "failed"
    assert item.label == NUTELLA
    assert product_service.requests == []
    [line] = refusals(services, "products.example.com leads to")
    assert f"{address}, a {kind} address" in line


async def test_a_local_name_may_lead_to_the_household_s_own_service(
    services, product_service, make_worker
):
    # A household running its own product service on the LAN keeps it.
    product_service.on(NUTELLA, reply_json({"name": "Home-made spread"}))
    url = f"http://pantry.lan:{product_service.port}/plain/{{upc}}"
    item_id = await new_item(services, NUTELLA)
    async with OutboundClient(resolver=NamesLeadTo("127.0.0.1")) as client:
        assert await make_worker(url=url, client=client).run_once(item_id) == "found"

    assert (await services.items.get(item_id, SYSTEM)).name == "Home-made spread"


async def test_an_answer_that_is_not_json_is_refused(services, product_service, make_worker):
    page = b'{"status": 1, "product": {"product_name": "<script>alert(1)</script>"}}'
    product_service.on(NUTELLA, reply_raw(page, content_type="text/html"))
    item_id = await new_item(services, NUTELLA)

    assert await make_worker(attempts=3).run_once(item_id) == "failed"

    assert (await services.items.get(item_id, SYSTEM)).label == NUTELLA
    assert len(product_service.seen(NUTELLA)) == 1
    [message] = await alert_messages(services)
    assert message.endswith("the product service sent text/html instead of application/json")


# -- the queue --------------------------------------------------------------


async def test_items_still_pending_are_looked_up_after_a_restart(
    settings: Settings, product_service, make_worker
):
    product_service.on(NUTELLA, reply_json(off_product(product_name="Nutella")))
    product_service.on(MILKA, reply_json(off_product(product_name="Milka Alpenmilch")))
    async with open_services(settings) as before_restart:
        first = await new_item(before_restart, NUTELLA)
        second = await new_item(before_restart, MILKA)
    # The queue lived in memory; only the database remembers "pending".
    async with open_services(settings) as after_restart:
        assert len(after_restart.lookups) == 0
        worker = make_worker(after_restart)
        await worker.start()
        assert (await settled(after_restart, first)).name == "Nutella"
        assert (await settled(after_restart, second)).name == "Milka Alpenmilch"
        await worker.stop()


async def test_requests_are_spaced_by_the_rate_limit(services, product_service, make_worker):
    barcodes = [f"40000000000{n:02d}" for n in range(5)]
    for code in barcodes:
        product_service.on(code, reply_json(off_product(product_name=f"Thing {code}")))
    ids = [await new_item(services, code) for code in barcodes]
    worker = make_worker(per_minute=300, concurrency=2)  # one request per 0.2 s
    started = time.monotonic()
    await worker.start()

    for item_id in ids:
        assert (await settled(services, item_id)).lookup_status == "found"

    arrivals = sorted(r.at for r in product_service.requests)
    assert len(arrivals) == 5
    # The fifth request cannot start before four intervals have passed.
    assert arrivals[-1] - started >= 4 * 0.2


# -- scans stay fast --------------------------------------------------------


async def test_a_hanging_product_service_never_delays_a_scan(
    services, product_service, make_worker, admin
):
    barcodes = [f"59000000000{n:02d}" for n in range(6)]
    for code in barcodes:
        product_service.on(code, reply_hang())
    pantry = await services.locations.create({"name": "Pantry"}, admin)
    scanner = await services.users.create({"username": "s", "role": "Scanner"}, SYSTEM)
    scanner = actor_of(scanner, "scan")
    await services.scans.scan(scanner, f'{{"command":"set_location","payload":"{pantry.id}"}}')
    worker = make_worker(timeout=5.0, attempts=3)
    await worker.start()

    first = await services.scans.scan(scanner, barcodes[0])
    assert first.created
    while not product_service.seen(barcodes[0]):  # the worker now hangs on it
        await asyncio.sleep(0.01)

    for code in barcodes[1:]:
        began = time.monotonic()
        result = await services.scans.scan(scanner, code)
        took = time.monotonic() - began
        assert result.result == "added" and result.quantity == 1
        assert took < 1.0, f"scan of {code} took {took:.2f} s"
    assert (await services.items.get(first.item.id, SYSTEM)).lookup_status == "pending"

    began = time.monotonic()
    await worker.stop()
    assert time.monotonic() - began < 1.0
    await worker.stop()  # a second stop is harmless
    assert not worker.running
    # Interrupted lookups stay pending, to be queued again at the next start.
    for code in barcodes:
        assert (await services.items.by_upc(code, SYSTEM)).lookup_status == "pending"


def test_a_nul_character_in_an_answer_never_reaches_the_database():
    """PostgreSQL cannot store NUL in text: a product service that sends one
    must not leave the item failing its lookup forever."""
    from stocky.services.lookup_worker import parse_answer

    product = parse_answer({"name": "Nuss-Nougat\x00-Creme", "description": "Brot\x00aufstrich"})

    assert product is not None
    assert "\x00" not in (product.name or "") + (product.description or "")
    assert product.name.startswith("Nuss-Nougat")
