"""Bad input: each mistake raises the typed domain error with a message a person
can read, and the database is exactly as it was before."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from stocky.core.errors import Conflict, InvalidInput, NotFound, StockyError
from stocky.schemas.actor import SYSTEM
from stocky.services.base import integrity_error


@pytest.fixture
def refused(db_snapshot, events):
    """``await refused(coro, ErrorType, "pattern")``: the call fails with that
    error and message, writes nothing and publishes nothing."""

    async def check(awaitable, error: type[StockyError], pattern: str) -> StockyError:
        before = await db_snapshot()
        events.clear()
        with pytest.raises(error) as caught:
            await awaitable
        message = caught.value.message
        assert re.search(pattern, message), message
        assert str(caught.value) == message
        for leak in ("Traceback", "sqlalchemy", "IntegrityError", "UNIQUE constraint", "pydantic"):
            assert leak not in message
        assert await db_snapshot() == before
        assert events == []
        return caught.value

    return check


# --- duplicates -------------------------------------------------------------------


@pytest.mark.parametrize("second", ["kitchen-scanner", "Kitchen-Scanner", "KITCHEN-SCANNER "])
async def test_duplicate_username_is_a_conflict(services, admin, refused, second):
    await services.users.create({"username": "kitchen-scanner", "role": "Scanner"}, admin)

    await refused(
        services.users.create({"username": second, "role": "Scanner"}, admin),
        Conflict,
        "username kitchen-scanner is taken",
    )
    assert (await services.users.count()) == 1


async def test_duplicate_username_differing_in_non_ascii_case_is_a_conflict(services, admin):
    await services.users.create({"username": "JÖRG", "role": "Scanner"}, admin)

    with pytest.raises(Conflict):
        await services.users.create({"username": "jörg", "role": "Scanner"}, admin)


async def test_duplicate_upc_is_a_conflict(services, member, refused):
    await services.items.create({"name": "Milk", "upc": "4006381333931"}, member)

    await refused(
        services.items.create({"name": "Other milk", "upc": "4006381333931"}, member),
        Conflict,
        "barcode 4006381333931 already belongs to Milk",
    )
    assert len(services.lookups) == 0


async def test_duplicate_location_name_is_a_conflict_in_any_case(
    services, member, locations, refused
):
    for name in ("Fridge", "fridge", "FRIDGE"):
        await refused(
            services.locations.create({"name": name, "storage_type": "Refrigerated"}, member),
            Conflict,
            "already a location called Fridge",
        )
    assert (await services.locations.list(SYSTEM)).total == 4


async def test_one_new_barcode_saved_five_times_at_once_is_one_item(services, member):
    """Five screens save the same new product at the same moment. On
    PostgreSQL they really overlap: all pass the friendly check, and the
    database's unique rule decides; the others hear "conflict", never a crash."""
    results = await asyncio.gather(
        *(services.items.create({"name": f"Milk {n}", "upc": "4006381333931"}, member) for n in range(5)),
        return_exceptions=True,
    )

    created = [r for r in results if not isinstance(r, BaseException)]
    assert len(created) == 1
    assert [type(r) for r in results if isinstance(r, BaseException)] == [Conflict] * 4
    assert [i.id for i in (await services.items.list(SYSTEM, stock="all")).data] == [created[0].id]


# --- values outside the vocabulary -------------------------------------------------


async def test_unknown_storage_type_is_invalid(services, member, locations, refused):
    error = await refused(
        services.locations.create({"name": "Cellar", "storage_type": "Cool"}, member),
        InvalidInput,
        "storage_type",
    )
    assert [f["field"] for f in error.fields] == ["storage_type"]

    await refused(
        services.items.create({"name": "Ham", "storage_type": "Chilled"}, member),
        InvalidInput,
        "storage_type",
    )
    await refused(
        services.locations.update(locations["Pantry"].id, {"storage_type": "frozen"}, member),
        InvalidInput,
        "storage_type",
    )


async def test_unknown_role_is_invalid(services, admin, refused):
    error = await refused(
        services.users.create({"username": "bob", "role": "Superuser", "password": "pw"}, admin),
        InvalidInput,
        "role",
    )
    assert "role" in [f["field"] for f in error.fields]
    assert await services.users.count() == 0


async def test_unknown_field_is_invalid(services, member, refused):
    await refused(
        services.locations.create({"name": "Cellar", "colour": "red"}, member),
        InvalidInput,
        "colour",
    )


async def test_an_item_needs_a_name_or_a_barcode(services, member, refused):
    await refused(
        services.items.create({"description": "something"}, member),
        InvalidInput,
        "name or a barcode",
    )


# --- quantities ---------------------------------------------------------------------


async def test_quantity_below_zero_is_invalid(services, member, locations, refused):
    tea = await services.items.create({"name": "Tea"}, member)
    sku = (await services.skus.add_to(tea.id, locations["Pantry"].id, 2, member)).sku

    await refused(
        services.skus.set_quantity(sku.id, {"quantity": -1}, member), InvalidInput, "quantity"
    )
    await refused(
        services.skus.create(
            {"item_id": tea.id, "location_id": locations["Counter"].id, "quantity": -5}, member
        ),
        InvalidInput,
        "quantity",
    )
    await refused(
        services.skus.move(sku.id, {"location_id": locations["Counter"].id, "quantity": 0}, member),
        InvalidInput,
        "quantity",
    )
    assert (await services.skus.get(sku.id, SYSTEM)).quantity == 2


async def test_removing_from_a_place_without_stock_is_a_conflict(
    services, member, locations, refused
):
    tea = await services.items.create({"name": "Tea"}, member)

    await refused(
        services.skus.add_to(tea.id, locations["Pantry"].id, -1, member),
        Conflict,
        "There is no Tea in Pantry to remove.",
    )
    assert (await services.items.get(tea.id, SYSTEM)).skus == []


# --- unknown ids ----------------------------------------------------------------------


async def test_unknown_ids_are_not_found(services, member, admin, locations, refused):
    missing = uuid.uuid4()
    tea = await services.items.create({"name": "Tea"}, member)

    for call in (
        services.items.update(missing, {"name": "x"}, member),
        services.items.delete(missing, admin),
        services.locations.update(missing, {"name": "x"}, member),
        services.skus.adjust(missing, {"delta": 1}, member),
        services.skus.create(
            {"item_id": missing, "location_id": locations["Pantry"].id, "quantity": 1}, member
        ),
        services.skus.add_to(tea.id, missing, 1, member),
        services.users.update(missing, {"role": "Member"}, admin),
        services.users.delete(missing, admin),
        services.alerts.acknowledge(missing, SYSTEM),
    ):
        error = await refused(call, NotFound, str(missing))
        assert error.code == "not_found"
    assert (await services.items.get(tea.id, SYSTEM)).skus == []


async def test_a_malformed_id_is_invalid(services, member, locations, refused):
    await refused(
        services.skus.create(
            {"item_id": "not-a-uuid", "location_id": locations["Pantry"].id}, member
        ),
        InvalidInput,
        "item_id",
    )


# --- clearing a field that must stay filled -------------------------------------------


async def test_clearing_a_location_name_is_invalid(services, member, locations, refused):
    error = await refused(
        services.locations.update(locations["Pantry"].id, {"name": None}, member),
        InvalidInput,
        "name",
    )
    assert [f["field"] for f in error.fields] == ["name"]


async def test_clearing_the_only_name_of_an_item_without_barcode_is_invalid(
    services, member, refused
):
    tea = await services.items.create({"name": "Tea"}, member)

    await refused(
        services.items.update(tea.id, {"name": None}, member),
        InvalidInput,
        "name or a barcode",
    )
    assert (await services.items.get(tea.id, SYSTEM)).name == "Tea"


# --- what the database itself refuses ------------------------------------------------


class _ServerRefusal(Exception):
    """What a PostgreSQL driver raises: the server's words, and the SQLSTATE."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("message", "sqlstate", "error"),
    [
        # A Spanish server (lc_messages = es_ES): no English word to go by.
        ("llave duplicada viola restricción de unicidad «uq_item_upc»", "23505", Conflict),
        ("inserción o actualización en la tabla «sku» viola la llave foránea", "23503", NotFound),
        ("el nuevo registro para la relación «sku» viola la restricción «check»", "23514", InvalidInput),
        # SQLite says it in English only, without a code.
        ("UNIQUE constraint failed: item.upc", None, Conflict),
        ("FOREIGN KEY constraint failed", None, NotFound),
        ("CHECK constraint failed: quantity_not_negative", None, InvalidInput),
    ],
)
def test_a_database_refusal_means_the_same_in_any_server_language(message, sqlstate, error):
    refusal = IntegrityError("INSERT ...", {}, _ServerRefusal(message, sqlstate))
    assert type(integrity_error(refusal)) is error
