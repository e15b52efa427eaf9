"""What a scan means (DESIGN.md section 4): a command card, an item or
location label, or a product barcode, applied in the scanner's mode.

HTTP, MQTT and USB scanners all end here. One scan is one transaction: the
stock change, its journal row and the scanner's new state commit together,
or nothing does.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stocky.core import gs1
from stocky.core.barcodes import normalize_barcode
from stocky.core.dates import spoken
from stocky.core.digits import parse_uuid
from stocky.core.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    StockyError,
    StorageFault,
)
from stocky.core.events import EventBus
from stocky.core.security import looks_like_api_key, mask_api_keys
from stocky.crud import item as item_crud
from stocky.crud import sku as sku_crud
from stocky.crud import user as user_crud
from stocky.crud.common import get_or_404
from stocky.db.engine import Database
from stocky.models import Item, Location, Sku, StockChange, User
from stocky.models.types import utcnow
from stocky.schemas.actor import Actor
from stocky.schemas.commands import ScanCommand
from stocky.schemas.common import parse
from stocky.schemas.item import ItemCreate
from stocky.schemas.scan import MAX_SCAN_LENGTH, LocationRef, ScannerStateUpdate, ScanResult
from stocky.schemas.user import ScannerState
from stocky.services import lots
from stocky.services.base import Service, UnitOfWork
from stocky.services.items import create_item
from stocky.services.lookups import LookupQueue
from stocky.services.permissions import Action, allows, check, require_account
from stocky.services.stock import change_stock, ensure_sku, item_label, item_out, storage_mismatch
from stocky.services.ui_registry import UiRegistry
from stocky.services.undo import last_scan_to_undo, undo_change
from stocky.services.users import UserService, actor_of, scanner_state

log = logging.getLogger("stocky.scan")

# How long after adding a unit a date card may still date it.
DATE_CARD_WINDOW = lots.DATING_WINDOW


def described(raw: str) -> str:
    """The scan as it may appear in the log: a scanned API key, or any piece
    of one, is hidden (before shortening, so no piece is cut short of it)."""
    return repr(mask_api_keys(raw)[:80])


def clean_scan(raw: str) -> str:
    """The scanned text, trimmed; refuses empty, overlong and control
    characters, and API keys (their QR code is not a product)."""
    text = raw.strip()
    if looks_like_api_key(text):
        raise InvalidInput(
            "That is an API key, not a barcode: keep its QR code away from the groceries.",
            [{"field": "msg", "message": "an API key"}],
        )
    if not text:
        raise InvalidInput("The scan is empty.", [{"field": "msg", "message": "empty"}])
    if len(text) > MAX_SCAN_LENGTH:
        raise InvalidInput(
            f"The scan is longer than {MAX_SCAN_LENGTH} characters.",
            [{"field": "msg", "message": f"at most {MAX_SCAN_LENGTH} characters"}],
        )
    # GS (0x1D) ends a variable-length field of a GS1 code; nowhere else.
    if not text.isprintable() and not (text.replace(gs1.GS, "").isprintable() and gs1.looks_like(text)):
        raise InvalidInput(
            "The scan contains control characters.",
            [{"field": "msg", "message": "control characters"}],
        )
    return text


def clean_scan_id(scan_id: str | None) -> str | None:
    """The journal keeps a scan's id, and shows it: an API key is refused there as in the scan."""
    if scan_id is not None and looks_like_api_key(scan_id):
        raise InvalidInput(
            "The scan_id holds an API key: number scans with something else.",
            [{"field": "scan_id", "message": "an API key"}],
        )
    return scan_id


class NeedsLocation(Conflict):
    """An add scan with nowhere to go: the scanner's screen offers the
    locations, and a tap there sets one and applies the scan again."""

    code = "needs_location"


def _as_uuid(text: str) -> uuid.UUID | None:
    if len(text) not in (32, 36):
        return None
    try:
        return parse_uuid(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Device:
    """A scanner that types (USB through evdev, or the Qt key wedge), known
    by what it is rather than by a key. It scans as a Scanner user of its
    own, made on its first scan and named after it."""

    key: str  # "usb:<vendor>:<product>:<serial or name>", "keywedge"
    name: str
    ui_id: str | None = None  # the screen it is plugged into, if any


@dataclass
class _Seen:
    """Who scanned and where their screen is, learnt inside the transaction
    so that a refusal can still be logged under their name and shown there."""

    username: str | None = None
    ui_id: str | None = None
    user_id: uuid.UUID | None = None


class ScanService(Service):
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        lookups: LookupQueue,
        screens: UiRegistry,
        users: UserService,
    ) -> None:
        super().__init__(db, bus)
        self.lookups = lookups
        self.screens = screens
        self.users = users
        self._devices: dict[str, uuid.UUID] = {}  # device key -> its Scanner user

    async def scan(self, actor: Actor, raw: str, scan_id: str | None = None) -> ScanResult:
        """One scan by a signed-in person or an identified scanner (HTTP)."""
        if actor.user_id is None:
            raise PermissionDenied("A scan needs a scanner or a person to scan as.")
        user_id = actor.user_id
        return await self._scan(lambda work: _locked_user(work, user_id), raw, scan_id)

    async def scan_into(
        self, scanner_id: uuid.UUID, location_id: uuid.UUID, raw: str, actor: Actor,
        remember: bool = False,
    ) -> ScanResult:
        """"Where does it go?" answered on the scanner's screen: the scan is
        applied there, by someone who may set a scanner's state. The answer
        is for this scan: the scanner's own location stays as it was, unless
        ``remember`` ("always put this scanner's scans here")."""

        def identify(work: UnitOfWork) -> User:
            check(work.session, actor, Action.SCANNER_SET_STATE)
            user = _scanning_user(work, scanner_id)
            place = get_or_404(work.session, Location, location_id, "location")
            if remember:
                _set_state(work, user, touch=False, current_location_id=str(place.id))
            return user

        return await self._scan(identify, raw, None, place=location_id)

    async def scan_with_key(self, api_key: str, raw: str, scan_id: str | None = None) -> ScanResult:
        """A scan from an input that names its scanner by API key (MQTT, the bridge)."""
        scanner = await self.users.by_api_key(api_key)
        if scanner is None:
            raise NotAuthenticated("The API key is not valid.")
        return await self.scan(actor_of(scanner, "scan"), raw, scan_id)

    async def scan_from_device(self, device: Device, raw: str) -> ScanResult:
        """A scan typed by a USB scanner or the key wedge. A device seen for
        the first time gets its Scanner user in a transaction of its own, so
        the user stays even when that first scan is refused (an unknown
        product with nowhere to go: the screen asks, and scans again as it)."""
        if device.key not in self._devices:
            await self.write(None, None, lambda work: self._device_user(work, device))
        return await self._scan(lambda work: self._device_user(work, device), raw, None)

    async def _scan(
        self, identify: Callable[[UnitOfWork], User], raw: str, scan_id: str | None,
        place: uuid.UUID | None = None,
    ) -> ScanResult:
        """Apply one scan; the result also goes to the scanner's screen. What
        follows the scan (its log line, the screen's message, the product
        lookup) follows its commit, so a caller that stops waiting loses none
        of it."""
        seen = _Seen()

        def change(work: UnitOfWork) -> ScanResult:
            user = identify(work)
            seen.username, seen.ui_id = user.username, (user.details or {}).get("associated_ui_id")
            seen.user_id = user.id
            require_account(user, Action.SCAN)  # active, and allowed as stored now
            result = self._apply(work, user, clean_scan(raw), clean_scan_id(scan_id), place)
            work.log(log, logging.INFO, "%s", result.message, source=user.username)
            if ui_id := result.scanner.associated_ui_id:
                message = {"action": "scan_result", "ok": True, **result.model_dump(mode="json")}
                work.after_commit(lambda: self.screens.send(ui_id, message))
            return result

        def refused(error: BaseException) -> None:
            if not isinstance(error, StockyError):
                return
            extra = {"source": seen.username} if seen.username else None
            # A storage fault is logged once for its whole burst (storage_report).
            level = logging.DEBUG if isinstance(error, StorageFault) else logging.WARNING
            log.log(level, "Scan %s refused: %s", described(raw), error.message, extra=extra)
            if seen.ui_id:
                # The code lets a screen say it in its own words; the sentence is the fallback.
                message = {"action": "scan_result", "ok": False, "code": error.code,
                           "message": mask_api_keys(error.message), "scanner_id": str(seen.user_id)}
                if isinstance(error, NeedsLocation):  # the screen offers the places, then scans again
                    message.update(needs="location", scan=clean_scan(raw))
                self.screens.send(seen.ui_id, message)

        return await self.write(None, None, change, on_failure=refused)

    def _device_user(self, work: UnitOfWork, device: Device) -> User:
        user = None
        if (known := self._devices.get(device.key)) is not None:
            user = work.session.get(User, known, with_for_update=True)
            if user is not None and (user.details or {}).get("hid_device") != device.key:
                user = None
        if user is None:
            user = user_crud.by_device(work.session, device.key) or _new_device_user(work, device)
        self._devices[device.key] = user.id
        if device.ui_id and (user.details or {}).get("associated_ui_id") != device.ui_id:
            # A scanner plugged into the kiosk talks to the kiosk's own screen.
            _set_state(work, user, touch=False, associated_ui_id=device.ui_id)
        return user

    def _apply(
        self, work: UnitOfWork, user: User, text: str, scan_id: str | None, place: uuid.UUID | None = None
    ) -> ScanResult:
        """``place``: where this one scan goes, as a person answered."""
        if text.startswith("{"):
            return self._command(work, user, text)
        if (id_ := _as_uuid(text)) is not None:
            return self._label(work, user, id_, scan_id, place)
        if (element := gs1.parse(text)) is not None:
            code = normalize_barcode(element.product_code, field="msg")
            return self._barcode(work, user, code, scan_id, best_before=element.date, place=place)
        return self._barcode(work, user, normalize_barcode(text, field="msg"), scan_id, place=place)

    # -- commands -----------------------------------------------------------

    def _command(self, work: UnitOfWork, user: User, text: str) -> ScanResult:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise InvalidInput("The scan looks like a command but is not valid JSON.") from None
        if not isinstance(data, dict) or "command" not in data:
            raise InvalidInput("The scanned code is not a Stocky command.")
        command = parse(ScanCommand, data)
        if command.command == "associate_ui":
            _set_state(work, user, associated_ui_id=command.payload)
            return _result(user, "associated", f"{user.username} now talks to this screen.")
        if command.command == "set_mode":
            _set_state(work, user, current_mode=command.payload)
            return _result(user, "mode", f"{user.username} is now in {command.payload} mode.")
        if command.command == "set_location":
            location = get_or_404(work.session, Location, uuid.UUID(command.payload), "location")
            return self._set_location(work, user, location)
        if command.command == "best_before":
            return self._date_last_added(work, user, command.best_before_from(date.today()))
        if command.command == "undo":
            return self._undo(work, user)
        ui_id = (user.details or {}).get("associated_ui_id")
        if not ui_id:
            raise Conflict("This scanner is not linked to a screen: scan the screen's link code first.")
        _set_state(work, user)
        view = command.payload
        work.after_commit(lambda: self.screens.send(ui_id, {"action": "show_view", "view": view}))
        return _result(user, "view", f"Showing {view}.")

    def _date_last_added(self, work: UnitOfWork, user: User, best_before: date) -> ScanResult:
        """A date card: the unit this scanner added last (in the last ten
        minutes; the journal says which) gets the date. The count stays; the
        journal row then names the new date, so undoing the add takes the
        unit from the right lot."""
        added = work.session.scalar(
            select(StockChange)
            .where(
                StockChange.user_id == user.id,
                StockChange.delta > 0,
                StockChange.timestamp >= utcnow() - DATE_CARD_WINDOW,
            )
            .order_by(StockChange.seq.desc())
            .limit(1)
        )
        if added is None or added.location_id is None:
            raise Conflict("Nothing added by this scanner in the last 10 minutes to date: scan the product first.")
        item = work.session.get(Item, added.item_id)
        item_crud.lock(work.session, item.id)
        sku = sku_crud.find(work.session, added.item_id, added.location_id)
        location = work.session.get(Location, added.location_id)
        if sku is None:
            raise Conflict("That unit is no longer there to date.")
        last = (added.lots or [[None, added.delta]])[-1][0]
        was = date.fromisoformat(last) if last else None  # the last unit of the change
        lots.redate_one(work.session, sku.id, sku.quantity, was, best_before)
        added.lots = lots.redated_journal(added.lots, added.delta, was, best_before)
        _set_state(work, user)
        work.emit("sku", sku.id, "updated", item_id=str(item.id), quantity=sku.quantity)
        return _result(
            user, "dated", f"{item_label(item)} in {location.name}: best before {spoken(best_before)}",
            item=item, location=location, quantity=sku.quantity, best_before=best_before,
        )

    def _undo(self, work: UnitOfWork, user: User) -> ScanResult:
        change = last_scan_to_undo(work, user.id)
        actor = Actor(user_id=user.id, username=user.username, role=user.role, source="scan")
        inverse, message = undo_change(work, change, actor)
        _set_state(work, user)
        item, location = work.session.get(Item, inverse.item_id), work.session.get(Location, inverse.location_id)
        return _result(user, "undone", message, item=item, location=location, quantity=inverse.quantity_after,
                       change_id=inverse.id)

    def _set_location(self, work: UnitOfWork, user: User, location: Location) -> ScanResult:
        _set_state(work, user, current_location_id=str(location.id))
        return _result(user, "location", f"{user.username} now scans into {location.name}.", location=location)

    # -- labels and barcodes ------------------------------------------------

    def _label(
        self, work: UnitOfWork, user: User, id_: uuid.UUID, scan_id: str | None, place: uuid.UUID | None
    ) -> ScanResult:
        if (item := work.session.get(Item, id_)) is not None:
            return self._stock(work, user, item, scan_id, created=False, place=place)
        if (location := work.session.get(Location, id_)) is not None:
            return self._set_location(work, user, location)
        raise NotFound(f"Nothing in Stocky has the id {id_}.")

    def _barcode(
        self, work: UnitOfWork, user: User, code: str, scan_id: str | None,
        best_before: date | None = None, place: uuid.UUID | None = None,
    ) -> ScanResult:
        item = item_crud.by_upc(work.session, code)
        created = False
        if item is None:
            if _mode(user) == "remove":
                raise NotFound(f"Remove mode: no product has the barcode {code}; nothing to remove.")
            item = create_item(work, ItemCreate(upc=code), self.lookups)
            created = True
        return self._stock(work, user, item, scan_id, created=created, best_before=best_before, place=place)

    def _stock(
        self,
        work: UnitOfWork,
        user: User,
        item: Item,
        scan_id: str | None,
        *,
        created: bool,
        best_before: date | None = None,
        place: uuid.UUID | None = None,
    ) -> ScanResult:
        if scan_id and (repeat := _already_applied(work, user, scan_id)):
            _set_state(work, user)
            return _result(
                user, "duplicate", f"Already counted: {item_label(item)}.",
                item=item, quantity=repeat.quantity_after,
            )
        actor = Actor(user_id=user.id, username=user.username, role=user.role, source="scan")
        warning = None
        if _mode(user) == "add":
            location = self._where_to_add(work, user, item, place)
            sku, _ = ensure_sku(work, item, location)
            change = change_stock(work, sku, item, location, +1, actor, scan_id, best_before=best_before)
            warning = storage_mismatch(item, location)
            dated = f", best before {spoken(best_before)}" if best_before else ""
            outcome = "added"
            message = f"Added {item_label(item)} to {location.name}{dated} (now {change.quantity_after})"
        else:
            sku, location = self._where_to_remove(work, user, item)
            change = change_stock(work, sku, item, location, -1, actor, scan_id, best_before=best_before)
            warning, best_before = None, None
            outcome = "removed"
            message = f"Removed {item_label(item)} from {location.name} (now {change.quantity_after})"
        _set_state(work, user)
        return _result(
            user, outcome, message, item=item, location=location, quantity=change.quantity_after,
            created=created, best_before=best_before, change_id=change.id, warning=warning,
        )

    def _where_to_add(self, work: UnitOfWork, user: User, item: Item, place: uuid.UUID | None) -> Location:
        """The place a person chose for this scan, else the scanner's own,
        else where the item already is: its one stocked place, or its one
        place at all; several (or none): the screen asks."""
        if place is not None:
            return get_or_404(work.session, Location, place, "location")
        if (current := _current_location(work, user)) is not None:
            return current
        places = _places(work, item, stocked_only=False)
        stocked = [location for sku, location in places if sku.quantity > 0]
        if len(stocked) == 1:
            return stocked[0]
        if not stocked and len(places) == 1:
            return places[0][1]
        raise NeedsLocation(f"Where does {item_label(item)} go? Scan a location label first.")

    def _where_to_remove(self, work: UnitOfWork, user: User, item: Item) -> tuple[Sku, Location]:
        stocked = _places(work, item, stocked_only=True)
        current = _current_location(work, user)
        for sku, location in stocked:
            if current is not None and location.id == current.id:
                return sku, location
        if len(stocked) == 1:
            return stocked[0]
        if not stocked:
            raise Conflict(f"Remove mode: nothing to remove, {item_label(item)} is not in stock.")
        names = ", ".join(f"{location.name} ({sku.quantity})" for sku, location in stocked)
        raise Conflict(
            f"Remove mode: {item_label(item)} is in several places: {names}. Scan the location label first."
        )

    # -- scanner state ------------------------------------------------------

    async def states(self, actor: Actor) -> list[ScannerState]:
        def query(session: Session) -> list[ScannerState]:
            users = session.scalars(select(User).order_by(User.username))
            states = [scanner_state(u) for u in users if _is_scanning(u)]
            # The places' names in the same read: the screen's bottom bar shows them.
            places = {state.current_location_id for state in states if state.current_location_id}
            names = dict(session.execute(select(Location.id, Location.name).where(Location.id.in_(places))).all()) \
                if places else {}
            return [state.model_copy(update={"current_location_name": names.get(state.current_location_id)})
                    for state in states]

        return await self.read(actor, Action.INVENTORY_READ, query)

    async def set_state(
        self, scanner_id: uuid.UUID, data: ScannerStateUpdate | dict, actor: Actor
    ) -> ScannerState:
        """Change a scanner's mode or location by hand (the Scanners tab)."""
        data = parse(ScannerStateUpdate, data)

        def change(work: UnitOfWork) -> ScannerState:
            user = _scanning_user(work, scanner_id)
            changes: dict[str, Any] = {}
            if "current_mode" in data.model_fields_set and data.current_mode:
                changes["current_mode"] = data.current_mode
            if "current_location_id" in data.model_fields_set:
                if data.current_location_id is not None:
                    get_or_404(work.session, Location, data.current_location_id, "location")
                changes["current_location_id"] = (
                    str(data.current_location_id) if data.current_location_id else None
                )
            _set_state(work, user, touch=False, **changes)
            return scanner_state(user)

        return await self.write(actor, Action.SCANNER_SET_STATE, change)


def _locked_user(work: UnitOfWork, user_id: uuid.UUID) -> User:
    # One scanner's scans queue on its row (on PostgreSQL; SQLite writers
    # already run one at a time): a repeated delivery then sees the journal
    # row of the first, and no scan overwrites the state another just wrote.
    user = work.session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotAuthenticated("This account no longer exists.")
    return user


def _is_scanning(user: User) -> bool:
    """A Scanner account, or a person who scans too (a phone's camera, a
    scanner keyed to their account): their mode and place count as well."""
    details = user.details or {}
    return user.role == "Scanner" or "last_scan_timestamp" in details or "associated_ui_id" in details


def _scanning_user(work: UnitOfWork, user_id: uuid.UUID) -> User:
    user = work.session.get(User, user_id, with_for_update=True)  # as in a scan
    if user is None or not allows(user.role, Action.SCAN):
        raise NotFound(f"No scanner with id {user_id}.")
    return user


def _new_device_user(work: UnitOfWork, device: Device) -> User:
    """The Scanner user of a device seen for the first time, named after it."""
    base = " ".join(device.name.split())[:60] or "USB scanner"
    username, number = base, 1
    while user_crud.by_username(work.session, username):
        number += 1
        username = f"{base} {number}"
    user = User(
        username=username,
        role="Scanner",
        details={"current_mode": "add", "hid_device": device.key},
        is_active=True,
        token_version=0,
    )
    work.session.add(user)
    work.session.flush()
    work.emit("user", user.id, "created")
    work.log(log, logging.INFO, "Created Scanner user %s for the scanner %s", username, device.name,
             source=username)
    return user


def _mode(user: User) -> str:
    return (user.details or {}).get("current_mode", "add")


def _set_state(work: UnitOfWork, user: User, *, touch: bool = True, **changes: Any) -> None:
    details = dict(user.details or {})
    details.update(changes)
    details.setdefault("current_mode", "add")
    if touch:
        details["last_scan_timestamp"] = utcnow().isoformat()
    user.details = details  # a new dict, so the JSON column is written
    work.emit("scanner", user.id, "updated", details=details)


def _current_location(work: UnitOfWork, user: User) -> Location | None:
    raw = (user.details or {}).get("current_location_id")
    return work.session.get(Location, uuid.UUID(raw)) if raw else None


def _places(work: UnitOfWork, item: Item, *, stocked_only: bool) -> list[tuple[Sku, Location]]:
    query = select(Sku, Location).join(Location, Location.id == Sku.location_id).where(Sku.item_id == item.id)
    if stocked_only:
        query = query.where(Sku.quantity > 0)
    rows = work.session.execute(query.order_by(Location.name))
    return [(sku, location) for sku, location in rows.all()]


def _already_applied(work: UnitOfWork, user: User, scan_id: str) -> StockChange | None:
    return work.session.scalar(
        select(StockChange).where(StockChange.user_id == user.id, StockChange.scan_id == scan_id)
    )


def _result(
    user: User,
    outcome: str,
    message: str,
    *,
    item: Item | None = None,
    location: Location | None = None,
    quantity: int | None = None,
    created: bool = False,
    best_before: date | None = None,
    change_id: uuid.UUID | None = None,
    warning: str | None = None,
) -> ScanResult:
    return ScanResult(
        result=outcome,
        message=mask_api_keys(message),  # names come from people and product services
        item=item_out(item) if item is not None else None,
        location=LocationRef.model_validate(location) if location is not None else None,
        quantity=quantity,
        best_before=best_before,
        created=created,
        change_id=change_id,
        warning=mask_api_keys(warning) if warning else None,
        scanner=scanner_state(user),
    )
