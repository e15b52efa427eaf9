"""Fixtures of the REST API tests: the real app over a real SQLite file, and
again over a real PostgreSQL database (``db_backend`` in tests/conftest.py
runs every module on both).

bcrypt costs about a quarter of a second per hash or check, so the people
are made (and signed in through ``POST /api/v1/auth/login``) once per test
session per back end, in a template data directory (and, on PostgreSQL, a
template database). Every test then gets its own copy of that directory
(database file and secret key), so tests can change and delete whatever they
like, and the tokens minted for the template stay valid in every copy: same
secret, same users, same token versions. On PostgreSQL each module gets a
copy of the template database (``CREATE DATABASE ... TEMPLATE``), put back
to the template's rows before each test (``PgServer.restore``).

These fixtures deliberately use names of their own (``api``, ``api_template``)
so they do not depend on, or collide with, ``tests/conftest.py``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDictProxy
from sqlalchemy import text
from support.kitchens import STORAGE_ROOMS, add_locations

from stocky.api.app import create_app
from stocky.core.settings import Settings
from stocky.models import Base
from stocky.runtime import Runtime
from stocky.schemas.actor import SYSTEM
from stocky.services.container import Services, open_services

if TYPE_CHECKING:
    from pg_server import PgServer

PREFIX = "/api/v1"

# One person per role (plus Erin, whom tests may change, deactivate or delete).
PEOPLE = {
    "Admin": ("alice", "alice-Secret-1"),
    "Member": ("bob", "bob-Secret-2"),
    "Read-only": ("carol", "carol-Secret-3"),
}
VICTIM = ("erin", "erin-Secret-4")
SCANNER_NAME = "scanner-kitchen"

ROLES = ("anonymous", "Read-only", "Scanner", "Member", "Admin")

MILK_UPC = "4006381333931"
SPAGHETTI_UPC = "8076802085738"

_ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "contract: schemathesis contract fuzzing over real TCP (runs by default; "
        "select alone with -m contract)",
    )


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings of a test: nothing read from the environment or a ``.env``."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": None,
        "secret_key": None,
        "trust_forwarded_for": False,
        "access_token_minutes": 12 * 60,
        "mqtt_url": None,
        "hid_devices": None,
        # Nothing in these tests may reach the internet: a product lookup
        # worker, if one runs, gets a closed local port.
        "uda_api_url": "http://127.0.0.1:9/product/{upc}",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass(frozen=True)
class Seed:
    """What the template holds: ids, passwords, tokens and the scanner key."""

    users: dict[str, str]  # role (and "victim") -> user id
    passwords: dict[str, str]  # role (and "victim") -> password
    usernames: dict[str, str]
    tokens: dict[str, str]  # role (and "victim") -> bearer token
    scanner_key: str
    locations: dict[str, str]  # name -> id
    items: dict[str, str]  # short name -> id
    skus: dict[str, str]  # "item@location" -> id


async def _build_template(data_dir: Path, database_url: str | None) -> Seed:
    settings = make_settings(data_dir, database_url=database_url)
    async with open_services(settings) as services:
        users: dict[str, str] = {}
        passwords: dict[str, str] = {}
        usernames: dict[str, str] = {}
        for role, (name, password) in PEOPLE.items():
            created = await services.users.create(
                {"username": name, "role": role, "password": password}, SYSTEM
            )
            users[role], passwords[role], usernames[role] = str(created.id), password, name
        victim = await services.users.create(
            {"username": VICTIM[0], "role": "Member", "password": VICTIM[1]}, SYSTEM
        )
        users["victim"], passwords["victim"], usernames["victim"] = (
            str(victim.id),
            VICTIM[1],
            VICTIM[0],
        )
        scanner = await services.users.create({"username": SCANNER_NAME, "role": "Scanner"}, SYSTEM)
        assert scanner.api_key
        users["Scanner"], usernames["Scanner"] = str(scanner.id), SCANNER_NAME

        rooms = await add_locations(services, {**STORAGE_ROOMS, "Shelf": None})
        locations = {name: str(loc.id) for name, loc in rooms.items()}

        items = {}
        for key, data in (
            (
                "milk",
                {
                    "name": "Whole Milk",
                    "upc": MILK_UPC,
                    "storage_type": "Refrigerated",
                    "description": "Fresh, 3.5% fat",
                },
            ),
            (
                "spaghetti",
                {
                    "name": "Spaghetti",
                    "upc": SPAGHETTI_UPC,
                    "storage_type": "Ambient",
                    "description": "Durum wheat pasta",
                },
            ),
            ("jam", {"name": "Strawberry Jam", "storage_type": "Ambient"}),
            ("rice", {"name": "Basmati Rice", "storage_type": "Ambient"}),
        ):
            items[key] = str((await services.items.create(data, SYSTEM)).id)

        skus = {}
        for item, location, quantity in (
            ("milk", "Fridge", 3),
            ("spaghetti", "Pantry", 5),
            ("spaghetti", "Shelf", 2),
            ("jam", "Pantry", 1),
        ):
            sku = await services.skus.create(
                {"item_id": items[item], "location_id": locations[location], "quantity": quantity},
                SYSTEM,
            )
            skus[f"{item}@{location}"] = str(sku.id)
        # The jam ran out: a zero-stock item that still has its place in the pantry.
        await services.skus.adjust(uuid.UUID(skus["jam@Pantry"]), {"delta": -1}, SYSTEM)

        tokens = {}
        async with TestClient(TestServer(create_app(services))) as client:
            for key in (*PEOPLE, "victim"):
                response = await client.post(
                    f"{PREFIX}/auth/login",
                    json={"username": usernames[key], "password": passwords[key]},
                )
                assert response.status == 200, await response.text()
                tokens[key] = (await response.json())["access_token"]

    return Seed(
        users=users,
        passwords=passwords,
        usernames=usernames,
        tokens=tokens,
        scanner_key=scanner.api_key,
        locations=locations,
        items=items,
        skus=skus,
    )


@dataclass(frozen=True)
class Template:
    directory: Path
    seed: Seed
    pg: PgServer | None = None  # on PostgreSQL: the server holding ``database``
    database: str | None = None

    def copy_to(self, target: Path) -> Path:
        shutil.copytree(self.directory, target)
        return target

    def settings_in(self, target: Path, **overrides: Any) -> Settings:
        """Settings of a fresh copy of the template in ``target`` (and, on
        PostgreSQL, in a new database copied from the template's, dropped
        with the server at the end of the session)."""
        if self.pg is not None and self.database is not None:
            overrides.setdefault("database_url", self.pg.url(self.pg.create_database(self.database)))
        return make_settings(self.copy_to(target), **overrides)

    def runtime_in(self, target: Path) -> Runtime:
        """The real composition root over a fresh copy, on a free loopback port."""
        kwargs: dict[str, Any] = {"host": "127.0.0.1", "port": 0}
        if "hid" in inspect.signature(Runtime).parameters:
            kwargs["hid"] = False  # no USB scanners on a test machine, and none wanted
        return Runtime(self.settings_in(target), **kwargs)


@pytest.fixture(scope="session")
def api_templates() -> dict[str, Template]:
    """The templates built so far, by back end: each is built once a session."""
    return {}


@pytest.fixture(scope="module")
def api_template(
    db_backend: str,
    api_templates: dict[str, Template],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Template:
    if db_backend not in api_templates:
        directory = tmp_path_factory.mktemp(f"api-template-{db_backend}") / "data"
        pg = database = url = None
        if db_backend == "postgresql":
            pg = request.getfixturevalue("pg_server")
            database = pg.create_database(name="api_template")
            url = pg.url(database)
        # Its own thread and event loop: nothing of pytest-asyncio's loops is touched.
        with ThreadPoolExecutor(max_workers=1) as pool:
            seed = pool.submit(asyncio.run, _build_template(directory, url)).result()
        if pg is not None:
            pg.snapshot(database)  # what ``restore`` puts back
        api_templates[db_backend] = Template(directory=directory, seed=seed, pg=pg, database=database)
    return api_templates[db_backend]


@pytest.fixture(scope="module")
def api_database(api_template: Template) -> str | None:
    """On PostgreSQL, this module's copy of the template database."""
    if api_template.pg is None:
        yield None
        return
    name = api_template.pg.create_database(api_template.database)
    yield name
    api_template.pg.drop_database(name)


@pytest.fixture(autouse=True)
def stocky_log_level():
    """The appliance logs Stocky's INFO lines (``stocky serve`` configures
    that); the log buffer behind ``GET /log`` only sees what is enabled."""
    logger = logging.getLogger("stocky")
    before = logger.level
    logger.setLevel(logging.INFO)
    yield
    logger.setLevel(before)


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self) -> str:  # shown when an assertion fails
        return f"<Reply {self.status} {self.body[:400]!r}>"


_MISSING = object()


@dataclass
class Api:
    client: TestClient
    services: Services
    seed: Seed
    data_dir: Path
    extra: dict[str, Any] = field(default_factory=dict)

    # -- who is asking -------------------------------------------------
    def headers(self, who: str) -> dict[str, str]:
        if who == "anonymous":
            return {}
        if who == "Scanner":
            return {"X-API-Key": self.seed.scanner_key}
        return {"Authorization": f"Bearer {self.seed.tokens[who]}"}

    async def call(
        self,
        method: str,
        path: str,
        *,
        who: str = "Admin",
        json: Any = _MISSING,
        data: bytes | str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Call ``path``: below ``/api/v1`` unless it is one of the few
        routes outside it or already starts with the prefix."""
        url = path if path.startswith((PREFIX, "/health", "/ws", "/connect", "/ca.pem")) else PREFIX + path
        sent = {**self.headers(who), **(headers or {})}
        kwargs: dict[str, Any] = {"headers": sent, "params": params}
        if json is not _MISSING:
            kwargs["json"] = json
        elif data is not None:
            kwargs["data"] = data
            sent.setdefault("Content-Type", "application/json")
        async with self.client.request(method, url, **kwargs) as response:
            return Reply(response.status, response.headers, await response.read())

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("PATCH", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("DELETE", path, **kwargs)

    # -- seeded ids ------------------------------------------------------
    def loc(self, name: str) -> str:
        return self.seed.locations[name]

    def item(self, key: str) -> str:
        return self.seed.items[key]

    def sku(self, key: str) -> str:
        return self.seed.skus[key]

    def user(self, key: str) -> str:
        return self.seed.users[key]

    # -- fresh objects (through the services, no bcrypt) -----------------
    async def new_location(self, name: str | None = None, storage_type: str | None = None) -> str:
        name = name or f"Box {uuid.uuid4().hex[:8]}"
        loc = await self.services.locations.create(
            {"name": name, "storage_type": storage_type}, SYSTEM
        )
        return str(loc.id)

    async def new_item(self, name: str | None = None, **fields: Any) -> str:
        item = await self.services.items.create(
            {"name": name or f"Thing {uuid.uuid4().hex[:8]}", **fields}, SYSTEM
        )
        return str(item.id)

    async def new_sku(self, item_id: str, location_id: str, quantity: int) -> str:
        sku = await self.services.skus.create(
            {"item_id": item_id, "location_id": location_id, "quantity": quantity}, SYSTEM
        )
        return str(sku.id)

    async def new_scanner(self) -> tuple[str, str]:
        created = await self.services.users.create(
            {"username": f"scanner-{uuid.uuid4().hex[:8]}", "role": "Scanner"}, SYSTEM
        )
        return str(created.id), created.api_key or ""

    async def new_alert(
        self, message: str = "Check the freezer door", severity: str = "Info"
    ) -> str:
        alert = await self.services.alerts.create({"message": message, "severity": severity}, SYSTEM)
        return str(alert.id)

    # -- the database file, table by table ---------------------------------
    async def snapshot(self, *tables: str) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table (or of ``tables``): two equal snapshots
        prove nothing was written."""

        def read(session) -> dict[str, list[tuple[Any, ...]]]:
            dump: dict[str, list[tuple[Any, ...]]] = {}
            for table in Base.metadata.sorted_tables:
                if tables and table.name not in tables:
                    continue
                rows = session.execute(text(f'SELECT * FROM "{table.name}"'))
                dump[table.name] = sorted((tuple(row) for row in rows.all()), key=repr)
            return dump

        return await self.services.db.read(read)

    # -- what every answer must look like ----------------------------------
    @staticmethod
    def error(reply: Reply, status: int, code: str | None = None) -> dict[str, Any]:
        """Assert ``reply`` is the error ``status`` in the documented shape; return its detail."""
        assert reply.status == status, reply
        assert reply.headers.get("Content-Type", "").startswith("application/json"), reply.headers
        body = reply.json
        assert set(body) == {"error"}, body
        detail = body["error"]
        assert isinstance(detail.get("code"), str) and detail["code"], body
        assert isinstance(detail.get("message"), str) and detail["message"], body
        assert "Traceback" not in reply.text
        if code is not None:
            assert detail["code"] == code, body
        return detail

    @staticmethod
    def failing_fields(reply: Reply) -> set[str]:
        detail = Api.error(reply, 422, "validation_error")
        fields = detail.get("fields")
        assert isinstance(fields, list) and fields, detail
        for entry in fields:
            assert isinstance(entry["field"], str) and isinstance(entry["message"], str), entry
        return {entry["field"] for entry in fields}

    @staticmethod
    def is_uuid(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            return str(uuid.UUID(value)) == value.lower()
        except ValueError:
            return False

    @staticmethod
    def is_timestamp(value: Any) -> bool:
        """ISO 8601 with a time zone (``Z`` or ``+hh:mm``)."""
        if not isinstance(value, str) or not _ISO_WITH_OFFSET.match(value):
            return False
        return datetime.fromisoformat(value).tzinfo is not None

    @staticmethod
    def page(reply: Reply, status: int = 200) -> list[dict[str, Any]]:
        """Assert a collection answer ``{"data": [...], "total": n}``; return the data."""
        assert reply.status == status, reply
        body = reply.json
        assert set(body) == {"data", "total"}, body
        assert isinstance(body["data"], list)
        assert isinstance(body["total"], int) and body["total"] >= len(body["data"])
        return body["data"]


@pytest.fixture
async def api(
    api_template: Template, api_database: str | None, tmp_path: Path, aiohttp_client
) -> AsyncIterator[Api]:
    data_dir = api_template.copy_to(tmp_path / "data")
    database_url = None
    if api_template.pg is not None and api_database is not None:
        api_template.pg.restore(api_database)
        database_url = api_template.pg.url(api_database)
    async with open_services(make_settings(data_dir, database_url=database_url)) as services:
        client = await aiohttp_client(create_app(services))
        yield Api(client=client, services=services, seed=api_template.seed, data_dir=data_dir)
        await client.close()
