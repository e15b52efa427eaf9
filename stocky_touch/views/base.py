"""What every view gets: the services, who is signed in, live events and
where to report outcomes."""

from __future__ import annotations

from dataclasses import dataclass

from stocky.services.container import Services
from stocky_touch.live import Live
from stocky_touch.session import Session
from stocky_touch.widgets.common import Notifier


@dataclass
class Context:
    services: Services
    session: Session
    live: Live
    notifier: Notifier
