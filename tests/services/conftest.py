"""Service-level tests: the services themselves, called as the front doors
call them, over a real SQLite file (``services`` in tests/conftest.py).

``accounts`` holds one stored account per role, plus a Member whose account
was deactivated after its token (or screen) remembered it; each comes as the
``Actor`` a front door would build for it.
"""

from __future__ import annotations

import bcrypt
import pytest
from service_support import ROLES, Kitchen, new_account
from support.kitchens import add_locations

from stocky.schemas.actor import SYSTEM, Actor
from stocky.services.container import Services


@pytest.fixture
def cheap_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """bcrypt at its lowest cost: passwords are not what these tests are about."""
    real_gensalt = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda rounds=12, prefix=b"2b": real_gensalt(4, prefix))


@pytest.fixture
async def accounts(services: Services, cheap_bcrypt: None) -> dict[str, Actor]:
    made = {role: await new_account(services, role) for role in ROLES if role != "deactivated"}
    gone = await new_account(services, "Member")
    await services.users.deactivate(gone.user_id, SYSTEM)
    made["deactivated"] = gone  # still says "Member", as a token issued before would
    return made


@pytest.fixture
async def kitchen(services: Services) -> Kitchen:
    rooms = await add_locations(services, {"Pantry": "Ambient", "Fridge": "Refrigerated"})
    return Kitchen(services, rooms["Pantry"].id, rooms["Fridge"].id)
