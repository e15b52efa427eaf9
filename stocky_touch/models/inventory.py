"""The inventory as a two-level tree: items, and under an expanded item its
stock per location plus a row that opens the item page."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from stocky.schemas.item import ItemOut, ItemSkuOut, ShoppingItem

NAME, QUANTITY = range(2)
COLUMNS = 2
ItemRole = Qt.ItemDataRole.UserRole + 1  # the ItemOut or ItemSkuOut of a row
KindRole = Qt.ItemDataRole.UserRole + 2  # "item", "sku" or "details"
DETAILS_TEXT = "Details, history and label  ›"
NONE_AT_HOME = "none at home"  # an item at zero, found by a search or listed under All
QUIET = "#5a676d"  # the hints' grey (resources/style.qss)

Index = QModelIndex | QPersistentModelIndex


def item_text(item: ItemOut) -> str:
    if item.name:
        return item.name
    if item.lookup_status == "pending":
        return f"{item.upc}  (looking up…)"
    return f"{item.upc}  (no name yet)"


class InventoryModel(QAbstractItemModel):
    moreWanted = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._items: list[ItemOut] = []
        self._rows: dict[uuid.UUID, int] = {}
        self._skus: dict[uuid.UUID, list[ItemSkuOut]] = {}
        self._ids: list[uuid.UUID] = []  # internal ids of child indexes: position + 1
        self._id_of: dict[uuid.UUID, int] = {}
        self.total = 0

    # -- filling --------------------------------------------------------

    def set_items(self, items: list[ItemOut], total: int) -> None:
        self.beginResetModel()
        self._items = list(items)
        self._rows = {item.id: row for row, item in enumerate(self._items)}
        self._skus = {k: v for k, v in self._skus.items() if k in self._rows}
        self.total = total
        self.endResetModel()

    def append_items(self, items: list[ItemOut], total: int) -> None:
        fresh = [item for item in items if item.id not in self._rows]
        self.total = total
        if not fresh:
            return
        first = len(self._items)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        for item in fresh:
            self._rows[item.id] = len(self._items)
            self._items.append(item)
        self.endInsertRows()

    def update_item(self, item: ItemOut) -> bool:
        row = self._rows.get(item.id)
        if row is None:
            return False
        self._items[row] = item
        self.dataChanged.emit(self.index(row, NAME), self.index(row, QUANTITY))
        return True

    def set_total(self, item_id: uuid.UUID, total: int) -> bool:
        """Show an item's new total in its row; False when it has no row."""
        row = self._rows.get(item_id)
        if row is None:
            return False
        self._items[row] = self._items[row].model_copy(update={"total_quantity": total})
        self.dataChanged.emit(self.index(row, QUANTITY), self.index(row, QUANTITY))
        return True

    def set_sku_quantity(self, item_id: uuid.UUID, sku_id: uuid.UUID, quantity: int) -> QModelIndex | None:
        """Show a new quantity in an expanded item's row for one place; the
        index of that row's quantity, or None when it is not shown."""
        skus = self._skus.get(item_id)
        row = self._rows.get(item_id)
        if skus is None or row is None:
            return None
        for child_row, sku in enumerate(skus):
            if sku.id == sku_id:
                skus[child_row] = sku.model_copy(update={"quantity": quantity})
                index = self.index(child_row, QUANTITY, self.index(row, NAME))
                self.dataChanged.emit(index, index)
                return index
        return None

    def set_skus(self, item_id: uuid.UUID, skus: list[ItemSkuOut]) -> None:
        row = self._rows.get(item_id)
        if row is None:
            return
        parent = self.index(row, NAME)
        old = self._child_count(item_id)
        if old:
            self.beginRemoveRows(parent, 0, old - 1)
            self._skus.pop(item_id, None)
            self.endRemoveRows()
        self._intern(item_id)
        self.beginInsertRows(parent, 0, len(skus))  # the SKUs and the details row
        self._skus[item_id] = list(skus)
        self.endInsertRows()

    def forget_skus(self, item_id: uuid.UUID) -> None:
        row = self._rows.get(item_id)
        old = self._child_count(item_id)
        if row is None or not old:
            return
        self.beginRemoveRows(self.index(row, NAME), 0, old - 1)
        self._skus.pop(item_id, None)
        self.endRemoveRows()

    def item_at(self, row: int) -> ItemOut:
        return self._items[row]

    def row_of(self, item_id: uuid.UUID) -> int | None:
        return self._rows.get(item_id)

    def is_expanded(self, item_id: uuid.UUID) -> bool:
        return item_id in self._skus

    def expanded_ids(self) -> list[uuid.UUID]:
        return list(self._skus)

    def _intern(self, item_id: uuid.UUID) -> int:
        if item_id not in self._id_of:
            self._ids.append(item_id)
            self._id_of[item_id] = len(self._ids)
        return self._id_of[item_id]

    def _child_count(self, item_id: uuid.UUID) -> int:
        skus = self._skus.get(item_id)
        return 0 if skus is None else len(skus) + 1

    def _parent_item(self, index: Index) -> uuid.UUID | None:
        internal = index.internalId()
        return self._ids[internal - 1] if internal else None

    # -- QAbstractItemModel ---------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        item = self._items[parent.row()]
        return self.createIndex(row, column, self._intern(item.id))

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        item_id = self._parent_item(index)
        if item_id is None or item_id not in self._rows:
            return QModelIndex()
        return self.createIndex(self._rows[item_id], 0, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        if not parent.isValid():
            return len(self._items)
        if parent.internalId() or parent.column() != 0:
            return 0
        return self._child_count(self._items[parent.row()].id)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return COLUMNS

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802
        if not parent.isValid():
            return bool(self._items)
        return not parent.internalId() and parent.column() == 0

    def canFetchMore(self, parent: Index) -> bool:  # noqa: N802
        return not parent.isValid() and len(self._items) < self.total

    def fetchMore(self, parent: Index) -> None:  # noqa: N802
        if self.canFetchMore(parent):
            self.moreWanted.emit()

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ("Item", "Quantity")[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item_id = self._parent_item(index)
        if item_id is None:
            return self._item_data(self._items[index.row()], index.column(), role)
        skus = self._skus.get(item_id, [])
        if index.row() < len(skus):
            return self._sku_data(skus[index.row()], index.column(), role)
        return self._details_data(index.column(), role)

    def _item_data(self, item: ItemOut, column: int, role: int) -> Any:
        # On the shopping list "0 · get 2" says it already.
        none_at_home = item.total_quantity == 0 and not isinstance(item, ShoppingItem)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == NAME:
                return item_text(item)
            # On the shopping list: what is here, and how many to get.
            if isinstance(item, ShoppingItem):
                return f"{item.total_quantity} · get {item.to_buy}"
            return NONE_AT_HOME if none_at_home else str(item.total_quantity)
        if role == ItemRole:
            return item
        if role == KindRole:
            return "item"
        if role == Qt.ItemDataRole.TextAlignmentRole and column == QUANTITY:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and column == QUANTITY:
            from PySide6.QtGui import QFont

            font = QFont()
            # A count stands out; "none at home" is said quietly.
            font.setBold(not none_at_home)
            font.setItalic(none_at_home)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and column == QUANTITY and none_at_home:
            from PySide6.QtGui import QColor

            return QColor(QUIET)
        return None

    def _sku_data(self, sku: ItemSkuOut, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return f"    {sku.location_name}" if column == NAME else str(sku.quantity)
        if role == ItemRole:
            return sku
        if role == KindRole:
            return "sku"
        return None

    def _details_data(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and column == NAME:
            return f"    {DETAILS_TEXT}"
        if role == KindRole:
            return "details"
        return None
