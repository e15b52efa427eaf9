"""Switching user with a password, the signed-in person's own account
(views.own_account), and the first start's "create administrator" screen."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGridLayout, QLineEdit, QVBoxLayout, QWidget

from stocky.schemas.user import UserOut
from stocky.services.users import AT_THE_SCREEN
from stocky_touch.views.base import Context
from stocky_touch.views.own_account import OwnAccount
from stocky_touch.widgets.common import (
    button,
    hint,
    label,
    password_field,
    row,
    run,
    scrolling,
    title,
)
from stocky_touch.widgets.narrow import is_narrow, labels_above, on_narrow


class SignInPage(QWidget):
    back = Signal()
    typeInto = Signal(object)  # a text field that wants the on-screen keyboard

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.first_start = False
        self._people: list[QWidget] = []
        self._kiosk_button: QWidget | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.area, body = scrolling()
        outer.addWidget(self.area)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(24, 16, 24, 16)
        self.back_button = button("‹ Back", self.back.emit)
        self.heading = title("Who is there?")
        layout.addLayout(row(self.back_button, self.heading, stretch_at=2))
        self.account = OwnAccount(ctx)
        self.account.hide()
        self.account.typeInto.connect(self.typeInto)
        self.account.changed.connect(self.back)
        layout.addWidget(self.account)
        # Someone else signing in: out of the way while the person here
        # types a new password.
        self.switching = QWidget()
        self.account.editing.connect(lambda editing: self.switching.setVisible(not editing))
        layout.addWidget(self.switching)
        layout.addStretch(1)
        switching = QVBoxLayout(self.switching)
        switching.setContentsMargins(0, 0, 0, 0)
        self.explain = hint("")
        switching.addWidget(self.explain)
        self.people = QGridLayout()
        switching.addLayout(self.people)
        form = QFormLayout()
        self.username = QLineEdit()
        self.username.setPlaceholderText("Name")
        self.password = password_field("Password")
        self.repeat = password_field("The same password again")
        form.addRow(label("Name"), self.username)
        form.addRow(label("Password"), self.password)
        form.addRow(label("Again"), self.repeat)
        self._repeat_row = form.rowCount() - 1
        self.form = form
        switching.addLayout(form)
        self.go = button("Sign in", self.submit, name="primary")
        switching.addLayout(row(self.go, stretch_at=1))
        self.password.returnPressed.connect(self.submit)
        self.repeat.returnPressed.connect(self.submit)
        on_narrow(self, labels_above(form), lambda _narrow: self._place_people())

    def reload(self) -> None:
        # From the top: it was left scrolled to the password typed last time.
        self.area.verticalScrollBar().setValue(0)
        run(self.ctx.notifier, self.ctx.services.users.people(), self._show_people)

    def show_first_start(self) -> None:
        self.first_start = True
        self.heading.setText("Welcome to Stocky")
        self.explain.setText("Create the administrator: the person who sets up locations, scanners and users.")
        self.back_button.hide()
        self.account.hide()
        self.go.setText("Create administrator")
        self.form.setRowVisible(self._repeat_row, True)
        self._clear_people()
        self.username.setFocus()

    def _clear_people(self) -> None:
        self._people, self._kiosk_button = [], None
        while self.people.count():
            self.people.takeAt(0).widget().deleteLater()

    def _show_people(self, people: list[UserOut]) -> None:
        self.first_start = False
        person = self.ctx.session.person
        self.heading.setText(person.username if person is not None else "Who is there?")
        self.explain.setText(("Someone else? " if person is not None else "") + "Tap your name and enter your password.")
        self.account.show_person()
        self.back_button.show()
        self.go.setText("Sign in")
        self.form.setRowVisible(self._repeat_row, False)
        self._clear_people()
        # Not the account the screen rests as (it has its own button below),
        # nor the person signed in now.
        here = {user.id for user in (self.ctx.session.kiosk_user, person) if user is not None}
        people = [user for user in people if user.id not in here]
        self._people = [button(user.username, lambda u=user: self._pick(u)) for user in people]
        if self.ctx.session.kiosk_user is not None:
            self._kiosk_button = button(f"Back to {self.ctx.session.kiosk_user.username}", self._kiosk)
        self._place_people()
        self.password.clear()

    def _place_people(self) -> None:
        """Four names to a row, two in a narrow window."""
        columns = 2 if is_narrow(self) else 4
        for position, person in enumerate(self._people):
            self.people.addWidget(person, position // columns, position % columns)
        if self._kiosk_button is not None:
            self.people.addWidget(self._kiosk_button, len(self._people) // columns + 1, 0, 1, 2)

    def _pick(self, user: UserOut) -> None:
        self.username.setText(user.username)
        self.password.clear()
        self.typeInto.emit(self.password)  # the keyboard too, not only the focus

    def _kiosk(self) -> None:
        self.ctx.session.return_to_kiosk_user()
        self.back.emit()

    def submit(self) -> None:
        username, password = self.username.text().strip(), self.password.text()
        if self.first_start:
            if password != self.repeat.text():
                self.ctx.notifier.error("The two passwords differ.")
                return
            work = self.ctx.services.users.create_first_admin(username, password)
        else:
            # Someone at the screen itself: never behind a flood from the network.
            work = self._sign_in(username, password)

        def signed_in(user) -> None:
            if self.first_start:
                # Signed in as the new Admin for now; idle, the screen goes
                # back to the kitchen account.
                self.ctx.session.sign_in(user)
                self.ctx.notifier.ok(f"Welcome, {user.username}. Add locations next.")
            else:
                self.ctx.session.sign_in(user)
                self.ctx.notifier.ok(f"Hello, {user.username}")
            self.password.clear()
            self.repeat.clear()
            self.first_start = False
            self.back.emit()

        run(self.ctx.notifier, work, signed_in)

    async def _sign_in(self, username: str, password: str) -> UserOut:
        return (await self.ctx.services.users.sign_in(username, password, AT_THE_SCREEN)).user
