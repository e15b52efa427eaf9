"""The product lookup worker: names new barcodes from the product service.

A scan only puts an item id on ``services.lookups``; this worker takes ids
off that queue, asks the product service ("UPC Data Application",
``UDA_API_URL``, Open Food Facts by default) about the item's barcode and
stores what it said with ``services.items.record_lookup``, which decides the
item's new status (and the alert of a failure) in one transaction.

Everything here is bounded, so a slow or hostile product service can cost a
lookup, never the appliance: a fixed number of lookups at a time, a deadline
per request, a few retries with growing pauses and a rate limit. The request
itself goes through the guarded ``OutboundClient`` (``stocky.core.outbound``):
no redirect elsewhere, no private address behind a public name, a cap on the
size of an answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

from stocky.core.backoff import retry_delay
from stocky.core.errors import NotFound, StorageFault
from stocky.core.outbound import OutboundClient, OutboundError
from stocky.core.security import mask_url
from stocky.schemas.actor import SYSTEM

if TYPE_CHECKING:
    from stocky.services.container import Services

log = logging.getLogger("stocky.lookup")

MAX_BACKOFF = 30.0
# Only the fields Stocky reads: a full Open Food Facts product is 50-500 kB.
OPEN_FOOD_FACTS_FIELDS = "product_name,generic_name,brands,quantity,image_url"
# The limits a person typing into the item form has (stocky.schemas.common).
MAX_NAME = 255
MAX_DESCRIPTION = 10_000
_OFF_FOUND = {1, "1", "success", "success_with_warnings"}
_OFF_UNKNOWN = {0, "0", "failure"}


# -- what the product service said ------------------------------------------


@dataclass(frozen=True)
class Product:
    name: str | None
    description: str | None
    image_url: str | None = None

    def __post_init__(self) -> None:
        if self.name and len(self.name) > MAX_NAME:
            object.__setattr__(self, "name", self.name[:MAX_NAME].rstrip())
        if self.description and len(self.description) > MAX_DESCRIPTION:
            object.__setattr__(self, "description", self.description[:MAX_DESCRIPTION].rstrip())


class UnexpectedAnswer(ValueError):
    """JSON that is neither the Open Food Facts nor the plain format."""


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    # A NUL would fail on PostgreSQL, which cannot store it in text.
    text = " ".join(value.replace("\x00", " ").split())
    return text or None


def _words(text: str) -> str:
    """Case- and punctuation-blind form: "Coca-Cola" matches "coca cola"."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def _localized(product: dict[str, Any], field: str) -> str | None:
    """``field``, else its English form, else any language's."""
    for key in (field, f"{field}_en"):
        if text := _clean(product.get(key)):
            return text
    prefix = f"{field}_"
    for key, value in product.items():
        if isinstance(key, str) and key.startswith(prefix) and (text := _clean(value)):
            return text
    return None


def product_name(name: str | None, brands: str | None, quantity: str | None) -> str | None:
    """The name a shelf label would show, like "Ferrero Nutella 400 g", without
    saying the brand or the quantity twice."""
    brand = _clean((brands or "").split(",")[0])
    parts: list[str] = []
    haystack = f" {_words(name)} " if name else ""
    if brand and f" {_words(brand)} " not in haystack:
        parts.append(brand)
    if name:
        parts.append(name)
    if not parts:
        return None
    quantity = _clean(quantity)
    compact = re.sub(r"\W+", "", " ".join(parts).casefold())
    if quantity and re.sub(r"\W+", "", quantity.casefold()) not in compact:
        parts.append(quantity)
    return " ".join(parts)


def parse_open_food_facts(data: dict[str, Any]) -> Product | None:
    status = data.get("status")
    product = data.get("product")
    if status in _OFF_UNKNOWN:
        return None
    if status not in _OFF_FOUND or not isinstance(product, dict):
        raise UnexpectedAnswer(f"unexpected Open Food Facts status {status!r}")
    own_name = _localized(product, "product_name")
    generic = _localized(product, "generic_name")
    name = product_name(own_name or generic, _clean(product.get("brands")), product.get("quantity"))
    description = generic if generic and own_name and _words(generic) != _words(own_name) else None
    if not name and not description:
        return None  # known to the database, but nobody has named it yet
    return Product(name=name, description=description, image_url=_clean(product.get("image_url")))


def parse_plain(data: dict[str, Any]) -> Product | None:
    name, description = _clean(data.get("name")), _clean(data.get("description"))
    if not name and not description:
        return None
    return Product(name=name, description=description)


def parse_answer(data: Any) -> Product | None:
    """The product, or None when the service does not know the barcode."""
    if not isinstance(data, dict):
        raise UnexpectedAnswer("the answer is not a JSON object")
    if "product" in data:
        return parse_open_food_facts(data)
    if "name" in data or "description" in data:
        return parse_plain(data)
    if "status" in data:
        return parse_open_food_facts(data)
    raise UnexpectedAnswer("the answer has neither a product nor a name")


def product_url(template: str, barcode: str) -> str:
    """``{upc}`` in the URL is replaced; otherwise ``/<barcode>.json`` is appended."""
    code = quote(barcode, safe="")
    if "{upc}" in template:
        return template.replace("{upc}", code)
    url = f"{template.rstrip('/')}/{code}.json"
    if "openfoodfacts." in template and "?" not in template:
        url += f"?fields={OPEN_FOOD_FACTS_FIELDS}"
    return url


# -- talking to it ----------------------------------------------------------


class RateLimiter:
    """Spaces requests evenly: at most ``per_minute`` start in any minute."""

    def __init__(self, per_minute: int) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        # Reserve a slot before awaiting, so concurrent callers queue up fairly.
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class LookupWorker:
    def __init__(
        self,
        services: Services,
        *,
        url: str | None = None,
        concurrency: int = 2,
        timeout: float = 10.0,
        attempts: int = 3,
        per_minute: int = 60,
        backoff: float = 0.5,
        max_body: int = 2_000_000,
        client: OutboundClient | None = None,
    ) -> None:
        self.services = services
        self.url = url or services.settings.uda_api_url
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_body = max_body
        self.limiter = RateLimiter(per_minute)
        self._own_client = client is None
        self.client = client or OutboundClient(timeout=timeout)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def start(self) -> None:
        """Queue the lookups a previous run left unfinished, then start consuming."""
        if self._tasks:
            return
        try:
            for item_id in await self.services.items.pending_lookups(SYSTEM):
                self.services.lookups.enqueue(item_id)
        except Exception:
            log.exception("Could not re-queue the pending product lookups")
        self._tasks = [
            asyncio.create_task(self._consume(), name=f"stocky-lookup-{n}")
            for n in range(self.concurrency)
        ]
        log.debug(
            "Product lookups start (%d at a time, %s)", self.concurrency, mask_url(self.url)
        )

    async def stop(self) -> None:
        """Cancel the lookups under way (their items stay ``pending`` and are
        queued again at the next start) and close the client it made."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._own_client:
            await self.client.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _consume(self) -> None:
        queue = self.services.lookups
        while True:
            item_id = await queue.next()
            try:
                await self.run_once(item_id)
            except StorageFault as fault:
                # Logged once for its burst; the item stays pending for the next start.
                log.debug("The product lookup of item %s was not saved: %s", item_id, fault.message)
            except Exception:
                # One bad lookup must not end the worker: the next item waits.
                log.exception("The product lookup of item %s went wrong", item_id)
            finally:
                queue.done()

    async def run_once(self, item_id: uuid.UUID) -> str | None:
        """Look one item up and store the result; returns the new lookup
        status, or None when there was nothing to do."""
        items = self.services.items
        try:
            item = await items.get(item_id, SYSTEM)
        except NotFound:
            return None  # deleted while it waited
        if item.lookup_status != "pending" or not item.upc:
            return None  # already answered (queued twice), or nothing to look up
        try:
            product = await self.fetch(item.upc)
        except OutboundError as failure:
            found = {"failure": failure.reason}
        else:
            found = {"name": product.name, "description": product.description} if product else {}
        try:
            return await items.record_lookup(item_id, SYSTEM, **found)
        except NotFound:
            return None  # deleted while it was looked up

    async def fetch(self, barcode: str) -> Product | None:
        """Ask the product service, retrying what may pass; raises OutboundError."""
        url = product_url(self.url, barcode)
        attempt = 1
        while True:
            await self.limiter.wait()
            try:
                return await self._attempt(url)
            except OutboundError as failure:
                if not failure.retry or attempt >= self.attempts:
                    raise
                pause = retry_delay(self.backoff, MAX_BACKOFF, attempt)
                if failure.retry_after is not None:
                    pause = max(pause, failure.retry_after)
                pause = min(pause, MAX_BACKOFF)
                log.debug(
                    "Lookup of %s: the product service %s; attempt %d of %d in %.2f s",
                    barcode,
                    failure.reason,
                    attempt + 1,
                    self.attempts,
                    pause,
                )
                await asyncio.sleep(pause)
                attempt += 1

    async def _attempt(self, url: str) -> Product | None:
        try:
            data = await self.client.get_json(url, max_bytes=self.max_body, timeout=self.timeout)
        except OutboundError as error:
            if error.status == 404:
                return None  # Open Food Facts: {"status": 0}, an unknown product
            raise
        try:
            return parse_answer(data)
        except UnexpectedAnswer:
            raise OutboundError("sent an answer Stocky does not understand") from None
