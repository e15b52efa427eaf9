"""The Locations tab: create, rename, storage type, delete (with the reason
when it is not empty) and "move everything to…"."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QLineEdit,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stocky.schemas.location import LocationEmptied, LocationOut
from stocky_touch.views.base import Context
from stocky_touch.widgets.choice import Choice
from stocky_touch.widgets.common import Throttle, button, hint, label, row, run
from stocky_touch.widgets.list_form import ListAndForm
from stocky_touch.widgets.qr import QrCode
from stocky_touch.widgets.sheet import Sheet, confirm

STORAGE = ((None, "Any"), ("Ambient", "Ambient"), ("Refrigerated", "Fridge"), ("Frozen", "Freezer"))
ROLE = Qt.ItemDataRole.UserRole + 1
EVERY_PLACE_HOLDS = 10_000  # a page of a place's stock that is all of it


class LocationsView(ListAndForm):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__("Locations", "+ New", parent)
        self.ctx = ctx
        self.locations: list[LocationOut] = []
        self.selected: LocationOut | None = None
        form, right = self.form, self.side
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Pantry, Fridge door")
        self.storage = Choice(STORAGE)
        self.details = QLineEdit()
        self.details.setPlaceholderText("Where exactly (optional)")
        form.addRow(label("Name"), self.name)
        form.addRow(label("Keeps"), self.storage)
        form.addRow(label("Details"), self.details)
        self.save_button = button("Save", self.save, name="primary")
        self.delete_button = button("Delete", self.delete, name="danger")
        self.label_button = button("Show its label", self.show_label)
        right.addLayout(row(self.save_button, self.delete_button, stretch_at=2))
        right.addLayout(row(self.label_button, stretch_at=1))
        self.contents = hint("")
        right.addWidget(self.contents)
        # Named apart from the "Keeps" choices above, whose Fridge and Freezer
        # are storage types, not these places.
        targets = QWidget()
        targets.setObjectName("moveto")
        self.move_targets = QGridLayout(targets)
        self.move_targets.setContentsMargins(0, 0, 0, 0)
        self.move_heading = hint("Move everything here to:")
        right.addWidget(self.move_heading)
        right.addWidget(targets)
        right.addStretch(1)

        self.list.currentItemChanged.connect(self._picked)
        self._reload = Throttle(self.reload, 200, self)
        ctx.live.changed.connect(lambda entity, *_: entity in ("location", "sku") and self._reload())
        self.new()

    def reload(self) -> None:
        def show(page) -> None:
            selected = self.selected.id if self.selected else None
            self.locations = page.data
            self.list.blockSignals(True)
            self.list.clear()
            for location in page.data:
                kind = f" · {location.storage_type}" if location.storage_type else ""
                entry = QListWidgetItem(f"{location.name}{kind}   ({location.total_quantity})")
                entry.setData(ROLE, location)
                self.list.addItem(entry)
                if location.id == selected:
                    self.list.setCurrentItem(entry)
            self.list.blockSignals(False)
            if selected and not any(loc.id == selected for loc in page.data):
                self.new()
            elif selected:
                self._show(next(loc for loc in page.data if loc.id == selected))

        run(self.ctx.notifier, self.ctx.services.locations.list(self.ctx.session.actor), show)

    def new(self) -> None:
        self.selected = None
        self.list.clearSelection()
        self.heading.setText("New location")
        self.name.clear()
        self.details.clear()
        self.storage.set_value(None)
        self.delete_button.hide()
        self.label_button.hide()
        self.contents.setText("")
        self._show_targets(None)

    def _picked(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self._show(current.data(ROLE))

    def _show(self, location: LocationOut) -> None:
        self.selected = location
        self.heading.setText(location.name)
        self.name.setText(location.name)
        self.details.setText(location.details or "")
        self.storage.set_value(location.storage_type)
        self.delete_button.show()
        self.label_button.show()
        self.contents.setText(
            "Empty: it can be deleted." if location.total_quantity == 0
            else f"Holds {location.total_quantity} things. Empty it before deleting."
        )
        self._show_targets(location)

    def _show_targets(self, location: LocationOut | None) -> None:
        while self.move_targets.count():
            self.move_targets.takeAt(0).widget().deleteLater()
        visible = location is not None and location.total_quantity > 0
        self.move_heading.setVisible(visible)
        if not visible:
            return
        others = [loc for loc in self.locations if loc.id != location.id]
        for position, target in enumerate(others):
            self.move_targets.addWidget(
                button(target.name, lambda t=target: self.move_all(location, t)), position // 2, position % 2)

    def show_label(self) -> None:
        """The location's QR code over the whole screen, to be scanned off
        it: the scanner then puts what it scans here."""
        if self.selected is None:
            return
        room = self.window().size()
        # Room left for the heading and Done above and below it, and for the
        # sheet's margins beside it (what bounds it in portrait).
        side = min(room.width() - 60, room.height() - 170)
        code = QrCode(str(self.selected.id), size=max(160, side))
        body = QWidget()
        body.setObjectName("page")
        layout = QVBoxLayout(body)
        layout.addWidget(code, 0, Qt.AlignmentFlag.AlignHCenter)
        Sheet(self, f"Scan this to put things in {self.selected.name}", body, (("Done", None, "primary"),))

    def save(self) -> None:
        data = {
            "name": self.name.text().strip(),
            "storage_type": self.storage.value(),
            "details": self.details.text().strip() or None,
        }
        actor = self.ctx.session.actor
        if self.selected is None:
            run(self.ctx.notifier, self.ctx.services.locations.create(data, actor),
                done=self._created, success=f"Created {data['name']}")
        else:
            run(self.ctx.notifier, self.ctx.services.locations.update(self.selected.id, data, actor),
                success="Saved")

    def _created(self, location: LocationOut) -> None:
        self.selected = location
        self.reload()

    def delete(self) -> None:
        if self.selected is None:
            return
        location_id, name = self.selected.id, self.selected.name
        confirm(self, f"Delete {name}?", "Delete",
                lambda: run(self.ctx.notifier, self.ctx.services.locations.delete(location_id, self.ctx.session.actor),
                            done=lambda _r: self.new(), success=f"Deleted {name}"))

    def move_all(self, origin: LocationOut, target: LocationOut) -> None:
        """Ask first, naming what goes where as the place holds it now."""

        def ask(page) -> None:
            stocked = [sku for sku in page.data if sku.quantity > 0]
            if not stocked:
                self.ctx.notifier.ok(nothing_to_move(origin.name))
                return
            what = things(sum(sku.quantity for sku in stocked), len(stocked))
            confirm(self, f"Move {what} from {origin.name} to {target.name}?", f"Move to {target.name}",
                    lambda: self._move_all(origin, target),
                    "They move at once, with their dates. Undo on the message that follows puts them all back.",
                    danger=False)

        run(self.ctx.notifier, self.ctx.services.skus.list(
            self.ctx.session.actor, location_id=origin.id, limit=EVERY_PLACE_HOLDS), ask)

    def _move_all(self, origin: LocationOut, target: LocationOut) -> None:
        def done(moved: LocationEmptied) -> None:
            if moved.change_id is None:  # emptied by someone else since the question
                self.ctx.notifier.ok(nothing_to_move(moved.from_location_name))
                return
            self.ctx.notifier.done(f"Moved {things(moved.moved, moved.items)} from {moved.from_location_name} "
                                   f"to {moved.into_location_name}", moved.change_id)

        run(self.ctx.notifier, self.ctx.services.skus.empty_location(origin.id, target.id, self.ctx.session.actor),
            done)


def things(units: int, items: int) -> str:
    """"7 things (3 items)": the units a move takes, and how many items they are."""
    said = f"{units} thing{'s' if units != 1 else ''}"
    return said if units == 1 else f"{said} ({items} item{'s' if items != 1 else ''})"


def nothing_to_move(place: str) -> str:
    return f"Nothing in {place} to move."
