"""USB wedge scanners end to end: kernel input events from a fake device (a
pipe carrying packed ``struct input_event``s, as /dev/input/eventN would),
through the reader and the decoder, into a real SQLite database.

/dev/uinput is not available where the tests run, so the reader is given its
devices through its ``open_device``/``list_devices`` hooks; everything after
the file descriptor is the code the appliance runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import struct
import sys
import time
from types import SimpleNamespace

import pytest

evdev = pytest.importorskip("evdev")

from evdev import InputEvent, ecodes  # noqa: E402
from support.polling import eventually  # noqa: E402

from stocky.inputs.hid import HidScanInput, device_key  # noqa: E402
from stocky.schemas.actor import SYSTEM  # noqa: E402

EVENT = "llHHi"  # struct input_event on 64-bit Linux: timeval, type, code, value
EVENT_SIZE = struct.calcsize(EVENT)

_SHIFTED = {"{": "LEFTBRACE", "}": "RIGHTBRACE", '"': "APOSTROPHE", ":": "SEMICOLON", "_": "MINUS"}
_PLAIN = {"-": "MINUS", ",": "COMMA", "]": "RIGHTBRACE"}
GS = "\x1d"
# How scanners in keyboard mode type GS: Ctrl+], or Alt held over the keypad's 0 0 2 9.
GS_KEYS = {"ctrl+]": ("LEFTCTRL", ["RIGHTBRACE"]), "alt+0029": ("LEFTALT", ["KP0", "KP0", "KP2", "KP9"])}


class PipeDevice:
    """An input device whose events the test writes into a pipe."""

    def __init__(self, path: str, name: str, vendor: int = 0x05E0, product: int = 0x1200,
                 uniq: str = "S/N 4711", keys: bool = True) -> None:
        self.path, self.name, self.uniq = path, name, uniq
        self.info = SimpleNamespace(bustype=3, vendor=vendor, product=product, version=1)
        self.fd, self._write_fd = os.pipe()
        os.set_blocking(self.fd, False)
        self._keys = keys
        self._partial = b""
        self.grabbed = False
        self.closed = False
        self.fail_with: int | None = None

    def capabilities(self) -> dict[int, list[int]]:
        return {ecodes.EV_KEY: list(range(1, 128)) if self._keys else [ecodes.BTN_LEFT]}

    def grab(self) -> None:
        self.grabbed = True

    def read(self):
        if self.fail_with is not None:
            raise OSError(self.fail_with, os.strerror(self.fail_with))
        data = os.read(self.fd, 64 * EVENT_SIZE)  # BlockingIOError when empty, like evdev
        if not data:  # the writer is gone: what the kernel reports for an unplugged device
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
        data, whole = self._partial + data, (len(self._partial) + len(data)) // EVENT_SIZE
        self._partial = data[whole * EVENT_SIZE:]
        for offset in range(0, whole * EVENT_SIZE, EVENT_SIZE):
            yield InputEvent(*struct.unpack_from(EVENT, data, offset))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)

    # -- the test's side ----------------------------------------------------

    def send(self, events: list[tuple[int, int, int, float]]) -> None:
        packed = b"".join(
            struct.pack(EVENT, int(t), int((t % 1) * 1_000_000), type_, code, value)
            for type_, code, value, t in events
        )
        os.write(self._write_fd, packed)

    def type(self, text: str, *, step: float = 0.004, enter: bool = True, gs: str = "ctrl+]") -> None:
        """Type ``text`` as a US-layout wedge scanner does, with SYN reports;
        GS as ``gs`` says (a key of ``GS_KEYS``)."""
        now = time.time()
        events: list[tuple[int, int, int, float]] = []

        def key(name: str, value: int) -> None:
            nonlocal now
            events.append((ecodes.EV_KEY, ecodes.ecodes[f"KEY_{name}"], value, now))
            events.append((ecodes.EV_SYN, ecodes.SYN_REPORT, 0, now))
            now += step

        for char in text:
            if char == GS:
                modifier, keys = GS_KEYS[gs]
                key(modifier, 1)
                for name in keys:
                    key(name, 1)
                    key(name, 0)
                key(modifier, 0)
                continue
            shifted = char.isupper() or char in _SHIFTED
            name = _SHIFTED.get(char) or _PLAIN.get(char) or char.upper()
            if shifted:
                key("LEFTSHIFT", 1)
            key(name, 1)
            key(name, 0)
            if shifted:
                key("LEFTSHIFT", 0)
        if enter:
            key("ENTER", 1)
            key("ENTER", 0)
        self.send(events)

    def unplug(self) -> None:
        os.close(self._write_fd)

    def cleanup(self) -> None:
        for fd in (self._write_fd, self.fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class FakeInputDir:
    """What /dev/input holds now; the reader lists and opens through it."""

    def __init__(self) -> None:
        self.nodes: dict[str, PipeDevice | Exception] = {}
        self.made: list[PipeDevice] = []
        self.opened: list[str] = []

    def plug(self, path: str, name: str, **kwargs) -> PipeDevice:
        device = PipeDevice(path, name, **kwargs)
        self.nodes[path] = device
        self.made.append(device)
        return device

    def list(self) -> list[str]:
        return sorted(self.nodes)

    def open(self, path: str) -> PipeDevice:
        self.opened.append(path)
        node = self.nodes.get(path)
        if node is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        if isinstance(node, Exception):
            raise node
        return node


@pytest.fixture
def input_dir():
    fake = FakeInputDir()
    yield fake
    for device in fake.made:
        device.cleanup()


@pytest.fixture
async def reader_for(services, input_dir):
    """Make a reader over the fake devices; it is always stopped afterwards."""
    made: list[HidScanInput] = []

    async def make(**kwargs) -> HidScanInput:
        kwargs.setdefault("rescan_interval", 0.05)
        kwargs.setdefault("list_devices", input_dir.list)
        reader = HidScanInput(services, open_device=input_dir.open, **kwargs)
        made.append(reader)
        await reader.start()
        return reader

    yield make
    for reader in made:
        await asyncio.wait_for(reader.stop(), 10)


async def quantity_at(services, upc: str, location_name: str) -> int | None:
    item = await services.items.by_upc(upc, SYSTEM)
    if item is None:
        return None
    detail = await services.items.get(item.id, SYSTEM)
    return next((s.quantity for s in detail.skus if s.location_name == location_name), None)


async def _scanner_named(services, name: str):
    return await services.users.by_username(name, SYSTEM)


async def _is(awaitable, expected) -> bool:
    return await awaitable == expected


SYMBOL = "Symbol Technologies, Inc, 2008 Symbol Bar Code Scanner"


async def test_a_scanned_barcode_adds_stock_at_the_scanners_location(
    services, locations, input_dir, reader_for
):
    device = input_dir.plug("/dev/input/event7", SYMBOL)
    reader = await reader_for()
    assert reader.devices == [SYMBOL]
    assert device.grabbed  # what it types reaches no other window
    # Its first scan makes its user; a person then sets its location on a screen.
    device.type('{"command":"set_mode","payload":"add"}')
    await eventually(lambda: _scanner_named(services, SYMBOL))
    scanner = await _scanner_named(services, SYMBOL)
    await services.scans.set_state(scanner.id, {"current_location_id": locations["Fridge"].id}, SYSTEM)

    device.type("4006381333931")
    await eventually(lambda: quantity_at(services, "4006381333931", "Fridge"))
    device.type("4006381333931")
    await eventually(lambda: _is(quantity_at(services, "4006381333931", "Fridge"), 2))

    history = await services.items.history((await services.items.by_upc("4006381333931", SYSTEM)).id, SYSTEM)
    assert [(row.user_id, row.source) for row in history] == [(scanner.id, "scan")] * 2


@pytest.mark.parametrize("gs", list(GS_KEYS))
async def test_a_gs1_code_typed_with_its_group_separator_adds_a_dated_unit(
    services, locations, input_dir, reader_for, gs
):
    device = input_dir.plug("/dev/input/event7", "Honeywell Imaging & Mobility 1950")
    await reader_for()
    device.type(f'{{"command":"set_location","payload":"{locations["Fridge"].id}"}}')
    # A GS1 DataMatrix: GTIN, batch ABC123 (any length, so GS ends it), use by 2027-12-31.
    device.type(f"]d2010950110153000310ABC123{GS}17271231", gs=gs)
    await eventually(lambda: quantity_at(services, "9501101530003", "Fridge"))

    item = await services.items.by_upc("9501101530003", SYSTEM)
    (sku,) = (await services.items.get(item.id, SYSTEM)).skus
    assert [(lot.best_before.isoformat(), lot.quantity) for lot in sku.lots] == [("2027-12-31", 1)]


async def test_first_scan_creates_the_scanner_user_and_commands_work(
    services, locations, input_dir, reader_for
):
    device = input_dir.plug("/dev/input/event3", SYMBOL)
    await reader_for()
    pantry = locations["Pantry"].id

    # A location label's command, typed with Shift for { } " : _ , then a product.
    device.type(f'{{"command":"set_location","payload":"{pantry}"}}')
    device.type("5000112637922")
    await eventually(lambda: quantity_at(services, "5000112637922", "Pantry"))

    scanners = [u for u in (await services.users.list(SYSTEM)).data if u.role == "Scanner"]
    assert [(u.username, u.details["hid_device"]) for u in scanners] == [(SYMBOL, device_key(device))]
    assert scanners[0].details["current_location_id"] == str(pantry)

    # Remove mode by command card: the count goes back down.
    device.type('{"command":"set_mode","payload":"remove"}')
    device.type("5000112637922")
    await eventually(lambda: _is(quantity_at(services, "5000112637922", "Pantry"), 0))


async def test_two_scanners_with_the_same_name_get_their_own_users(
    services, locations, input_dir, reader_for
):
    first = input_dir.plug("/dev/input/event4", "Netum Barcode Reader", uniq="A1")
    second = input_dir.plug("/dev/input/event5", "Netum Barcode Reader", uniq="B2")
    await reader_for()
    first.type(f'{{"command":"set_location","payload":"{locations["Pantry"].id}"}}')
    second.type(f'{{"command":"set_location","payload":"{locations["Freezer"].id}"}}')

    async def both_bound() -> bool:
        states = await services.scans.states(SYSTEM)
        return sum(s.current_location_id is not None for s in states) == 2

    await eventually(both_bound)
    names = {s.username: s.current_location_id for s in await services.scans.states(SYSTEM)}
    assert names == {
        "Netum Barcode Reader": locations["Pantry"].id,
        "Netum Barcode Reader 2": locations["Freezer"].id,
    }


async def test_a_refused_scan_is_logged_and_the_reader_goes_on(
    services, locations, input_dir, reader_for, caplog
):
    device = input_dir.plug("/dev/input/event2", SYMBOL)
    await reader_for()
    caplog.set_level(logging.INFO, logger="stocky")

    device.type("4006381333931")  # no location yet and no place for a new product: 409
    await eventually(lambda: "Scan a location label first" in caplog.text)
    device.type('{"command":"set_mode","payload":"sideways"}')  # a bad command card: 422
    await eventually(lambda: "sideways" in caplog.text)

    device.type(f'{{"command":"set_location","payload":"{locations["Counter"].id}"}}')
    device.type("4006381333931")
    await eventually(lambda: quantity_at(services, "4006381333931", "Counter"))


async def test_a_deactivated_usb_scanner_is_refused(services, locations, input_dir, reader_for, caplog):
    device = input_dir.plug("/dev/input/event6", SYMBOL)
    await reader_for()
    caplog.set_level(logging.INFO, logger="stocky")
    device.type(f'{{"command":"set_location","payload":"{locations["Pantry"].id}"}}')
    device.type("4006381333931")
    await eventually(lambda: quantity_at(services, "4006381333931", "Pantry"))
    scanner = await _scanner_named(services, SYMBOL)
    await services.users.deactivate(scanner.id, SYSTEM)

    device.type("4006381333931")
    await eventually(lambda: f"{SYMBOL} is deactivated" in caplog.text)
    assert await quantity_at(services, "4006381333931", "Pantry") == 1


async def test_unplug_is_logged_and_a_replug_is_picked_up(
    services, locations, input_dir, reader_for, caplog
):
    caplog.set_level(logging.INFO, logger="stocky.hid")
    device = input_dir.plug("/dev/input/event9", SYMBOL)
    reader = await reader_for()
    device.type(f'{{"command":"set_location","payload":"{locations["Pantry"].id}"}}')
    device.type("4006381333931")
    await eventually(lambda: quantity_at(services, "4006381333931", "Pantry"))

    device.unplug()
    del input_dir.nodes["/dev/input/event9"]
    await eventually(lambda: device.closed and reader.devices == [])
    assert "USB scanner disconnected: " + SYMBOL in caplog.text

    # Plugged in again (a new node, perhaps a new number): same user, same location.
    again = input_dir.plug("/dev/input/event12", SYMBOL)
    await eventually(lambda: reader.devices == [SYMBOL] and again.grabbed)
    again.type("4006381333931")
    await eventually(lambda: _is(quantity_at(services, "4006381333931", "Pantry"), 2))
    assert len([u for u in (await services.users.list(SYSTEM)).data if u.role == "Scanner"]) == 1


async def test_a_read_error_enodev_detaches_without_crashing(
    services, locations, input_dir, reader_for, caplog
):
    caplog.set_level(logging.INFO, logger="stocky.hid")
    device = input_dir.plug("/dev/input/event9", SYMBOL)
    reader = await reader_for(rescan_interval=60)
    device.fail_with = errno.ENODEV
    device.type("1")  # makes the fd readable; the read then fails
    await eventually(lambda: reader.devices == [] and device.closed)
    assert "unplugged" in caplog.text
    await reader.stop()  # stopping after an unplug is fine, twice as well


async def test_a_stalled_partial_scan_is_not_glued_to_the_next(
    services, locations, input_dir, reader_for
):
    device = input_dir.plug("/dev/input/event9", SYMBOL)
    await reader_for(key_timeout=0.05)
    device.type(f'{{"command":"set_location","payload":"{locations["Pantry"].id}"}}')
    device.type("999", enter=False)  # half a scan, then the scanner hiccups
    await asyncio.sleep(0.2)
    device.type("4006381333931")
    await eventually(lambda: quantity_at(services, "4006381333931", "Pantry"))
    assert await services.items.by_upc("9994006381333931", SYSTEM) is None


async def test_keyboards_and_mice_are_never_grabbed_by_default(
    services, input_dir, reader_for
):
    keyboard = input_dir.plug("/dev/input/event0", "AT Translated Set 2 keyboard")
    logitech = input_dir.plug("/dev/input/event1", "Logitech USB Keyboard", vendor=0x046D)
    mouse = input_dir.plug("/dev/input/event2", "Barcode Scanner Mouse", keys=False)
    honeywell = input_dir.plug("/dev/input/event3", "Honeywell Imaging & Mobility 1900")
    reader = await reader_for()
    assert reader.devices == ["Honeywell Imaging & Mobility 1900"]
    assert honeywell.grabbed
    for other in (keyboard, logitech, mouse):
        assert not other.grabbed and other.closed

    # Non-scanners are not opened again at every rescan.
    opened = len(input_dir.opened)
    await asyncio.sleep(0.3)
    assert len(input_dir.opened) == opened


@pytest.mark.parametrize(
    ("selection", "chosen"),
    [
        ({"vendor_product": "0c2e:0b61"}, ["HID 0c2e:0b61"]),
        ({"vendor_product": "1eab:8003, 0c2e:0b61"}, ["HID 0c2e:0b61", "Kitchen Wedge"]),
        ({"name_pattern": "kitchen wedge"}, ["Kitchen Wedge"]),
        ({"device_glob": "/dev/input/by-id/usb-*"}, ["HID 0c2e:0b61"]),
    ],
)
async def test_configured_selection_by_glob_name_or_vendor_product(
    services, input_dir, reader_for, selection, chosen
):
    keyboard = input_dir.plug("/dev/input/event0", "AT Translated Set 2 keyboard")
    input_dir.plug("/dev/input/event1", "HID 0c2e:0b61", vendor=0x0C2E, product=0x0B61)
    input_dir.plug("/dev/input/event2", "Kitchen Wedge", vendor=0x1EAB, product=0x8003)
    if "device_glob" in selection:  # what the glob matches, through the fake directory
        selection["list_devices"] = lambda: ["/dev/input/event1"]

    reader = await reader_for(**selection)

    assert sorted(reader.devices) == chosen
    assert not keyboard.grabbed


async def test_no_permission_warns_how_to_fix_it(services, input_dir, reader_for, caplog):
    caplog.set_level(logging.WARNING, logger="stocky.hid")
    input_dir.nodes["/dev/input/event5"] = PermissionError(errno.EACCES, "Permission denied")
    reader = await reader_for()
    assert reader.devices == []
    (record,) = [r for r in caplog.records if r.name == "stocky.hid"]
    assert record.levelno == logging.WARNING
    assert "USB scanners unavailable" in record.message and "'input' group" in record.message
    await asyncio.sleep(0.2)  # rescans do not repeat the warning
    assert len([r for r in caplog.records if r.name == "stocky.hid"]) == 1


async def test_without_evdev_a_warning_and_no_crash(services, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="stocky.hid")
    monkeypatch.setitem(sys.modules, "evdev", None)  # import evdev -> ImportError
    reader = HidScanInput(services)
    await reader.start()
    await reader.stop()
    assert reader.devices == []
    assert "USB scanners unavailable" in caplog.text


@pytest.mark.parametrize(
    "selection", [{"name_pattern": "scanner(("}, {"vendor_product": "05e0-1200"}]
)
async def test_a_configuration_typo_disables_usb_scanners_with_a_warning(
    services, input_dir, reader_for, caplog, selection
):
    caplog.set_level(logging.WARNING, logger="stocky.hid")
    device = input_dir.plug("/dev/input/event3", SYMBOL)
    reader = await reader_for(**selection)
    assert reader.devices == [] and not device.grabbed
    assert "USB scanners unavailable" in caplog.text
    assert next(iter(selection.values())) in caplog.text
