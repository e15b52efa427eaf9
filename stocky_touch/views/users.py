"""The Users tab (Admins): add, change role, deactivate, new API key (shown
once, with its QR code)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLineEdit,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stocky.schemas.user import UserOut
from stocky_touch.views.base import Context
from stocky_touch.widgets.choice import Choice
from stocky_touch.widgets.common import Throttle, button, hint, label, password_field, row, run
from stocky_touch.widgets.list_form import ListAndForm
from stocky_touch.widgets.qr import QrCode
from stocky_touch.widgets.sheet import Sheet, confirm

ROLES = (("Admin", "Admin"), ("Member", "Member"), ("Read-only", "Read-only"), ("Scanner", "Scanner"))
ROLE = Qt.ItemDataRole.UserRole + 1


def key_groups(key: str) -> str:
    return " ".join(key[start:start + 4] for start in range(0, len(key), 4))


class UsersView(ListAndForm):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__("Users", "+ New", parent)
        self.ctx = ctx
        self.selected: UserOut | None = None
        form, right = self.form, self.side
        self.username = QLineEdit()
        self.username.setPlaceholderText("Name")
        self.role = Choice(ROLES, "Member")
        self.password = password_field("Password (not needed for a Scanner)")
        form.addRow(label("Name"), self.username)
        form.addRow(label("Role"), self.role)
        form.addRow(label("Password"), self.password)
        self.save_button = button("Add user", self.save, name="primary")
        self.active_button = button("Deactivate", self.toggle_active, name="danger")
        self.key_button = button("New API key", self.rotate_key)
        right.addLayout(row(self.save_button, self.key_button, stretch_at=2))
        right.addLayout(row(self.active_button, stretch_at=1))
        self.key_sheet: Sheet | None = None
        right.addStretch(1)
        self.list.currentItemChanged.connect(self._picked)
        self._reload = Throttle(self.reload, 200, self)
        ctx.live.changed.connect(lambda entity, *_: entity == "user" and self._reload())
        self.new()

    def reload(self) -> None:
        if not self.ctx.session.is_admin:
            return

        def show(page) -> None:
            selected = self.selected.id if self.selected else None
            self.list.blockSignals(True)
            self.list.clear()
            for user in page.data:
                state = "" if user.is_active else "  (inactive)"
                entry = QListWidgetItem(f"{user.username} · {user.role}{state}")
                entry.setData(ROLE, user)
                self.list.addItem(entry)
                if user.id == selected:
                    self.list.setCurrentItem(entry)
                    self.selected = user
            self.list.blockSignals(False)

        run(self.ctx.notifier, self.ctx.services.users.list(self.ctx.session.actor), show)

    def new(self) -> None:
        self.selected = None
        self.list.clearSelection()
        self.heading.setText("New user")
        self.username.clear()
        self.username.setReadOnly(False)
        self.password.clear()
        self.role.set_value("Member")
        self.save_button.setText("Add user")
        self.active_button.hide()
        self.key_button.hide()
        self._show_key(None)

    def _picked(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is None:
            return
        user: UserOut = current.data(ROLE)
        self.selected = user
        self.heading.setText(user.username)
        self.username.setText(user.username)
        self.username.setReadOnly(True)
        self.password.clear()
        self.role.set_value(user.role)
        self.save_button.setText("Save")
        self.active_button.setText("Deactivate" if user.is_active else "Activate")
        self.active_button.show()
        self.key_button.show()
        self._show_key(None)

    def _show_key(self, key: str | None, username: str = "") -> None:
        """The key is shown once: on a sheet over the whole screen, in groups
        of four so it can be read out and typed, and as a QR code."""
        if not key:
            return
        body = QWidget()
        body.setObjectName("page")
        layout = QVBoxLayout(body)
        self.key_label = label(key_groups(key), name="secret", wrap=True)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.key_label)
        layout.addWidget(hint("Shown only now. The spaces are only for reading. Set it as the scanner's id, "
                              "or scan the code into its setup."))
        layout.addWidget(QrCode(key, size=200), 0, Qt.AlignmentFlag.AlignHCenter)
        self.key_sheet = Sheet(self, f"New API key{' for ' + username if username else ''}", body,
                               (("Done: I have it", None, "primary"),))

    def save(self) -> None:
        actor = self.ctx.session.actor
        password = self.password.text() or None
        if self.selected is None:
            data = {"username": self.username.text().strip(), "role": self.role.value(), "password": password}

            def created(user) -> None:
                self.new()
                self.ctx.notifier.ok(f"Added {user.username}")
                self._show_key(user.api_key, user.username)

            run(self.ctx.notifier, self.ctx.services.users.create(data, actor), done=created)
            return
        changes: dict = {"role": self.role.value()}
        if password:
            changes["password"] = password
        run(self.ctx.notifier, self.ctx.services.users.update(self.selected.id, changes, actor), success="Saved")

    def toggle_active(self) -> None:
        if self.selected is None:
            return
        user = self.selected

        def toggle() -> None:
            run(self.ctx.notifier, self.ctx.services.users.update(
                user.id, {"is_active": not user.is_active}, self.ctx.session.actor))

        if user.is_active:
            confirm(self, f"Deactivate {user.username}?", "Deactivate", toggle,
                    "They can no longer sign in or scan until activated again.")
        else:
            toggle()

    def rotate_key(self) -> None:
        if self.selected is not None:
            run(self.ctx.notifier, self.ctx.services.users.rotate_api_key(self.selected.id, self.ctx.session.actor),
                done=lambda result: self._show_key(result.api_key, self.selected.username if self.selected else ""))
