"""Contract fuzzing: every operation of openapi.json, called over real TCP
with data schemathesis generates from the description itself, signed in as
an Admin (so every route is reachable). No answer may be a 5xx, and every
answer must match what openapi.json promises: a documented status, a
documented content type, and a body that fits the documented schema.

The server is the real composition root (``stocky.runtime.Runtime``) on a
loopback port, in a thread with its own event loop, over a copy of the
template database; schemathesis talks to it with ``requests`` like any client.
Bounded: a fixed number of examples per operation and a deadline per example.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from stocky.api.app import all_routes
from stocky.runtime import Runtime
from stocky.schemas.actor import SYSTEM

pytestmark = [
    # Part of every run (CI runs plain `uv run pytest`); `-m contract` selects it alone.
    pytest.mark.contract,
    # schemathesis' own strategies use ``random`` inside; not ours to fix.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

EXAMPLES_PER_OPERATION = 15
DOCS_ASSET = "/api/v1/docs/assets/{name}"
DEADLINE_MS = 10_000  # per example; bcrypt on a busy 2-core CI box is slow, not broken


@pytest.fixture(scope="module")
def db_backend() -> str:
    """SQLite only (the rest of tests/api runs on PostgreSQL too): the fuzzing
    costs half a minute per back end, and the routes, schemas and error
    mapping it checks are the same on both."""
    return "sqlite"


class LiveStocky:
    """A Runtime serving on 127.0.0.1:<free port> from a background thread."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name="stocky-contract-server", daemon=True
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.runtime.start())
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.runtime.stop())
            self.loop.close()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(60):
            raise TimeoutError("Stocky did not start within 60 s")
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(30)

    def run(self, coroutine):
        """Run ``coroutine`` on the server's loop (its services live there)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.runtime.bound_port}"


@pytest.fixture(scope="module")
def live_stocky(api_template, tmp_path_factory):
    data = Path(tmp_path_factory.mktemp("contract")) / "data"
    server = LiveStocky(api_template.runtime_in(data))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def contract_schema(live_stocky):
    # An explicit configuration: a schemathesis.toml lying around changes nothing here.
    config = schemathesis.Config.from_dict({"seed": 20261121})
    return schemathesis.openapi.from_url(
        f"{live_stocky.base_url}/api/v1/openapi.json", config=config
    )


@pytest.fixture(scope="module")
def admin_headers(api_template):
    return {"Authorization": f"Bearer {api_template.seed.tokens['Admin']}"}


@pytest.fixture(scope="module")
def real_ids(api_template, live_stocky) -> dict[str, dict[str, str]]:
    """Ids that exist, per path. Erin (a Member) stands in for users, never the
    Admin the fuzzer signs in as."""
    seed = api_template.seed
    alert = live_stocky.run(live_stocky.runtime.services.alerts.create({"message": "Fuzz me"}, SYSTEM))
    ids = {
        "/api/v1/user/{id}": seed.users["victim"],
        "/api/v1/user/{id}/api-key": seed.users["victim"],
        "/api/v1/item/{id}": seed.items["milk"],
        "/api/v1/item/{id}/refresh": seed.items["milk"],
        "/api/v1/item/{id}/history": seed.items["milk"],
        "/api/v1/qr/item/{id}": seed.items["milk"],
        "/api/v1/location/{id}": seed.locations["Shelf"],
        "/api/v1/location/{id}/empty": seed.locations["Shelf"],
        "/api/v1/qr/location/{id}": seed.locations["Pantry"],
        "/api/v1/sku/{id}": seed.skus["spaghetti@Pantry"],
        "/api/v1/sku/{id}/adjust": seed.skus["spaghetti@Pantry"],
        "/api/v1/sku/{id}/move": seed.skus["spaghetti@Pantry"],
        "/api/v1/sku/{id}/date": seed.skus["spaghetti@Pantry"],
        "/api/v1/alert/{id}": str(alert.id),
        "/api/v1/scanner/{id}/state": seed.users["Scanner"],
        "/api/v1/scanner/{id}/scan-into": seed.users["Scanner"],
    }
    return {path: {"id": value} for path, value in ids.items()} | {
        "/api/v1/docs/assets/{name}": {"name": "swagger-ui.css"},
    }


# One test per operation, from the route table; each finds its operation in
# the schema the live server serves (a route missing there fails). This
# drives hypothesis directly with schemathesis' strategies because the lazy
# ``schemathesis.pytest.from_fixture`` loader of schemathesis 4.32 reads
# ``request.node._nodeid``, which pytest 9 no longer has.
OPERATIONS = [
    (route.method, route.full_path) for route in all_routes() if getattr(route, "documented", True)
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_keeps_its_contract(
    contract_schema, admin_headers, live_stocky, real_ids, method, path
):
    operation = contract_schema[path][method]
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if known := real_ids.get(path):
        # Random ids only ever find nothing: a third of the cases use a real one.
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
    cases = st.one_of(strategies)

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=DEADLINE_MS,
        database=None,  # no .hypothesis directory in the repository
        derandomize=True,  # the same cases on every run: a CI failure reproduces locally
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
    def keeps_contract(case):
        case.call_and_validate(
            base_url=live_stocky.base_url,
            headers=admin_headers,
            checks=_checks_for(path),
            timeout=30,
        )

    keeps_contract()


def _checks_for(path: str) -> list:
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance]
    if path != DOCS_ASSET:
        checks.append(content_type_conformance)
    # else: the docs' files are served as text/css, application/javascript and
    # image/png but documented as application/octet-stream; that is a bug of
    # its own, test_docs_assets_are_documented_with_their_content_types.
    return checks


def test_docs_assets_are_documented_with_their_content_types(contract_schema, live_stocky):
    documented = contract_schema.raw_schema["paths"][DOCS_ASSET]["get"]["responses"]["200"][
        "content"
    ]
    for name in ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"):
        response = requests.get(f"{live_stocky.base_url}/api/v1/docs/assets/{name}", timeout=30)
        assert response.status_code == 200
        served = response.headers["Content-Type"].split(";")[0].strip()
        assert served in documented or "*/*" in documented, (name, served, list(documented))
