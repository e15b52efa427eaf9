"""USB barcode scanners that act as keyboards (HID keyboard wedges), read
straight from Linux evdev.

Each scanner is grabbed, so what it types never reaches another window, and
read with ``loop.add_reader`` on its file descriptor (plain asyncio and
qasync both support that; python-evdev's ``async_read_loop`` does not
survive cancellation well). Scanners come and go: a periodic rescan picks
up a plugged-in scanner, and a read that fails with ENODEV lets it go.

Every device scans as its own Scanner user, which ``ScanService.scan_from_device``
finds (or makes, on the first scan) in the scan's own transaction, so each
scanner keeps its own mode and location and an Admin can deactivate it.
"""

from __future__ import annotations

import asyncio
import errno
import glob
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from stocky.core.errors import StockyError
from stocky.inputs.keydecoder import DEFAULT_TIMEOUT, KEY_CODES, KeyDecoder
from stocky.services.scanning import Device as ScanningDevice

log = logging.getLogger("stocky.hid")

EV_SYN, EV_KEY = 0, 1
SYN_DROPPED = 3
INPUT_DIR = "/dev/input"
HINT = "add the user running Stocky to the 'input' group (see README)"

# What common scanners call themselves. Only these are taken when nothing is
# configured, so a normal keyboard is never grabbed.
DEFAULT_NAME_PATTERN = (
    r"bar ?code|scanner|\bsymbol\b|honeywell|metrologic|zebra|datalogic|\bnetum\b|"
    r"newland|opticon|inateck|eyoyo|tera ?scan|cipherlab|code ?corp|\bwasp\b|"
    r"hand ?held products|\bqr ?(code|reader)|\bscan ?gun"
)


class Device(Protocol):
    """The part of ``evdev.InputDevice`` the reader uses (tests give a fake)."""

    fd: int
    name: str
    path: str

    def capabilities(self) -> dict[int, list[int]]: ...
    def grab(self) -> None: ...
    def read(self) -> Iterable[Any]: ...  # events with type, code, value, timestamp()
    def close(self) -> None: ...


def device_key(device: Device) -> str:
    """What a scanner is across replugging: vendor, product and serial
    (or name, for scanners without one). The eventN path changes every time."""
    info = getattr(device, "info", None)
    ids = f"{info.vendor:04x}:{info.product:04x}" if info is not None else "0000:0000"
    return f"usb:{ids}:{getattr(device, 'uniq', '') or device.name}"


def _open_evdev(path: str) -> Device:
    import evdev

    # Read-only: opening read-write makes some keyboards re-send LED state.
    return evdev.InputDevice(path, readonly=True)


def _list_input_nodes() -> list[str]:
    return sorted(glob.glob(os.path.join(INPUT_DIR, "event*")))


def _parse_ids(text: str | None) -> set[tuple[int, int]]:
    """``"05e0:1200, 0c2e:0b61"`` -> {(0x05e0, 0x1200), (0x0c2e, 0x0b61)}."""
    ids = set()
    for part in (text or "").replace(";", ",").split(","):
        if part.strip():
            vendor, _, product = part.strip().partition(":")
            ids.add((int(vendor, 16), int(product, 16)))
    return ids


def _node_identity(path: str) -> tuple[int, int] | None:
    """Changes when udev makes the node anew (an unplug and a replug)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_ctime_ns


@dataclass(eq=False)
class _Attached:
    device: Device
    path: str
    name: str
    key: str
    decoder: KeyDecoder
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    reading: bool = False


class HidScanInput:
    """Reads every matching scanner until ``stop``; never raises on a bad device."""

    def __init__(
        self,
        services: Any,
        *,
        device_glob: str | None = None,
        name_pattern: str | None = None,
        vendor_product: str | None = None,
        key_timeout: float = DEFAULT_TIMEOUT,
        rescan_interval: float = 2.0,
        open_device: Callable[[str], Device] | None = None,
        list_devices: Callable[[], Iterable[str]] | None = None,
        associate_ui: str | None = None,
    ) -> None:
        self.services = services
        # A scanner plugged into the kiosk talks to the kiosk's own screen.
        self.associate_ui = associate_ui
        self.device_glob = device_glob
        # A typo in the configuration disables USB scanners, not the appliance.
        self._config_error: str | None = None
        try:
            self.vendor_product = _parse_ids(vendor_product)
        except ValueError:
            self.vendor_product = set()
            self._config_error = f"{vendor_product!r} is not a vendor:product list like 05e0:1200"
        configured = device_glob or name_pattern or vendor_product
        try:
            self.name_pattern = re.compile(
                name_pattern or ("" if configured else DEFAULT_NAME_PATTERN), re.IGNORECASE
            )
        except re.error as error:
            self.name_pattern = re.compile("(?!)")
            self._config_error = f"the name pattern {name_pattern!r} is not a valid regex ({error})"
        self.key_timeout = key_timeout
        self.rescan_interval = rescan_interval
        self._injected = open_device is not None
        self._open = open_device or _open_evdev
        self._list = list_devices or self._default_list
        self._attached: dict[str, _Attached] = {}  # by real path
        self._ignored: dict[str, tuple[int, int] | None] = {}
        self._denied_warned: set[str] = set()
        self._rescan_task: asyncio.Task[None] | None = None
        self._scan_tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_settings(cls, services: Any, associate_ui: str | None = None) -> HidScanInput:
        settings = services.settings
        return cls(
            services,
            associate_ui=associate_ui,
            device_glob=settings.hid_devices,
            name_pattern=settings.hid_name_pattern,
            vendor_product=settings.hid_vendor_product,
            key_timeout=settings.hid_key_timeout_ms / 1000,
        )

    @property
    def devices(self) -> list[str]:
        """Names of the scanners being read now."""
        return [attached.name for attached in self._attached.values()]

    async def start(self) -> None:
        if self._config_error:
            log.warning("USB scanners unavailable: %s", self._config_error)
            return
        if not self._injected:
            if not sys.platform.startswith("linux"):
                log.warning("USB scanners unavailable: evdev needs Linux (this is %s)", sys.platform)
                return
            try:
                import evdev  # noqa: F401
            except ImportError as error:
                log.warning("USB scanners unavailable: python-evdev cannot be loaded (%s)", error)
                return
            if not os.path.isdir(INPUT_DIR):
                log.warning("USB scanners unavailable: there is no %s on this system", INPUT_DIR)
                return
        self._loop = asyncio.get_running_loop()
        self._rescan()
        if self.device_glob and not self._attached:
            log.info("No scanner matches %s yet; waiting for one to be plugged in", self.device_glob)
        self._rescan_task = asyncio.create_task(self._rescan_forever(), name="hid-rescan")

    async def stop(self) -> None:
        if self._rescan_task is not None:
            self._rescan_task.cancel()
            await asyncio.gather(self._rescan_task, return_exceptions=True)
            self._rescan_task = None
        for one in list(self._attached.values()):
            self._detach(one, None)
        # Scans already typed are applied; one stuck on the database is not waited for long.
        tasks = list(self._scan_tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- finding devices ----------------------------------------------------

    def _default_list(self) -> list[str]:
        return sorted(glob.glob(self.device_glob)) if self.device_glob else _list_input_nodes()

    async def _rescan_forever(self) -> None:
        while True:
            await asyncio.sleep(self.rescan_interval)
            try:
                self._rescan()
            except Exception:
                log.exception("Looking for USB scanners failed")

    def _rescan(self) -> None:
        denied: list[str] = []
        for path in self._list():
            real = os.path.realpath(path)
            if real in self._attached:
                continue
            identity = _node_identity(real)
            if real in self._ignored and self._ignored[real] == identity:
                continue
            self._ignored.pop(real, None)
            try:
                device = self._open(path)
            except PermissionError:
                if real not in self._denied_warned:
                    self._denied_warned.add(real)
                    denied.append(path)
                continue
            except OSError as error:
                log.debug("Cannot open %s: %s", path, error)  # gone again, or not an input device
                continue
            if self._is_scanner(device):
                self._attach(device, path, real)
            else:
                self._ignored[real] = identity
                _close(device)
        if denied:
            shown = ", ".join(denied[:3]) + (f" and {len(denied) - 3} more" if len(denied) > 3 else "")
            log.warning("USB scanners unavailable: no permission to read %s; %s", shown, HINT)

    def _is_scanner(self, device: Device) -> bool:
        keys = set(device.capabilities().get(EV_KEY, ()))
        if not {KEY_CODES["KEY_ENTER"], KEY_CODES["KEY_1"]} <= keys:
            return False  # a mouse, or the "consumer control" half of a scanner
        if self.vendor_product:
            info = getattr(device, "info", None)
            if info is None or (info.vendor, info.product) not in self.vendor_product:
                return False
        return bool(self.name_pattern.search(device.name or ""))

    # -- reading ------------------------------------------------------------

    def _attach(self, device: Device, path: str, real: str) -> None:
        name = (device.name or "").strip() or os.path.basename(path)
        try:
            device.grab()
        except OSError as error:
            log.warning("USB scanner %s (%s) is held by another program: %s", name, path, error)
            self._ignored[real] = _node_identity(real)
            _close(device)
            return
        one = _Attached(device, path, name, device_key(device), KeyDecoder(self.key_timeout))
        assert self._loop is not None
        try:
            self._loop.add_reader(device.fd, self._on_readable, one)
        except (OSError, ValueError) as error:
            log.warning("USB scanner %s (%s) cannot be read: %s", name, path, error)
            _close(device)
            return
        one.reading = True
        one.task = asyncio.create_task(self._apply_scans(one), name=f"hid-scans {name}")
        self._scan_tasks.add(one.task)
        one.task.add_done_callback(self._scan_tasks.discard)
        self._attached[real] = one
        log.info("USB scanner connected: %s (%s)", name, path)

    def _detach(self, one: _Attached, reason: str | None) -> None:
        if not one.reading:
            return
        one.reading = False
        assert self._loop is not None
        self._loop.remove_reader(one.device.fd)  # before close: the fd number gets reused
        _close(one.device)
        self._attached.pop(os.path.realpath(one.path), None)
        one.queue.put_nowait(None)  # the scans already read are still applied
        if reason is not None:
            log.warning("USB scanner disconnected: %s (%s)", one.name, reason)

    def _on_readable(self, one: _Attached) -> None:
        try:
            events = list(one.device.read())
        except BlockingIOError:
            return
        except OSError as error:
            gone = "unplugged" if error.errno == errno.ENODEV else f"read failed: {error}"
            self._detach(one, gone)
            return
        for event in events:
            if event.type == EV_KEY:
                text = one.decoder.feed((event.code, event.value, event.timestamp()))
                if text is not None:
                    one.queue.put_nowait(text)
            elif event.type == EV_SYN and event.code == SYN_DROPPED:
                log.warning("USB scanner %s: the kernel dropped key events; scan again", one.name)
                one.decoder.reset()

    async def _apply_scans(self, one: _Attached) -> None:
        device = ScanningDevice(one.key, one.name, self.associate_ui)
        while (text := await one.queue.get()) is not None:
            try:
                await self.services.scans.scan_from_device(device, text)
            except StockyError as error:
                # ScanService has logged the refusal for the log view already.
                log.debug("Scan from %s refused: %s", one.name, error.message)
            except Exception:
                log.exception("Scan from %s failed", one.name)


def _close(device: Device) -> None:
    try:
        device.close()
    except OSError as error:
        log.debug("Closing %s: %s", getattr(device, "path", device), error)
