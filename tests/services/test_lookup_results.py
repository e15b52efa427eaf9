"""A product lookup's outcome is decided and written by the item service in
one transaction: the status, the name it found, and the alert of a failure
commit together or not at all."""

from __future__ import annotations

import pytest
from service_support import Kitchen

from stocky.core.errors import NotFound
from stocky.schemas.actor import SYSTEM
from stocky.services.container import Services


async def test_a_failure_sets_failed_and_raises_its_alert_together(services: Services, kitchen: Kitchen):
    item_id = await kitchen.barcode_item()
    status = await services.items.record_lookup(item_id, SYSTEM, failure="did not answer")
    assert status == "failed"
    item = await services.items.get(item_id, SYSTEM)
    assert item.lookup_status == "failed"
    [alert] = (await services.alerts.list(SYSTEM)).data
    assert alert.severity == "Warning"
    assert alert.message == f"Could not look up barcode {item.upc}: the product service did not answer"


async def test_an_item_deleted_meanwhile_leaves_no_alert_behind(services: Services, kitchen: Kitchen):
    item_id = await kitchen.barcode_item()
    await services.items.delete(item_id, SYSTEM)
    with pytest.raises(NotFound):
        await services.items.record_lookup(item_id, SYSTEM, failure="did not answer")
    assert (await services.alerts.list(SYSTEM)).total == 0


async def test_found_and_not_found_keep_what_a_person_typed(services: Services, kitchen: Kitchen):
    typed = await kitchen.barcode_item()
    await services.items.update(typed, {"name": "Grandma's jam"}, SYSTEM)
    assert await services.items.record_lookup(typed, SYSTEM, name="Jam 450 g", description="Strawberry") == "found"
    item = await services.items.get(typed, SYSTEM)
    assert (item.name, item.description) == ("Grandma's jam", "Strawberry")

    unknown = await kitchen.barcode_item()
    assert await services.items.record_lookup(unknown, SYSTEM) == "not_found"
    assert (await services.items.get(unknown, SYSTEM)).name is None
    assert (await services.alerts.list(SYSTEM)).total == 0
