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
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stocky.core.barcodes import normalize_barcode
from stocky.core.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    StockyError,
)
from stocky.core.events import EventBus
from stocky.core.security import looks_like_api_key
from stocky.crud import item as item_crud
from stocky.crud.common import get_or_404
from stocky.db.engine import Database
from stocky.models import Item, Location, Sku, StockChange, User
from stocky.models.types import utcnow
from stocky.schemas.actor import Actor
from stocky.schemas.commands import ScanCommand
from stocky.schemas.common import parse
from stocky.schemas.item import ItemCreate, ItemOut
from stocky.schemas.scan import MAX_SCAN_LENGTH, LocationRef, ScannerStateUpdate, ScanResult
from stocky.schemas.user import ScannerState, UserOut
from stocky.services.base import Service, UnitOfWork
from stocky.services.items import create_item
from stocky.services.lookups import LookupQueue
from stocky.services.stock import change_stock, ensure_sku, item_label, storage_mismatch
from stocky.services.ui_registry import UiRegistry
from stocky.services.undo import last_scan_to_undo, undo_change
from stocky.services.users import UserService, scanner_state

log = logging.getLogger("stocky.scan")

# People who may change stock can scan too (a phone app, home automation).
SCANNING_ROLES = frozenset({"Scanner", "Member", "Admin"})


def described(raw: str) -> str:
    """The scan as it may appear in the log: a scanned API key is hidden."""
    return "an API key" if looks_like_api_key(raw) else repr(raw[:80])


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
    if not text.isprintable():
        raise InvalidInput(
            "The scan contains control characters.",
            [{"field": "msg", "message": "control characters"}],
        )
    return text


class NeedsLocation(Conflict):
    """An add scan with nowhere to go: the scanner's screen offers the
    locations, and a tap there sets one and applies the scan again."""


def _as_uuid(text: str) -> uuid.UUID | None:
    if len(text) not in (32, 36):
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


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

    async def scan(self, scanner: UserOut, raw: str, scan_id: str | None = None) -> ScanResult:
        """Apply one scan for ``scanner``; the result also goes to its screen."""
        ui_id = scanner.details.get("associated_ui_id")
        try:
            text = clean_scan(raw)
            result = await self.write(lambda work: self._apply(work, scanner, text, scan_id))
        except StockyError as error:
            log.warning("Scan %s refused: %s", described(raw), error.message, extra={"source": scanner.username})
            if ui_id:
                message = {"action": "scan_result", "ok": False, "message": error.message,
                           "scanner_id": str(scanner.id)}
                if isinstance(error, NeedsLocation):
                    message.update(needs="location", scan=text)
                self.screens.send(ui_id, message)
            raise
        log.info("%s", result.message, extra={"source": scanner.username})
        ui_id = result.scanner.associated_ui_id
        if ui_id:
            self.screens.send(
                ui_id, {"action": "scan_result", "ok": True, **result.model_dump(mode="json")}
            )
        if result.created and result.item is not None:
            self.lookups.enqueue(result.item.id)
        return result

    async def scan_with_key(self, api_key: str, raw: str, scan_id: str | None = None) -> ScanResult:
        """A scan from an input that names its scanner by API key (MQTT, the bridge)."""
        scanner = await self.users.by_api_key(api_key)
        if scanner is None:
            raise NotAuthenticated("The API key is not valid.")
        if scanner.role not in SCANNING_ROLES:
            raise PermissionDenied(f"{scanner.role} accounts cannot scan.")
        return await self.scan(scanner, raw, scan_id)

    def _apply(self, work: UnitOfWork, scanner: UserOut, text: str, scan_id: str | None) -> ScanResult:
        # One scanner's scans queue on its row (on PostgreSQL; SQLite
        # writers already run one at a time): a repeated delivery then
        # sees the journal row of the first, and no scan overwrites the
        # state another just wrote.
        user = get_or_404(work.session, User, scanner.id, "scanner", lock=True)
        if text.startswith("{"):
            return self._command(work, user, text)
        if (id_ := _as_uuid(text)) is not None:
            return self._label(work, user, id_, scan_id)
        return self._barcode(work, user, normalize_barcode(text, field="msg"), scan_id)

    # -- commands -----------------------------------------------------------

    def _command(self, work: UnitOfWork, user: User, text: str) -> ScanResult:
        try:
            data = json.loads(text)
        except ValueError:
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
        if command.command == "undo":
            return self._undo(work, user)
        ui_id = (user.details or {}).get("associated_ui_id")
        if not ui_id:
            raise Conflict("This scanner is not linked to a screen: scan the screen's link code first.")
        _set_state(work, user)
        view = command.payload
        work.after_commit(lambda: self.screens.send(ui_id, {"action": "show_view", "view": view}))
        return _result(user, "view", f"Showing {view}.")

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
        self, work: UnitOfWork, user: User, id_: uuid.UUID, scan_id: str | None
    ) -> ScanResult:
        if (item := work.session.get(Item, id_)) is not None:
            return self._stock(work, user, item, scan_id, created=False)
        if (location := work.session.get(Location, id_)) is not None:
            return self._set_location(work, user, location)
        raise NotFound(f"Nothing in Stocky has the id {id_}.")

    def _barcode(
        self, work: UnitOfWork, user: User, code: str, scan_id: str | None
    ) -> ScanResult:
        item = item_crud.by_upc(work.session, code)
        created = False
        if item is None:
            if _mode(user) == "remove":
                raise NotFound(f"Remove mode: no product has the barcode {code}; nothing to remove.")
            item = create_item(work, ItemCreate(upc=code))
            created = True
        return self._stock(work, user, item, scan_id, created=created)

    def _stock(
        self, work: UnitOfWork, user: User, item: Item, scan_id: str | None, *, created: bool
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
            location = self._where_to_add(work, user, item)
            sku, _ = ensure_sku(work, item, location)
            change = change_stock(work, sku, item, location, +1, actor, scan_id)
            warning = storage_mismatch(item, location)
            outcome, message = "added", f"Added {item_label(item)} to {location.name} (now {change.quantity_after})"
        else:
            sku, location = self._where_to_remove(work, user, item)
            change = change_stock(work, sku, item, location, -1, actor, scan_id)
            outcome, message = "removed", f"Removed {item_label(item)} from {location.name} (now {change.quantity_after})"
        _set_state(work, user)
        return _result(
            user, outcome, message, item=item, location=location, quantity=change.quantity_after, created=created,
            change_id=change.id, warning=warning,
        )

    def _where_to_add(self, work: UnitOfWork, user: User, item: Item) -> Location:
        if (current := _current_location(work, user)) is not None:
            return current
        places = _places(work, item, stocked_only=False)
        if len(places) == 1:
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

    async def states(self) -> list[ScannerState]:
        def query(session: Session) -> list[ScannerState]:
            users = session.scalars(select(User).where(User.role == "Scanner").order_by(User.username))
            states = [scanner_state(u) for u in users]
            # The places' names in the same read: the screen's bottom bar shows them.
            places = {state.current_location_id for state in states if state.current_location_id}
            names = dict(session.execute(select(Location.id, Location.name).where(Location.id.in_(places))).all()) \
                if places else {}
            return [state.model_copy(update={"current_location_name": names.get(state.current_location_id)})
                    for state in states]

        return await self.read(query)

    async def associate(self, scanner_id: uuid.UUID, ui_id: str) -> ScannerState:
        """Bind a scanner to a screen without a scan (a USB scanner plugged
        into the kiosk belongs to the kiosk's own screen)."""

        def change(work: UnitOfWork) -> ScannerState:
            user = _scanning_user(work, scanner_id)
            if (user.details or {}).get("associated_ui_id") != ui_id:
                _set_state(work, user, touch=False, associated_ui_id=ui_id)
            return scanner_state(user)

        return await self.write(change)

    async def set_state(self, scanner_id: uuid.UUID, data: ScannerStateUpdate | dict) -> ScannerState:
        """Change a scanner's mode or location by hand (the Scanners tab, an Admin)."""
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

        return await self.write(change)


def _scanning_user(work: UnitOfWork, user_id: uuid.UUID) -> User:
    user = work.session.get(User, user_id, with_for_update=True)  # as in _apply
    if user is None or user.role not in SCANNING_ROLES:
        raise NotFound(f"No scanner with id {user_id}.")
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
    change_id: uuid.UUID | None = None,
    warning: str | None = None,
) -> ScanResult:
    return ScanResult(
        result=outcome,
        message=message,
        item=ItemOut.model_validate(item) if item is not None else None,
        location=LocationRef.model_validate(location) if location is not None else None,
        quantity=quantity,
        created=created,
        change_id=change_id,
        warning=warning,
        scanner=scanner_state(user),
    )
