"""One item: edit it, its stock per location, its history, its QR label,
"look up again", and (Admins, at zero stock) delete."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from stocky.schemas.item import ItemDetail
from stocky_touch.views.base import Context
from stocky_touch.views.use_soon import day_text, days_left
from stocky_touch.widgets.choice import Choice
from stocky_touch.widgets.common import Throttle, button, hint, kinetic, label, row, run, title
from stocky_touch.widgets.keyboard import ask_number
from stocky_touch.widgets.narrow import is_narrow, labels_above, on_narrow, stack
from stocky_touch.widgets.qr import QrCode
from stocky_touch.widgets.sheet import confirm

STORAGE = ((None, "Any"), ("Ambient", "Ambient"), ("Refrigerated", "Fridge"), ("Frozen", "Freezer"))
SOURCES = {"scan": "scanner", "ui": "screen", "api": "API"}


class ItemPage(QWidget):
    back = Signal()
    typeInto = Signal(object)  # a text field that wants the on-screen keyboard

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.item: ItemDetail | None = None
        self._edit_name = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        kinetic(scroll)
        outer.addWidget(scroll)
        body = QWidget()
        body.setObjectName("page")
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(16, 12, 16, 12)

        self.heading = title("")
        self.save_button = button("Save", self.save, name="primary")
        self._header = row(button("‹ Back", self.back.emit), self.heading, self.save_button, stretch_at=2)
        self._body = layout
        layout.addLayout(self._header)
        self.status = hint("")
        layout.addWidget(self.status)

        form = QFormLayout()
        form.setVerticalSpacing(12)
        self.name = QLineEdit()
        self.name.setPlaceholderText("What is it? e.g. Whole milk 1 l")
        self.upc = QLineEdit()
        self.upc.setPlaceholderText("Barcode")
        self.description = QPlainTextEdit()
        self.description.setFixedHeight(96)
        self.storage = Choice(STORAGE)
        form.addRow(label("Name"), self.name)
        form.addRow(label("Barcode"), self.upc)
        form.addRow(label("Description"), self.description)
        form.addRow(label("Keep"), self.storage)
        # Below this the item is on the shopping list; the number pad sets it.
        self.minimum = button("", self._ask_minimum, name="qty")
        form.addRow(label("Keep at least"), row(self.minimum, hint("0: when none are left"), stretch_at=2))
        layout.addLayout(form)

        layout.addWidget(title("Where it is"))
        self.skus = QGridLayout()
        self.skus.setHorizontalSpacing(12)
        layout.addLayout(self.skus)
        self.add_place = button("Put some in another place…", self._choose_place)
        self.places = QWidget()
        self.places_layout = QGridLayout(self.places)
        self.places.hide()
        layout.addWidget(self.add_place, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.places)

        lower = QHBoxLayout()
        history_box = QVBoxLayout()
        history_box.addWidget(title("History"))
        self.history = QListWidget()
        self.history.setMinimumHeight(240)
        kinetic(self.history)
        history_box.addWidget(self.history)
        label_box = QVBoxLayout()
        label_box.addWidget(title("Label"))
        self.qr = QrCode(size=220)
        label_box.addWidget(self.qr)
        label_box.addWidget(hint("Scan this to count the item when it has no barcode."))
        lower.addLayout(history_box, 1)
        lower.addLayout(label_box)
        layout.addLayout(lower)

        self.lookup_button = button("Look up again", self.look_up)
        self.delete_button = button("Delete item", self.delete, name="danger")
        actions = row(self.lookup_button, self.delete_button, stretch_at=1)
        layout.addLayout(actions)
        layout.addStretch(1)
        # Narrow: labels above the fields, the label under the history, the
        # buttons one under the other, the name under Back and Save.
        on_narrow(self, labels_above(form), stack(lower, actions), self._narrow)
        self._reload = Throttle(self.reload, 200, self)
        ctx.live.changed.connect(self._changed)

    def _narrow(self, narrow: bool) -> None:
        self.heading.setWordWrap(narrow)  # a long name on two lines
        self.history.setWordWrap(narrow)  # and a change, never scrolled sideways
        self.history.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if narrow else Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        if narrow:
            self._body.insertWidget(1, self.heading)
        else:
            self._header.insertWidget(1, self.heading)
        if self.item is not None:
            self._show_skus(self.item)

    # -- loading --------------------------------------------------------------

    def load(self, item_id: uuid.UUID, edit_name: bool = False) -> None:
        # From the top: not where the item before was left scrolled.
        self.scroll.verticalScrollBar().setValue(0)
        self.item = None
        self._edit_name = edit_name
        self._load(item_id)

    def reload(self) -> None:
        if self.item is not None:
            self._load(self.item.id)

    def _load(self, item_id: uuid.UUID) -> None:
        async def fetch():
            actor = self.ctx.session.actor
            return (await self.ctx.services.items.get(item_id, actor),
                    await self.ctx.services.items.history(item_id, actor, 50))

        run(self.ctx.notifier, fetch(), self._show)

    def _show(self, loaded) -> None:
        first = self.item is None or self.item.id != loaded[0].id
        item, history = loaded
        self.item = item
        self.heading.setText(item.name or item.upc or "New item")
        status = {"pending": "Looking the product up…", "not_found": "Not found in the product database.",
                  "failed": "The product lookup failed; try again later.", "found": "Found in the product database."}
        self.status.setText(f"{item.total_quantity} in stock. {status.get(item.lookup_status or '', '')}")
        if first:
            self.name.setText(item.name or "")
            self.upc.setText(item.upc or "")
            self.description.setPlainText(item.description or "")
            self.storage.set_value(item.storage_type)
        self.minimum.setText(str(item.min_quantity))
        self.minimum.setEnabled(self.ctx.session.can_change)
        self._show_skus(item)
        self.history.clear()
        for change in history:
            sign = f"+{change.delta}" if change.delta > 0 else str(change.delta)
            self.history.addItem(
                f"{change.timestamp.astimezone():%d %b %H:%M}   {sign} in {change.location_name}"
                f"  → {change.quantity_after}   ({change.username or '—'}, "
                f"{SOURCES.get(change.source, change.source)})"
            )
        self.qr.set_text(str(item.id))
        can_change = self.ctx.session.can_change
        self.save_button.setEnabled(can_change)
        self.lookup_button.setEnabled(can_change and bool(item.upc))
        self.delete_button.setVisible(self.ctx.session.is_admin)
        self.delete_button.setEnabled(item.total_quantity == 0)
        self.delete_button.setText("Delete item" if item.total_quantity == 0 else "Delete (only at zero stock)")
        if first and self._edit_name:
            self.typeInto.emit(self.name)

    def _show_skus(self, item: ItemDetail) -> None:
        while self.skus.count():
            widget = self.skus.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        if not item.skus:
            self.skus.addWidget(hint("Not stored anywhere yet."), 0, 0)
        # Narrow, a place's name and its Remove have a line of their own
        # above its − n +, and each dated unit's − comes first, under that −.
        narrow = is_narrow(self)
        position = 0
        for sku in item.skus:
            name = label(sku.location_name)
            minus = button("−", lambda s=sku: self._adjust(s.id, -1), name="minus")
            minus.setEnabled(sku.quantity > 0)
            quantity = button(str(sku.quantity), lambda s=sku: self._ask(s), name="qty")
            plus = button("+", lambda s=sku: self._adjust(s.id, +1), name="plus")
            remove = button("Remove place", lambda s=sku: self._delete_sku(s.id, s.location_name), name="danger")
            remove.setEnabled(sku.quantity == 0)
            controls: tuple[QWidget, ...] = (name, minus, quantity, plus, remove)
            if narrow:
                head = QWidget()
                head_row = QHBoxLayout(head)
                head_row.setContentsMargins(0, 0, 0, 0)
                head_row.addWidget(name, 1)
                head_row.addWidget(remove)
                self.skus.addWidget(head, position, 0, 1, 5)
                position += 1
                controls = (minus, quantity, plus)
            for column, widget in enumerate(controls):
                self.skus.addWidget(widget, position, column)
            position += 1
            # Its dated units, earliest first, each with a − that takes from that date.
            for lot in sorted(sku.lots, key=lambda lot: lot.best_before):
                when = hint(f"Best before {day_text(lot.best_before)} × {lot.quantity} · "
                            f"{days_left((lot.best_before - date.today()).days).lower()}")
                take = button("−", lambda s=sku, d=lot.best_before: self._take_dated(s.id, d), name="minus")
                if narrow:
                    self.skus.addWidget(take, position, 0)
                    self.skus.addWidget(when, position, 1, 1, 4)
                else:
                    when.setIndent(24)  # under its place
                    self.skus.addWidget(when, position, 0)
                    self.skus.addWidget(take, position, 1)
                position += 1
        for column, stretch in enumerate((0, 0, 0, 0, 1) if narrow else (1, 0, 0, 0, 0)):
            self.skus.setColumnStretch(column, stretch)

    # -- actions ----------------------------------------------------------------

    def save(self) -> None:
        if self.item is None:
            return
        changes = {
            "name": self.name.text().strip() or None,
            "upc": self.upc.text().strip() or None,
            "description": self.description.toPlainText().strip() or None,
            "storage_type": self.storage.value(),
        }
        if changes["name"] is None and self.item.name is None:
            changes.pop("name")
        run(self.ctx.notifier, self.ctx.services.items.update(self.item.id, changes, self.ctx.session.actor),
            success="Saved")

    def _adjust(self, sku_id: uuid.UUID, delta: int) -> None:
        run(self.ctx.notifier, self.ctx.services.skus.adjust(sku_id, {"delta": delta}, self.ctx.session.actor))

    def _take_dated(self, sku_id: uuid.UUID, day: date) -> None:
        run(self.ctx.notifier, self.ctx.services.skus.adjust(
            sku_id, {"delta": -1, "best_before": day.isoformat()}, self.ctx.session.actor))

    def _ask_minimum(self) -> None:
        if self.item is None:
            return
        item_id = self.item.id
        ask_number(self, "Keep at least how many?", self.item.min_quantity,
                   lambda value: run(self.ctx.notifier, self.ctx.services.items.update(
                       item_id, {"min_quantity": value}, self.ctx.session.actor),
                       success=f"It goes on the shopping list below {value}" if value else
                       "It goes on the shopping list when none are left"))

    def _ask(self, sku) -> None:
        ask_number(self, f"How many in {sku.location_name}?", sku.quantity,
                   lambda value: run(self.ctx.notifier, self.ctx.services.skus.set_quantity(
                       sku.id, {"quantity": value}, self.ctx.session.actor)))

    def _delete_sku(self, sku_id: uuid.UUID, place: str) -> None:
        confirm(self, f"Remove {place} from this item's places?", "Remove",
                lambda: run(self.ctx.notifier, self.ctx.services.skus.delete(sku_id, self.ctx.session.actor)))

    def _choose_place(self) -> None:
        if self.item is None:
            return

        def show(page) -> None:
            while self.places_layout.count():
                self.places_layout.takeAt(0).widget().deleteLater()
            taken = {sku.location_id for sku in self.item.skus}
            free = [loc for loc in page.data if loc.id not in taken]
            if not free:
                self.places_layout.addWidget(hint("It already has a place in every location."), 0, 0)
            columns = 2 if is_narrow(self) else 4
            for position, location in enumerate(free):
                self.places_layout.addWidget(button(location.name, lambda loc=location: self._put_in(loc.id)),
                                             position // columns, position % columns)
            self.places.setVisible(not self.places.isVisible())

        run(self.ctx.notifier, self.ctx.services.locations.list(self.ctx.session.actor), show)

    def _put_in(self, location_id: uuid.UUID) -> None:
        self.places.hide()
        run(self.ctx.notifier, self.ctx.services.skus.add_to(
            self.item.id, location_id, 1, self.ctx.session.actor))

    def look_up(self) -> None:
        if self.item is not None:
            run(self.ctx.notifier, self.ctx.services.items.request_lookup(self.item.id, self.ctx.session.actor),
                success="Looking it up again…")

    def delete(self) -> None:
        if self.item is None:
            return
        item_id, name = self.item.id, self.heading.text()
        confirm(self, f"Delete {name}?", "Delete",
                lambda: run(self.ctx.notifier, self.ctx.services.items.delete(item_id, self.ctx.session.actor),
                            done=lambda _r: self.back.emit(), success=f"Deleted {name}"),
                "It goes from every list, with its history. This cannot be undone.")

    def _changed(self, entity: str, id_: str, op: str, data: dict[str, Any]) -> None:
        if self.item is None or not self.isVisible():
            return
        mine = str(self.item.id)
        if entity == "item" and id_ == mine and op == "deleted":
            self.item = None
            self.back.emit()
        elif (entity == "item" and id_ == mine) or (entity == "sku" and data.get("item_id", mine) == mine):
            self._reload()
