"""ScanService on its own (DESIGN.md sections 4 and 10): it identifies its
scanner from an API key, a device or a signed-in person, checks that the
account is active and may scan inside the scan's own transaction, makes a
device's Scanner user itself, and what follows a scan (the screen's message,
the product lookup) follows its commit, whatever became of the caller."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid

import pytest
from service_support import Kitchen, new_account
from sqlalchemy import update

from stocky.core.errors import NotAuthenticated, PermissionDenied
from stocky.models import User
from stocky.schemas.actor import SYSTEM
from stocky.services.container import Services
from stocky.services.scanning import Device, NeedsLocation
from stocky.services.users import actor_of

MILK = "4006381333931"
WEDGE = Device("keywedge", "Kiosk scanner")


def _card(command: str, payload: str) -> str:
    return json.dumps({"command": command, "payload": payload})


async def _quantity(services: Services, upc: str) -> int:
    item = await services.items.by_upc(upc, SYSTEM)
    return item.total_quantity if item else 0


# -- who is scanning -------------------------------------------------------------


@pytest.mark.parametrize(
    "role, allowed", [("Scanner", True), ("Member", True), ("Admin", True), ("Read-only", False)]
)
async def test_a_key_scans_as_its_account_if_the_table_allows(
    services: Services, kitchen: Kitchen, cheap_bcrypt, role: str, allowed: bool
):
    data = {"username": f"{role}-key", "role": role, "with_api_key": True}
    if role != "Scanner":
        data["password"] = "a-Secret-123"
    key = (await services.users.create(data, SYSTEM)).api_key
    if allowed:
        await services.scans.scan_with_key(key, _card("set_location", str(kitchen.pantry)))
        result = await services.scans.scan_with_key(key, MILK)
        assert result.result == "added" and result.quantity == 1
    else:
        with pytest.raises(PermissionDenied):
            await services.scans.scan_with_key(key, MILK)
        assert await _quantity(services, MILK) == 0


async def test_a_person_scans_as_themselves_and_a_read_only_one_may_not(
    services: Services, kitchen: Kitchen, cheap_bcrypt
):
    member = await new_account(services, "Member", source="api")
    await services.scans.scan(member, _card("set_location", str(kitchen.fridge)))
    result = await services.scans.scan(member, MILK)
    assert (result.scanner.id, result.location.name, result.quantity) == (member.user_id, "Fridge", 1)
    [change] = await services.items.history(result.item.id, SYSTEM)
    assert (change.user_id, change.source) == (member.user_id, "scan")

    reader = await new_account(services, "Read-only")
    with pytest.raises(PermissionDenied):
        await services.scans.scan(reader, MILK)
    with pytest.raises(PermissionDenied):  # Stocky's own actor has no scanner state to scan with
        await services.scans.scan(SYSTEM, MILK)


async def test_a_key_deactivated_behind_the_key_cache_is_refused_in_the_transaction(
    services: Services, kitchen: Kitchen
):
    """Another process (or a hand edit) deactivates the scanner: this one's key
    cache still knows the key, but the scan reads the row it writes with."""
    scanner = await services.users.create({"username": "pantry-scanner", "role": "Scanner"}, SYSTEM)
    await services.scans.scan_with_key(scanner.api_key, _card("set_location", str(kitchen.pantry)))
    await services.db.write(
        lambda session: session.execute(update(User).where(User.id == scanner.id).values(is_active=False))
    )
    assert await services.users.by_api_key(scanner.api_key) is not None  # still remembered
    with pytest.raises(PermissionDenied, match="deactivated"):
        await services.scans.scan_with_key(scanner.api_key, MILK)
    assert await _quantity(services, MILK) == 0


async def test_an_unknown_or_deactivated_key_is_not_authenticated(services: Services):
    scanner = await services.users.create({"username": "old-scanner", "role": "Scanner"}, SYSTEM)
    await services.users.deactivate(scanner.id, SYSTEM)
    for key in (scanner.api_key, "sk_" + "A" * 43):
        with pytest.raises(NotAuthenticated):
            await services.scans.scan_with_key(key, MILK)


# -- devices: USB scanners and the key wedge -----------------------------------


async def test_a_devices_first_scan_makes_its_scanner_user_in_the_same_transaction(
    services: Services, kitchen: Kitchen, events
):
    device = Device("usb:05e0:1200:A1", "Symbol Bar Code Scanner")
    result = await services.scans.scan_from_device(device, _card("set_location", str(kitchen.pantry)))
    assert result.scanner.username == "Symbol Bar Code Scanner"
    again = await services.scans.scan_from_device(device, MILK)
    assert again.scanner.id == result.scanner.id and again.quantity == 1

    scanners = [u for u in (await services.users.list(SYSTEM)).data if u.role == "Scanner"]
    assert [(u.username, u.details["hid_device"]) for u in scanners] == [(device.name, device.key)]
    assert [e.op for e in events if e.entity == "user"] == ["created"]  # once, with its first scan


async def test_a_deactivated_device_is_refused_and_changes_nothing(
    services: Services, kitchen: Kitchen, db_snapshot, caplog
):
    first = await services.scans.scan_from_device(WEDGE, _card("set_location", str(kitchen.pantry)))
    await services.users.deactivate(first.scanner.id, SYSTEM)
    before = await db_snapshot()
    caplog.set_level(logging.WARNING, logger="stocky.scan")

    with pytest.raises(PermissionDenied, match="deactivated"):
        await services.scans.scan_from_device(WEDGE, MILK)

    assert await db_snapshot() == before  # no stock, and no fresh user for the device either
    refusal = [r for r in caplog.records if "refused" in r.getMessage()]
    assert refusal and refusal[0].source == "Kiosk scanner"


async def test_a_device_scan_is_one_write_and_the_device_talks_to_its_screen(
    services: Services, kitchen: Kitchen
):
    ui = str(uuid.uuid4())
    got: list[dict] = []
    stop = services.screens.register(ui, got.append)
    wedge = Device(WEDGE.key, WEDGE.name, ui)
    await services.scans.scan_from_device(wedge, _card("set_location", str(kitchen.pantry)))

    writes = 0
    real_write = services.db.write

    def counting(unit):
        nonlocal writes
        writes += 1
        return real_write(unit)

    services.db.write = counting
    try:
        result = await services.scans.scan_from_device(wedge, MILK)
    finally:
        services.db.write = real_write
    stop()
    assert writes == 1  # no separate write to find (or bind) the device's user
    assert result.scanner.associated_ui_id == ui
    assert [m["result"] for m in got] == ["location", "added"]


# -- what follows the commit ----------------------------------------------------


async def _linked_wedge(services: Services, kitchen: Kitchen) -> tuple[Device, list[dict]]:
    """The key wedge of a screen, scanning into the Pantry; the screen's messages."""
    ui = str(uuid.uuid4())
    got: list[dict] = []
    services.screens.register(ui, got.append)
    wedge = Device(WEDGE.key, WEDGE.name, ui)
    await services.scans.scan_from_device(wedge, _card("set_location", str(kitchen.pantry)))
    got.clear()
    return wedge, got


async def _scan_and_give_up(services: Services, device: Device, text: str, got: list[dict]) -> None:
    """Scan while the writer is busy, so the scan waits in its queue when its
    caller gives up; then wait (boundedly) for what the screen receives."""
    busy = services.db.write(lambda session: time.sleep(0.3))
    caller = asyncio.create_task(services.scans.scan_from_device(device, text))
    await asyncio.sleep(0.05)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await busy
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def test_a_cancelled_caller_loses_neither_the_screen_message_nor_the_lookup(
    services: Services, kitchen: Kitchen
):
    wedge, got = await _linked_wedge(services, kitchen)
    await _scan_and_give_up(services, wedge, "5000112637922", got)
    assert [(m["result"], m["created"]) for m in got] == [("added", True)]
    item = await services.items.by_upc("5000112637922", SYSTEM)
    assert item is not None and item.lookup_status == "pending"
    assert item.id in services.lookups  # queued for the product lookup


async def test_a_refusal_reaches_the_screen_even_when_the_caller_is_gone(
    services: Services, kitchen: Kitchen
):
    wedge, got = await _linked_wedge(services, kitchen)
    await _scan_and_give_up(services, wedge, _card("set_mode", "sideways"), got)
    assert len(got) == 1 and got[0]["ok"] is False and "set_mode takes" in got[0]["message"]


# -- "Where does it go?" answers one scan --------------------------------------------


def actor_of_scanner(user):
    return actor_of(user, "scan")


async def _state(services: Services, scanner_id: uuid.UUID) -> dict:
    return dict((await services.users.get(scanner_id, SYSTEM)).details)


async def test_answering_where_it_goes_places_that_scan_and_leaves_the_scanner_as_it_was(
    services: Services, kitchen: Kitchen
):
    scanner = await kitchen.scanner()
    before = (await _state(services, scanner)).get("current_location_id")
    result = await services.scans.scan_into(scanner, kitchen.pantry, MILK, SYSTEM)
    assert result.result == "added" and result.location.id == kitchen.pantry
    assert (await _state(services, scanner)).get("current_location_id") == before
    # The next milk goes where the milk now is, without asking again.
    again = await services.scans.scan(actor_of_scanner(await services.users.get(scanner, SYSTEM)), MILK)
    assert again.location.id == kitchen.pantry and again.quantity == 2


async def test_always_here_sets_the_scanners_place(services: Services, kitchen: Kitchen):
    scanner = await kitchen.scanner()
    await services.scans.scan_into(scanner, kitchen.fridge, MILK, SYSTEM, remember=True)
    assert (await _state(services, scanner))["current_location_id"] == str(kitchen.fridge)


async def test_an_item_goes_to_its_one_stocked_place_not_an_empty_one(services: Services, kitchen: Kitchen):
    """Milk is in the fridge; a pantry place it once had is at zero."""
    scanner = await kitchen.scanner()
    await services.scans.scan_into(scanner, kitchen.fridge, MILK, SYSTEM)
    milk = await services.items.by_upc(MILK, SYSTEM)
    await services.skus.create({"item_id": milk.id, "location_id": kitchen.pantry, "quantity": 0}, SYSTEM)
    result = await services.scans.scan(actor_of_scanner(await services.users.get(scanner, SYSTEM)), MILK)
    assert result.location.id == kitchen.fridge and result.quantity == 2


async def test_a_new_scanners_first_scan_may_be_an_unknown_product(services: Services, kitchen: Kitchen):
    """Refused for want of a place, the new scanner's user stays, and the
    screen's answer scans again as it."""
    device = Device("usb:1a86:e026:NEW", "Barcode Scanner")
    with pytest.raises(NeedsLocation):
        await services.scans.scan_from_device(device, "5012345678900")
    made = await services.users.by_username("Barcode Scanner", SYSTEM)
    assert made is not None and made.role == "Scanner"
    result = await services.scans.scan_into(made.id, kitchen.pantry, "5012345678900", SYSTEM)
    assert result.result == "added" and result.created
