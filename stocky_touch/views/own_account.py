"""The signed-in person's own account, on the page behind their name in the
top bar: a new password, and signing out every phone and browser. Never
for the kitchen account the screen rests as: nobody types its password."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QApplication, QFormLayout, QVBoxLayout, QWidget

from stocky.core.passwords import MIN_LENGTH
from stocky.services.users import AT_THE_SCREEN
from stocky_touch.views.base import Context
from stocky_touch.widgets.common import button, hint, label, password_field, row, run
from stocky_touch.widgets.narrow import labels_above, on_narrow, stack
from stocky_touch.widgets.sheet import confirm


class OwnAccount(QWidget):
    typeInto = Signal(object)  # a text field that wants the on-screen keyboard
    editing = Signal(bool)  # the password form opened (True) or closed
    changed = Signal()  # the password is changed: nothing more to do here

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 16)  # apart from "Someone else?" below
        # The rule, while the form is open (the page's heading names the person).
        self.rule = hint(f"A new password: at least {MIN_LENGTH} characters, not one of the common ones.")
        self.rule.hide()
        layout.addWidget(self.rule)
        self.actions = QWidget()
        actions = row(button("Change my password", self.open_form),
                      button("Sign out everywhere", self._ask_sign_out, name="danger"), stretch_at=2)
        actions.setContentsMargins(0, 0, 0, 0)
        self.actions.setLayout(actions)
        layout.addWidget(self.actions)

        self.password_form = QWidget()
        inner = QVBoxLayout(self.password_form)
        inner.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        self.current = password_field("Current password")
        self.new = password_field("New password")
        self.again = password_field("The new password again")
        form.addRow(label("Current"), self.current)
        form.addRow(label("New"), self.new)
        form.addRow(label("Again"), self.again)
        inner.addLayout(form)
        self.save = button("Change password", self._change, name="primary")
        inner.addLayout(row(button("Cancel", self.close_form), self.save, stretch_at=0))
        layout.addWidget(self.password_form)
        self.password_form.hide()
        # ⏎ on the keyboard goes on to the next field, and from the last one changes it.
        self.current.returnPressed.connect(self.new.setFocus)
        self.new.returnPressed.connect(self.again.setFocus)
        self.again.returnPressed.connect(self._change)
        on_narrow(self, labels_above(form), stack(actions))  # narrow: one button under the other
        # A method, not a lambda: the connection ends with this widget.
        ctx.session.userChanged.connect(self.show_person)

    def show_person(self, _user: object = None) -> None:
        """Shown for a person signed in, with the form closed and empty."""
        self.close_form()
        self.setVisible(self.ctx.session.person is not None)

    def open_form(self) -> None:
        self.actions.hide()
        self.rule.show()
        self.password_form.show()
        self.editing.emit(True)
        self.typeInto.emit(self.current)

    def close_form(self) -> None:
        # The focus first: a hidden field would hand it on to the next field
        # on the page, and the keyboard would stay up to type into that.
        focused = QApplication.focusWidget()
        if focused is not None and self.password_form.isAncestorOf(focused):
            focused.clearFocus()
        for field in (self.current, self.new, self.again):
            field.clear()
        was_open = not self.password_form.isHidden()
        self.password_form.hide()
        self.rule.hide()
        self.actions.show()
        if was_open:
            self.editing.emit(False)

    def _change(self) -> None:
        person = self.ctx.session.person
        if person is None:
            return
        if self.new.text() != self.again.text():
            self.ctx.notifier.error("The two new passwords differ.")
            return

        def changed(_signed_in) -> None:
            self.close_form()
            self.ctx.notifier.ok(f"Password changed; every other sign-in of {person.username} has ended.")
            self.changed.emit()

        run(self.ctx.notifier, self.ctx.services.users.change_own_password(
            self.ctx.session.actor, self.current.text(), self.new.text(), AT_THE_SCREEN), changed)

    def _ask_sign_out(self) -> None:
        person, resting = self.ctx.session.person, self.ctx.session.kiosk_user
        if person is None:
            return
        back_to = f", and this screen goes back to {resting.username}" if resting is not None else ""
        confirm(self, "Sign out everywhere?", "Sign out everywhere", self._sign_out_everywhere,
                f"Every phone and browser signed in as {person.username} must sign in again{back_to}.")

    def _sign_out_everywhere(self) -> None:
        # Asked again: idle, the screen may have gone back to the kitchen
        # account while the question was open, and it has no such button.
        person = self.ctx.session.person
        if person is None:
            return

        def done(_none) -> None:
            self.ctx.session.return_to_kiosk_user()
            self.ctx.notifier.ok(f"Signed out everywhere: {person.username} must sign in again on every "
                                 "phone and browser.")

        run(self.ctx.notifier, self.ctx.services.users.sign_out_everywhere(self.ctx.session.actor), done)
