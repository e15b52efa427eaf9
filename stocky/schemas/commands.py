"""The commands a scanned QR code can carry (DESIGN.md section 4)."""

from __future__ import annotations

import json
from datetime import date
from typing import Literal, Self

from pydantic import model_validator

from stocky.core.dates import resolve
from stocky.core.digits import parse_uuid
from stocky.schemas.common import Input

VIEWS = ("inventory", "locations", "scanners", "log", "users", "shopping", "use_soon")
MODES = ("add", "remove")

CommandName = Literal["associate_ui", "show_view", "set_mode", "set_location", "best_before", "undo"]


class ScanCommand(Input):
    command: CommandName
    payload: str = ""  # "undo" takes none

    @model_validator(mode="after")
    def _payload_fits(self) -> Self:
        if self.command in ("associate_ui", "set_location"):
            try:
                self.payload = str(parse_uuid(self.payload))
            except ValueError:
                raise ValueError(f"{self.command} needs an id as payload") from None
        elif self.command == "show_view" and self.payload not in VIEWS:
            raise ValueError(f"show_view takes one of: {', '.join(VIEWS)}")
        elif self.command == "undo" and self.payload:
            raise ValueError("undo takes no payload")
        elif self.command == "set_mode" and self.payload not in MODES:
            raise ValueError(f"set_mode takes one of: {', '.join(MODES)}")
        elif self.command == "best_before":
            self.payload = self.payload.strip()
            self.best_before_from(date.today())  # refuses what is not a date
        return self

    def best_before_from(self, today: date) -> date:
        """The date a ``best_before`` card means, counted from ``today``."""
        try:
            return resolve(self.payload, today)
        except ValueError as error:
            raise ValueError(f"best_before takes +<n>d, +<n>w, +<n>m or YYYY-MM-DD ({error})") from None

    def encode(self) -> str:
        """The text a QR code holds: compact JSON, as a scanner types it back."""
        fields = {"command": self.command, "payload": self.payload} if self.payload else {"command": self.command}
        return json.dumps(fields, separators=(",", ":"))
