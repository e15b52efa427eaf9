"""What every view gets: the services, who is signed in, live events,
where to report outcomes, and where a phone finds Stocky."""

from __future__ import annotations

from dataclasses import dataclass, field

from stocky.https import Https
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
    # The runtime's own: it learns a renewed certificate while the kiosk runs.
    https: Https = field(default_factory=Https)
    http_port: int = 8000  # where the /connect page answers over plain HTTP
