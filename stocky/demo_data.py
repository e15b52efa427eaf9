"""A believable kitchen to try Stocky with: ``stocky demo-data`` or
``python -m stocky.demo_data``. Only fills an empty database, through the
services like any other change: the demo Admin is made as the first Admin,
and makes the rest."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

from stocky.core.settings import Settings
from stocky.services.container import Services, open_services
from stocky.services.users import actor_of

DEMO_ADMIN = ("admin", "stocky-demo")
DEMO_SCANNER = "Kitchen scanner"

LOCATIONS = [
    ("Pantry", "Ambient", "Tall cupboard left of the oven"),
    ("Fridge", "Refrigerated", None),
    ("Freezer", "Frozen", "Bottom drawers of the fridge-freezer"),
    ("Spice rack", "Ambient", "Above the hob"),
]

# name, EAN-13, storage type, where, how many
ITEMS = [
    ("Spaghetti 500 g", "8076800195057", "Ambient", "Pantry", 3),
    ("Penne rigate 500 g", "8076802085738", "Ambient", "Pantry", 2),
    ("Basmati rice 1 kg", "5011157630019", "Ambient", "Pantry", 1),
    ("Chopped tomatoes 400 g", "5000119025219", "Ambient", "Pantry", 6),
    ("Chickpeas 400 g", "5000119015401", "Ambient", "Pantry", 4),
    ("Red lentils 500 g", "5010067013504", "Ambient", "Pantry", 1),
    ("Rolled oats 1 kg", "5000108030515", "Ambient", "Pantry", 2),
    ("Plain flour 1.5 kg", "5000354907013", "Ambient", "Pantry", 1),
    ("Caster sugar 1 kg", "5010040001119", "Ambient", "Pantry", 1),
    ("Extra virgin olive oil 750 ml", "8005510001181", "Ambient", "Pantry", 1),
    ("Peanut butter 340 g", "5017689002048", "Ambient", "Pantry", 0),
    ("Tuna chunks in brine", "5000232824715", "Ambient", "Pantry", 5),
    ("Coffee beans 1 kg", "8000070038523", "Ambient", "Pantry", 1),
    ("Black tea, 80 bags", "5000208011127", "Ambient", "Pantry", 0),
    ("Whole milk 2 l", "5000128104470", "Refrigerated", "Fridge", 2),
    ("Salted butter 250 g", "5740900400528", "Refrigerated", "Fridge", 1),
    ("Mature cheddar 400 g", "5000436589373", "Refrigerated", "Fridge", 1),
    ("Greek yoghurt 500 g", "5201054017814", "Refrigerated", "Fridge", 2),
    ("Free-range eggs, 6", "5051413704127", "Refrigerated", "Fridge", 2),
    ("Smoked bacon 300 g", "5010251643951", "Refrigerated", "Fridge", 0),
    ("Hummus 200 g", "5000169131329", "Refrigerated", "Fridge", 1),
    ("Orange juice 1 l", "5449000131836", "Refrigerated", "Fridge", 1),
    ("Frozen peas 900 g", "5000354001026", "Frozen", "Freezer", 2),
    ("Fish fingers, 10", "5000116101282", "Frozen", "Freezer", 1),
    ("Vanilla ice cream 1 l", "8711327351428", "Frozen", "Freezer", 1),
    ("Frozen spinach 450 g", "3083681025514", "Frozen", "Freezer", 0),
    ("Pizza margherita", "4001724819806", "Frozen", "Freezer", 2),
    ("Ground cumin", "5000184321019", "Ambient", "Spice rack", 1),
    ("Smoked paprika", "5000184201137", "Ambient", "Spice rack", 1),
    ("Dried oregano", "5000184321118", "Ambient", "Spice rack", 1),
    ("Black peppercorns", "5000184100133", "Ambient", "Spice rack", 1),
    ("Sea salt flakes", "5016542001004", "Ambient", "Spice rack", 1),
    ("Cinnamon sticks", "5000184321200", "Ambient", "Spice rack", 0),
]

# Some units carry a best-before date, so Use soon has something to show:
# name -> days from the day the demo is loaded (one already past its date).
DATED = {
    "Orange juice 1 l": -1,
    "Salted butter 250 g": 2,
    "Vanilla ice cream 1 l": 150,
    "Smoked paprika": 240,
}
# What the kitchen keeps at least of, so the shopping list has amounts to get.
MINIMUMS = {"Caster sugar 1 kg": 2, "Extra virgin olive oil 750 ml": 2, "Red lentils 500 g": 2}


@dataclass(frozen=True)
class DemoLogins:
    admin_username: str
    admin_password: str
    scanner_username: str
    scanner_api_key: str | None


async def load_demo(services: Services) -> DemoLogins | None:
    """Fill an empty database with a demo kitchen; None if it held anything."""
    if await services.users.count():
        return None
    admin = await services.users.create_first_admin(*DEMO_ADMIN)
    actor = actor_of(admin, "ui")
    if (await services.locations.list(actor)).total:
        return None
    scanner = await services.users.create({"username": DEMO_SCANNER, "role": "Scanner"}, actor)
    places = {}
    for name, storage_type, details in LOCATIONS:
        location = await services.locations.create(
            {"name": name, "storage_type": storage_type, "details": details}, actor
        )
        places[name] = location.id
    for name, upc, storage_type, where, quantity in ITEMS:
        item = await services.items.create(
            {"name": name, "upc": upc, "storage_type": storage_type}, actor
        )
        sku = await services.skus.create(
            {"item_id": item.id, "location_id": places[where], "quantity": quantity}, actor
        )
        if name in DATED:
            day = date.today() + timedelta(days=DATED[name])
            await services.skus.date_units(sku.id, {"best_before": day.isoformat()}, actor)
        if name in MINIMUMS:
            await services.items.update(item.id, {"min_quantity": MINIMUMS[name]}, actor)
    return DemoLogins(admin.username, DEMO_ADMIN[1], scanner.username, scanner.api_key)


NOT_LOADED = (
    f"The database already holds a kitchen, so no demo data was loaded. The demo sign-in is "
    f"{DEMO_ADMIN[0]!r} with password {DEMO_ADMIN[1]!r} (unless changed). A scanner's API key is shown "
    f"only once: for a new one tap the scanner on the Users tab and 'New API key', or call "
    f"POST /api/v1/user/{{id}}/api-key. To start afresh, move the data directory away."
)


def describe(logins: DemoLogins | None, host: str | None = None) -> str:
    """What to sign in with after a ``--demo`` start (and how, on a later
    one), and who can reach it when it listens on ``host``."""
    text = NOT_LOADED if logins is None else (
        f"Demo kitchen loaded. Sign in as {logins.admin_username!r} "
        f"with password {logins.admin_password!r}.\n"
        f"Demo scanner {logins.scanner_username!r} has the API key: {logins.scanner_api_key}"
    )
    if host in ("127.0.0.1", "::1", "localhost"):
        text += ("\nThe demo answers on this machine only (its password is public): "
                 "add --host 0.0.0.0 to try it from a phone on your network.")
    return text


async def _main() -> None:
    async with open_services(Settings()) as services:
        logins = await load_demo(services)
    print(describe(logins))


def run(_args: object = None) -> None:
    asyncio.run(_main())


if __name__ == "__main__":
    from stocky.cli import main

    main(["demo-data"])
