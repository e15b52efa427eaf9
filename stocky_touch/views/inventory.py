"""The Inventory tab: search, an accordion of items with +/- per location,
and the Zero Stock filter that is the shopping list."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from stocky.schemas.item import ItemSkuOut, StockFilter
from stocky_touch.models.inventory import NAME, QUANTITY, InventoryModel, ItemRole, KindRole
from stocky_touch.views.base import Context
from stocky_touch.widgets.common import Debounce, Throttle, button, hint, kinetic, label, run
from stocky_touch.widgets.keyboard import ask_number
from stocky_touch.widgets.narrow import is_narrow, on_narrow, stack

PAGE = 100
UNNAMED_SHOWN = 2  # buttons that fit beside each other at 800 px (one in portrait)
QUANTITY_WIDTH = 290
QUANTITY_WIDTH_NARROW = 256  # just − 0 +: the names get the rest, on two lines if need be
FILTERS: tuple[tuple[StockFilter, str], ...] = (
    ("in", "In stock"),
    ("shopping", "Shopping list"),  # at zero or below the item's Keep at least
    ("all", "All"),
)


class SkuControls(QWidget):
    """− quantity + for one location; tapping the number opens the keypad."""

    def __init__(self, view: InventoryView, sku: ItemSkuOut, label: str, item_id: uuid.UUID) -> None:
        super().__init__()
        self.setAutoFillBackground(True)  # covers the row's own number behind it
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 20, 4)
        layout.addStretch(1)
        self.sku = sku
        self.minus = button("−", lambda: view.adjust(self.sku, -1, item_id), name="minus")
        self.quantity = button("", lambda: view.ask_quantity(self.sku, label, item_id), name="qty")
        self.plus = button("+", lambda: view.adjust(self.sku, +1, item_id), name="plus")
        for widget in (self.minus, self.quantity, self.plus):
            layout.addWidget(widget)
        self.show_quantity(sku.quantity)

    def show_quantity(self, quantity: int) -> None:
        self.sku = self.sku.model_copy(update={"quantity": quantity})
        self.quantity.setText(str(quantity))
        self.minus.setEnabled(quantity > 0)


class InventoryView(QWidget):
    openItem = Signal(object)  # uuid.UUID
    nameItem = Signal(object)  # uuid.UUID: open it with its name field ready to type

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.stock: StockFilter = "in"
        self.model = InventoryModel(self)
        self._loading_more = False
        self._reloads = 0  # answers to an earlier reload (another filter, say) are dropped
        # Changes shown in place while a query is under way: its answer may
        # be older than they are, so they are shown again once it arrives.
        self._under_way: list[list[Callable[[], bool]]] = []
        # Items changed by a tap here keep their row, at 0 too, until the
        # list is filtered or searched anew: a row must not vanish under a
        # finger that just tapped − (it can still tap + back).
        self._kept: set[uuid.UUID] = set()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 0)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, brand, barcode…")
        self.search.setClearButtonEnabled(True)
        top.addWidget(self.search, 1)
        self.filters = QButtonGroup(self)
        filters = QHBoxLayout()
        for position, (value, text) in enumerate(FILTERS):
            choice = button(text, checkable=True)
            choice.setChecked(value == self.stock)
            self.filters.addButton(choice, position)
            filters.addWidget(choice)
        top.addLayout(filters)
        layout.addLayout(top)
        # Scanned products the lookup could not name stay here, beside the
        # count (no row of their own: the screen has none to spare), until named.
        self.unnamed_bar = QWidget()
        self._unnamed_row = QHBoxLayout(self.unnamed_bar)
        self._unnamed_row.setContentsMargins(0, 0, 0, 0)
        self.unnamed_bar.hide()
        self._unnamed: list = []
        self.summary = hint("")
        self.summary.setWordWrap(False)
        summary_row = QHBoxLayout()
        summary_row.addWidget(self.summary)
        summary_row.addStretch(1)
        summary_row.addWidget(self.unnamed_bar)
        layout.addLayout(summary_row)

        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(0)
        self.tree.setUniformRowHeights(False)
        self.tree.setExpandsOnDoubleClick(False)
        self.tree.setSelectionMode(QTreeView.SelectionMode.NoSelection)
        self.tree.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(QUANTITY, QHeaderView.ResizeMode.Fixed)
        self.tree.header().resizeSection(QUANTITY, QUANTITY_WIDTH)
        kinetic(self.tree)
        self.tree.setMinimumHeight(64)  # one row while typing on a 7-inch screen
        layout.addWidget(self.tree, 1)
        self.empty = label(name="hint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        layout.addWidget(self.empty)

        # A reload at once, then at most one per 200 ms however fast scans come.
        self._refresh = Throttle(self.reload, 200, self)
        self._search_debounce = Debounce(self.reload, 300, self)
        self.search.textChanged.connect(self._search_debounce)
        self.search.textChanged.connect(lambda _text: self._kept.clear())
        self.filters.idClicked.connect(self._filter_chosen)
        self.tree.clicked.connect(self._tapped)
        self.model.moreWanted.connect(self._load_more)
        ctx.live.changed.connect(self._changed)
        # Narrow: the filters under the search, the unnamed under the count.
        on_narrow(self, stack(top, summary_row), self._narrow)

    def _narrow(self, narrow: bool) -> None:
        """Narrow: names wrap beside the − 0 + of a place, one unnamed shown."""
        self.tree.setWordWrap(narrow)
        self.tree.header().resizeSection(QUANTITY, QUANTITY_WIDTH_NARROW if narrow else QUANTITY_WIDTH)
        self._show_unnamed(self._unnamed)

    # -- loading ----------------------------------------------------------

    def set_filter(self, stock: StockFilter) -> None:
        """Another filter starts a fresh look: a search typed for the last one
        would hide most of this one without a word (a scanner's "shopping
        list" command, say)."""
        self.stock = stock
        self._kept.clear()
        self.search.clear()
        self._search_debounce.cancel()  # the reload below is the search's too
        for position, (value, _) in enumerate(FILTERS):
            self.filters.button(position).setChecked(value == stock)
        self.reload()

    def _filter_chosen(self, position: int) -> None:
        self.set_filter(FILTERS[position][0])

    def reload(self) -> None:
        expanded = self.model.expanded_ids()
        scrolled = self.tree.verticalScrollBar().value()
        self._reloads += 1
        ticket = self._reloads
        redo = self._track()

        def show(page) -> None:
            if ticket != self._reloads:
                return
            self.model.set_items(page.data, page.total)
            self._redo(redo)
            self._update_summary()
            self.tree.verticalScrollBar().setValue(scrolled)
            for item_id in expanded:
                if self.model.row_of(item_id) is not None:
                    self.expand(item_id)

        self._untrack(redo, run(self.ctx.notifier, self.ctx.services.items.list(
            self.ctx.session.actor, self._search(), self._listing(), PAGE, 0), show))
        run(self.ctx.notifier, self.ctx.services.items.unnamed(self.ctx.session.actor, UNNAMED_SHOWN + 1), self._show_unnamed)

    def _show_unnamed(self, items: list) -> None:
        self._unnamed = items
        while self._unnamed_row.count():
            widget = self._unnamed_row.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.unnamed_bar.setVisible(bool(items))
        if not items:
            return
        self._unnamed_row.addWidget(hint("Needs a name:"))
        shown = 1 if is_narrow(self) else UNNAMED_SHOWN
        for item in items[:shown]:
            self._unnamed_row.addWidget(
                button(item.upc or "New item", lambda i=item.id: self.nameItem.emit(i), name="unnamed"))
        if len(items) > shown:
            self._unnamed_row.addWidget(hint("…"))

    def _load_more(self) -> None:
        if self._loading_more:
            return
        self._loading_more = True
        ticket = self._reloads

        def add(page) -> None:
            if ticket == self._reloads:
                self.model.append_items(page.data, page.total)
            self._loading_more = False

        task = run(self.ctx.notifier, self.ctx.services.items.list(
            self.ctx.session.actor, self._search(), self._listing(), PAGE, self.model.rowCount()), add)
        task.add_done_callback(lambda _t: setattr(self, "_loading_more", False))

    def _search(self) -> str | None:
        return self.search.text().strip() or None

    def _listing(self) -> StockFilter:
        """What the list shows: a search in stock finds what is at zero too
        (its row says "none at home"), so nobody makes it a second time."""
        return "all" if self.stock == "in" and self._search() else self.stock

    def _update_summary(self) -> None:
        total = self.model.total
        if self.stock in ("zero", "shopping"):  # short: it shares its row with the unnamed
            self.summary.setText(f"{total} to buy, newest first")
        else:
            what = "found" if self._search() else "in stock" if self.stock == "in" else "in all"
            self.summary.setText(f"{total} item{'s' if total != 1 else ''} {what}")
        self.empty.setVisible(total == 0)
        self.tree.setVisible(total != 0)
        if total == 0:
            self.empty.setText(
                "Nothing matches." if self.search.text().strip()
                else "Nothing here yet: scan a product to add it."
                if self.stock not in ("zero", "shopping") else "Nothing to buy."
            )

    # -- expanding and +/- ------------------------------------------------

    def _tapped(self, index: QModelIndex) -> None:
        kind = index.data(KindRole)
        if kind == "item":
            item = index.data(ItemRole)
            name_index = index.siblingAtColumn(NAME)
            if self.tree.isExpanded(name_index):
                self.tree.collapse(name_index)
                self.model.forget_skus(item.id)
            else:
                self.expand(item.id)
        elif kind == "details":
            self.openItem.emit(self.model.item_at(index.parent().row()).id)

    def expand(self, item_id: uuid.UUID) -> None:
        redo = self._track()

        def show(detail) -> None:
            row = self.model.row_of(item_id)
            if row is None:
                return
            self.model.update_item(detail)
            self.model.set_skus(item_id, detail.skus)
            parent = self.model.index(row, NAME)
            label = detail.name or detail.upc or ""
            for child_row, sku in enumerate(detail.skus):
                self.tree.setIndexWidget(
                    self.model.index(child_row, QUANTITY, parent), SkuControls(self, sku, label, item_id)
                )
            # "Details, history and label" has the whole row: it has no quantity.
            self.tree.setFirstColumnSpanned(len(detail.skus), parent, True)
            self.tree.expand(parent)
            self._redo(redo)

        self._untrack(redo, run(self.ctx.notifier, self.ctx.services.items.get(item_id, self.ctx.session.actor), show))

    def adjust(self, sku: ItemSkuOut, delta: int, item_id: uuid.UUID) -> None:
        if not self._may_change():
            return
        self._kept.add(item_id)

        def done(result) -> None:
            if result.change_id is not None:
                place, now, name = result.sku.location_name, result.sku.quantity, result.item.name or result.item.upc
                if delta > 0:
                    self.ctx.notifier.did_add(f"Added {name} to {place} (now {now})", result.change_id, sku.id)
                else:
                    self.ctx.notifier.done(f"Took {name} out of {place} (now {now})", result.change_id)

        run(self.ctx.notifier, self.ctx.services.skus.adjust(sku.id, {"delta": delta}, self.ctx.session.actor), done)

    def ask_quantity(self, sku: ItemSkuOut, label: str, item_id: uuid.UUID) -> None:
        if not self._may_change():
            return

        def chosen(value: int) -> None:
            self._kept.add(item_id)
            run(self.ctx.notifier, self.ctx.services.skus.set_quantity(
                sku.id, {"quantity": value}, self.ctx.session.actor))

        ask_number(self, f"How many {label} in {sku.location_name}?", sku.quantity, chosen)

    def _may_change(self) -> bool:
        if self.ctx.session.can_change:
            return True
        self.ctx.notifier.error("This account can only look. Tap your name to switch user.")
        return False

    # -- live changes -------------------------------------------------------

    def _changed(self, entity: str, id_: str, op: str, data: dict[str, Any]) -> None:
        """A stock change is shown in place, without a query; anything else
        (a new or deleted item, a rename, a place, an item joining or
        leaving the list) reloads, throttled."""
        if entity not in ("item", "sku", "location"):
            return
        change: Callable[[], bool] | None = None
        if entity == "item" and op == "updated" and "total_quantity" in data:
            change = partial(self._show_total, uuid.UUID(id_), data["total_quantity"])
        elif entity == "sku" and op == "updated" and "quantity" in data and "item_id" in data:
            change = partial(self._show_sku_quantity, uuid.UUID(data["item_id"]), uuid.UUID(id_), data["quantity"])
        if change is None:
            self._refresh()
            return
        for redo in self._under_way:
            redo.append(change)
        if not change():
            self._refresh()

    def _show_total(self, item_id: uuid.UUID, total: int) -> bool:
        """True when the item's row shows ``total`` and still belongs where it is."""
        return (self._stays_listed(total) or item_id in self._kept) and self.model.set_total(item_id, total)

    def _stays_listed(self, total: int) -> bool:
        # The shopping list is ordered by when stock last changed: any change
        # moves an item there (and one at zero never gets a change to zero).
        return self._listing() == "all" or (self.stock == "in" and total > 0)

    def _show_sku_quantity(self, item_id: uuid.UUID, sku_id: uuid.UUID, quantity: int) -> bool:
        """True when the place's row shows ``quantity``, or the item is not
        expanded (then its own event brings the new total)."""
        if not self.model.is_expanded(item_id):
            return True
        index = self.model.set_sku_quantity(item_id, sku_id, quantity)
        if index is None:
            return False
        controls = self.tree.indexWidget(index)
        if isinstance(controls, SkuControls):
            controls.show_quantity(quantity)  # the same widget: a tap under way still lands
        return True

    def _track(self) -> list[Callable[[], bool]]:
        redo: list[Callable[[], bool]] = []
        self._under_way.append(redo)
        return redo

    def _untrack(self, redo: list[Callable[[], bool]], task: asyncio.Future[Any]) -> None:
        def forget(_task: asyncio.Future[Any]) -> None:
            # By identity: two lists of changes can be equal (both empty).
            self._under_way = [other for other in self._under_way if other is not redo]

        task.add_done_callback(forget)

    def _redo(self, redo: list[Callable[[], bool]]) -> None:
        """Show again what changed while the query ran; reload if that no
        longer fits (the answer predates an item's return, say)."""
        if not all([change() for change in redo]):
            self._refresh()
