from __future__ import annotations

import uuid
from dataclasses import dataclass

from stocky.core.vocabulary import ChangeSource, Role


@dataclass(frozen=True)
class Actor:
    """Who asks for a change, and through which door (for the journal)."""

    user_id: uuid.UUID | None
    username: str
    role: Role
    source: ChangeSource = "api"


# Stocky itself (start-up, demo data, the product lookup): no stored account,
# so only its role is checked. Front doors always act as a stored account.
SYSTEM = Actor(user_id=None, username="system", role="Admin", source="api")
