"""Shared fixtures and helpers for ``test_scan_http.py`` and ``test_ws.py``.

Imported explicitly by those two modules (not a conftest): real services over a
real SQLite file in ``tmp_path`` and, in a second run of every test, over a
fresh database on a real PostgreSQL server; the real aiohttp app served on
loopback by ``aiohttp_client``, and one Scanner user. People with passwords
are created lazily (bcrypt is slow on purpose), only by the tests that need a
token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import bcrypt
import pytest
from sqlalchemy import func, select
from support.kitchens import STORAGE_ROOMS, add_locations

from stocky.api import keys
from stocky.api.app import create_app
from stocky.core.settings import Settings
from stocky.models import Alert, Item, Sku, StockChange, User
from stocky.schemas.actor import SYSTEM
from stocky.schemas.item import ItemOut
from stocky.services.container import Services, open_services

PREFIX = "/api/v1"
SCAN = f"{PREFIX}/scanner/scan"
STATUS = f"{PREFIX}/scanner/status"

# Bounded waits everywhere: nothing in these tests may hang the suite.
TIMEOUT = 5.0
QUIET = 0.3  # how long "receives nothing" is watched for

# Locations of the test kitchen and their storage types.
KITCHEN = {**STORAGE_ROOMS, "Shelf": None}


@dataclass
class Reply:
    status: int
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> dict[str, Any]:
        """The ``{"error": {...}}`` detail; asserts the documented shape."""
        body = self.json
        assert set(body) == {"error"}, body
        detail = body["error"]
        assert isinstance(detail.get("code"), str) and detail["code"], body
        assert isinstance(detail.get("message"), str) and detail["message"], body
        assert "Traceback" not in self.body.decode("utf-8", "replace")
        return detail

    def __repr__(self) -> str:  # shown when an assertion fails
        return f"<Reply {self.status} {self.body[:400]!r}>"


@dataclass
class Scanner:
    id: str
    username: str
    key: str


@dataclass
class ScanEnv:
    client: Any  # aiohttp TestClient
    services: Services
    scanner: Scanner
    locations: dict[str, str]  # name -> id
    _tokens: dict[str, str] = field(default_factory=dict)
    _people: dict[str, str] = field(default_factory=dict)  # role -> user id

    @property
    def app(self) -> Any:
        return self.client.server.app

    # -- HTTP -------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        data: bytes | None = None,
    ) -> Reply:
        kwargs: dict[str, Any] = {"headers": headers or {}}
        if json_body is not None:
            kwargs["json"] = json_body
        elif data is not None:
            kwargs["data"] = data
            kwargs["headers"] = {"Content-Type": "application/json", **kwargs["headers"]}
        async with asyncio.timeout(TIMEOUT):
            async with self.client.request(method, path, **kwargs) as response:
                return Reply(response.status, await response.read())

    async def scan(
        self, msg: str, *, key: str | None = None, scan_id: str | None = None
    ) -> Reply:
        body: dict[str, Any] = {"msg": msg}
        if scan_id is not None:
            body["scan_id"] = scan_id
        return await self.request(
            "POST", SCAN, headers={"X-API-Key": key or self.scanner.key}, json_body=body
        )

    async def scan_ok(self, msg: str, **kwargs: Any) -> dict[str, Any]:
        reply = await self.scan(msg, **kwargs)
        assert reply.status == 200, reply
        return reply.json

    async def command(self, command: str, payload: str, **kwargs: Any) -> Reply:
        return await self.scan(json.dumps({"command": command, "payload": payload}), **kwargs)

    async def status(self, scanner_id: str | None = None) -> dict[str, Any]:
        """This scanner's entry in ``GET /scanner/status`` (asked as an Admin)."""
        reply = await self.request("GET", STATUS, headers=await self.bearer("Admin"))
        assert reply.status == 200, reply
        wanted = scanner_id or self.scanner.id
        (entry,) = [s for s in reply.json["data"] if s["id"] == wanted]
        return entry

    async def state(self, scanner_id: str | None = None) -> dict[str, Any]:
        """The scanner's stored ``details`` (no HTTP, no bcrypt)."""
        user = await self.services.users.get(uuid.UUID(scanner_id or self.scanner.id), SYSTEM)
        return dict(user.details)

    # -- people (lazily, bcrypt is slow) -----------------------------------
    async def token(self, role: str) -> str:
        if role not in self._tokens:
            name, password = f"{role.lower()}-{uuid.uuid4().hex[:6]}", f"pw-{uuid.uuid4().hex}"
            user = await self.services.users.create(
                {"username": name, "role": role, "password": password}, SYSTEM
            )
            self._people[role] = str(user.id)
            reply = await self.request(
                "POST", f"{PREFIX}/auth/login", json_body={"username": name, "password": password}
            )
            assert reply.status == 200, reply
            body = reply.json
            assert body["token_type"] == "bearer"
            self._tokens[role] = body["access_token"]
        return self._tokens[role]

    async def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(role)}"}

    # -- fresh objects, through the services -------------------------------
    async def new_scanner(self, name: str | None = None) -> Scanner:
        name = name or f"scanner-{uuid.uuid4().hex[:6]}"
        created = await self.services.users.create({"username": name, "role": "Scanner"}, SYSTEM)
        assert created.api_key
        return Scanner(id=str(created.id), username=created.username, key=created.api_key)

    async def new_item(self, name: str | None = None, **fields: Any) -> ItemOut:
        data = {"name": name, **fields}
        if data["name"] is None and "upc" not in data:
            data["name"] = f"Thing {uuid.uuid4().hex[:6]}"
        return await self.services.items.create(data, SYSTEM)

    async def put(self, item: ItemOut | str, location: str, quantity: int) -> None:
        """``quantity`` of ``item`` at the location named ``location``."""
        item_id = item.id if isinstance(item, ItemOut) else item
        await self.services.skus.create(
            {"item_id": str(item_id), "location_id": self.locations[location], "quantity": quantity},
            SYSTEM,
        )

    async def new_location(self, name: str, storage_type: str | None = None) -> str:
        loc = await self.services.locations.create({"name": name, "storage_type": storage_type}, SYSTEM)
        self.locations[name] = str(loc.id)
        return str(loc.id)

    # -- what is in the database -----------------------------------------
    async def quantities(self, item: ItemOut | str) -> dict[str, int]:
        """Location name -> quantity for every SKU of ``item``."""
        item_id = item.id if isinstance(item, ItemOut) else uuid.UUID(str(item))
        detail = await self.services.items.get(item_id, SYSTEM)
        return {sku.location_name: sku.quantity for sku in detail.skus}

    async def total(self, item: ItemOut | str) -> int:
        item_id = item.id if isinstance(item, ItemOut) else uuid.UUID(str(item))
        return (await self.services.items.get(item_id, SYSTEM)).total_quantity

    async def snapshot(self) -> dict[str, Any]:
        """Everything a scan could change: items, SKUs with quantities, the
        journal, alerts and every scanner's state. Equal snapshots before and
        after a refused scan prove nothing changed."""

        def read(session) -> tuple:
            items = sorted(
                (str(i.id), i.name, i.upc, i.total_quantity, i.lookup_status)
                for i in session.scalars(select(Item))
            )
            skus = sorted((str(s.item_id), str(s.location_id), s.quantity) for s in session.scalars(select(Sku)))
            journal = session.scalar(select(func.count()).select_from(StockChange))
            alerts = session.scalar(select(func.count()).select_from(Alert))
            scanners = sorted(
                (str(u.id), json.dumps(u.details, sort_keys=True), u.is_active)
                for u in session.scalars(select(User).where(User.role == "Scanner"))
            )
            return items, skus, journal, alerts, scanners

        items, skus, journal, alerts, scanners = await self.services.db.read(read)
        return {
            "items": items,
            "item_count": len(items),
            "skus": skus,
            "sku_count": len(skus),
            "journal": journal,
            "alerts": alerts,
            "scanners": scanners,
            "lookups": len(self.services.lookups),
        }

    def logs(self, severity: str | None = None, search: str | None = None) -> list[Any]:
        return self.services.logs.query(severity=severity, search=search, limit=10_000)

    # -- WebSocket ----------------------------------------------------------
    async def ws(
        self, *, headers: dict[str, str] | None = None, params: dict[str, str] | None = None, **kwargs: Any
    ) -> aiohttp.ClientWebSocketResponse:
        async with asyncio.timeout(TIMEOUT):
            return await self.client.ws_connect("/ws", headers=headers, params=params, **kwargs)

    async def screen(
        self, ui_id: str | None = None, *, token: str | None = None, **kwargs: Any
    ) -> tuple[aiohttp.ClientWebSocketResponse, str]:
        """A connected, identified screen; returns it and its ui_id."""
        ui_id = ui_id or str(uuid.uuid4())
        ws = await self.ws(**kwargs)
        message: dict[str, Any] = {"action": "identify_ui", "ui_id": ui_id}
        if token is not None:
            message["token"] = token
        await ws.send_json(message)
        reply = await receive_json(ws)
        assert reply["action"] == "identified" and reply["ui_id"] == ui_id, reply
        return ws, ui_id

    def open_sockets(self) -> int:
        return len(self.app[keys.SOCKETS])


PASTA = "4000000000042"


async def stock_pasta(env: ScanEnv) -> None:
    """Two packs of pasta in the pantry, and the scanner set there."""
    pasta = await env.new_item("Pasta", upc=PASTA, storage_type="Ambient")
    await env.put(pasta, "Pantry", 2)
    assert (await env.command("set_location", env.locations["Pantry"])).status == 200


async def sees_changes(env: ScanEnv, ws: aiohttp.ClientWebSocketResponse) -> None:
    """A scan of the pasta reaches ``ws`` as a change of its SKU."""
    assert (await env.scan(PASTA)).status == 200
    message, _ = await receive_until(ws, lambda m: m["action"] == "changed" and m["entity"] == "sku")
    assert message["op"] == "updated"


async def receive_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The next message, which must be a JSON text frame."""
    message = await ws.receive(timeout=timeout)
    assert message.type == aiohttp.WSMsgType.TEXT, (message.type, message.data, message.extra)
    return json.loads(message.data)


async def receive_until(
    ws: aiohttp.ClientWebSocketResponse,
    predicate: Callable[[dict[str, Any]], bool],
    timeout: float = TIMEOUT,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read until a message matches; returns it and everything read before."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            message = await receive_json(ws, timeout)
            if predicate(message):
                return message, seen
            seen.append(message)


async def drain(ws: aiohttp.ClientWebSocketResponse, quiet: float = QUIET) -> list[dict[str, Any]]:
    """Everything that arrives until ``quiet`` seconds pass without a message."""
    seen: list[dict[str, Any]] = []
    while True:
        try:
            message = await ws.receive(timeout=quiet)
        except TimeoutError:
            return seen
        if message.type != aiohttp.WSMsgType.TEXT:
            seen.append({"__frame__": message.type.name, "data": message.data})
            return seen
        seen.append(json.loads(message.data))


async def receive_close(ws: aiohttp.ClientWebSocketResponse, timeout: float = TIMEOUT) -> aiohttp.WSMessage:
    """Skip text frames until the socket is closed; returns the close message."""
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive()
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.ERROR,
            ):
                return message


@pytest.fixture
def stocky_info_logs() -> None:
    """The appliance logs Stocky's INFO lines (``stocky serve`` sets that up);
    the log buffer only sees what the ``stocky`` logger lets through."""
    logger = logging.getLogger("stocky")
    before = logger.level
    logger.setLevel(logging.INFO)
    yield
    logger.setLevel(before)


@pytest.fixture
def cheap_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """bcrypt at its lowest cost for the few people these tests sign in:
    passwords are not what is tested here, and 12 rounds per login would make
    the suite crawl. Hashes stay real bcrypt, checked by the real login."""
    real_gensalt = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda rounds=12, prefix=b"2b": real_gensalt(4, prefix))


@pytest.fixture
async def scan_env(
    tmp_path, aiohttp_client, stocky_info_logs, cheap_bcrypt, database_url
) -> AsyncIterator[ScanEnv]:
    """``database_url`` (tests/conftest.py) runs every test on SQLite and on PostgreSQL."""
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=database_url)
    async with open_services(settings) as services:
        rooms = await add_locations(services, KITCHEN)
        locations = {name: str(loc.id) for name, loc in rooms.items()}
        created = await services.users.create({"username": "kitchen-scanner", "role": "Scanner"}, SYSTEM)
        assert created.api_key
        scanner = Scanner(id=str(created.id), username=created.username, key=created.api_key)
        client = await aiohttp_client(create_app(services))
        try:
            yield ScanEnv(client=client, services=services, scanner=scanner, locations=locations)
        finally:
            await client.close()
