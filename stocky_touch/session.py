"""Who is using the screen now, and falling back to the kiosk user when idle."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

from stocky.core.errors import NotAuthenticated
from stocky.schemas.actor import Actor
from stocky.schemas.user import UserOut
from stocky.services.permissions import Action, allows
from stocky.services.users import actor_of
from stocky_touch.appevents import app_events

DEFAULT_IDLE_SECONDS = 120


class Session(QObject):
    userChanged = Signal(object)  # UserOut | None

    def __init__(self, idle_seconds: int = DEFAULT_IDLE_SECONDS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.kiosk_user: UserOut | None = None
        self.user: UserOut | None = None
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(idle_seconds * 1000)
        self._idle.timeout.connect(self.return_to_kiosk_user)

    @property
    def actor(self) -> Actor:
        if self.user is None:
            raise NotAuthenticated("Sign in first.")
        return actor_of(self.user, "ui")

    @property
    def person(self) -> UserOut | None:
        """Who signed in at the screen; None while it rests as its kitchen
        account, whose password nobody types."""
        if self.user is None or (self.kiosk_user is not None and self.user.id == self.kiosk_user.id):
            return None
        return self.user

    @property
    def is_admin(self) -> bool:
        return self.user is not None and allows(self.user.role, Action.USER_MANAGE)

    @property
    def can_change(self) -> bool:
        return self.user is not None and allows(self.user.role, Action.INVENTORY_CHANGE)

    def start(self, kiosk_user: UserOut | None) -> None:
        self.kiosk_user = kiosk_user
        self.sign_in(kiosk_user)

    def sign_in(self, user: UserOut | None) -> None:
        self.user = user
        if user is not None and self.kiosk_user is not None and user.id != self.kiosk_user.id:
            self._idle.start()
        else:
            self._idle.stop()
        self.userChanged.emit(user)

    def return_to_kiosk_user(self) -> None:
        if self.person is not None or self.user is None:
            self.sign_in(self.kiosk_user)

    def touched(self) -> None:
        """Any input keeps a switched-to user signed in a while longer."""
        if self._idle.isActive():
            self._idle.start()


ACTIVITY = (QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.TouchBegin)


def watch_activity(session: Session) -> Callable[[], None]:
    """Taps and keys anywhere count as activity; returns the function that
    stops watching."""

    def touched(_watched: QObject, _event: QEvent) -> bool:
        session.touched()
        return False

    return app_events().add(touched, *ACTIVITY)
