"""Names, messages and log lines come from people and scanners: every label
on every screen draws them as plain text, never as markup (DESIGN section
15). A label made without the one helper (``widgets.common.label``) is
left to Qt's guessing and fails here."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from stocky.schemas.actor import SYSTEM
from stocky_touch.render import tour
from tests.touch.conftest import as_admin
from tests.touch.test_real_input import MARKUP_NAME, SHOUTING_ALERT


def test_every_label_on_every_screen_is_plain_text(kiosk_factory, loop):
    kiosk = kiosk_factory()
    window, services = kiosk.window, kiosk.runtime.services
    as_admin(kiosk, loop)  # every tab
    guessing: dict[str, list[str]] = {}

    async def visit(name: str) -> None:
        labels = [label for label in window.findChildren(QLabel) if label.textFormat() != Qt.TextFormat.PlainText]
        if labels:
            guessing[name] = [label.text() for label in labels]

    async def scenario():
        await services.alerts.create({"severity": "Warning", "message": SHOUTING_ALERT}, SYSTEM)
        await services.items.create({"name": MARKUP_NAME}, SYSTEM)
        logging.getLogger("stocky.scan").warning("Scanned %s", MARKUP_NAME)
        await tour(window, visit)

    loop.run_until_complete(scenario())
    assert not guessing, "\n".join(f"{name}: {texts}" for name, texts in guessing.items())
