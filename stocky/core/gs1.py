"""GS1 element strings: the GTIN and the dates a GS1 DataMatrix, GS1 QR
Code or GS1-128 barcode carries (GS1 General Specifications, section 3
"GS1 Application Identifier definitions" and section 7.8 "Processing of data
from a GS1 symbology using GS1 Application Identifiers").

A scanner hands the element string on in one of three forms:

- with its symbology identifier (ISO/IEC 15424, GenSpecs 5.1.2 and 5.4.4):
  ``]d2`` GS1 DataMatrix, ``]C1`` GS1-128, ``]Q3`` GS1 QR Code, ``]e0`` GS1
  DataBar; variable-length fields end at the group separator (GS, 0x1D,
  the FNC1 a scanner transmits) or at the end;
- the same without the identifier, when it starts with AI ``01`` and a
  GTIN-14 whose check digit holds (most scanners are set up so);
- the human-readable interpretation with parentheses, ``(01)...(17)...``
  (GenSpecs 4.15), as typed by a person or sent by some scanner apps.

``parse`` returns None for anything else (a plain EAN-13 stays a barcode).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import NoReturn

from stocky.core.digits import is_digits
from stocky.core.errors import InvalidInput

GS = "\x1d"
SYMBOLOGY_PREFIXES = ("]d2", "]C1", "]Q3", "]e0")

# GenSpecs 7.8 "element strings with predefined length": the length of AI
# plus data, by the AI's first two digits. Everything else is variable
# length, ended by GS.
PREDEFINED_LENGTH = {
    "00": 20, "01": 16, "02": 16, "03": 16, "04": 18,
    "11": 8, "12": 8, "13": 8, "14": 8, "15": 8, "16": 8, "17": 8, "18": 8, "19": 8,
    "20": 4, "31": 10, "32": 10, "33": 10, "34": 10, "35": 10, "36": 10, "41": 16,
}
# How many digits the AI itself has, by its first two digits (GenSpecs 3.2,
# the AI table). Two-digit AIs are the default.
_AI_DIGITS = {
    **{f"{n}": 3 for n in ("23", "24", "25", "40", "41", "42")},
    **{f"{n}": 4 for n in ("31", "32", "33", "34", "35", "36", "39", "43", "70", "71", "72", "80", "81", "82")},
}
_PARENTHESISED = re.compile(r"\(([0-9]{2,4})\)([^()]*)")


@dataclass(frozen=True)
class Gs1:
    gtin: str  # AI 01, 14 digits
    use_by: date | None = None  # AI 17
    best_before: date | None = None  # AI 15
    batch: str | None = None  # AI 10

    @property
    def product_code(self) -> str:
        """The barcode Stocky keeps for the product: a GTIN-14 with a leading
        0 is the EAN-13 on the pack (and a UPC-A is that with another 0, as
        Stocky stores it); any other GTIN-14 (a case, indicator 1-8) stays."""
        return self.gtin[1:] if self.gtin.startswith("0") else self.gtin

    @property
    def date(self) -> date | None:
        """The date the unit is kept by: the use-by date (AI 17, the one that
        matters for safety) when there is one, else the best-before (AI 15)."""
        return self.use_by or self.best_before


def looks_like(text: str) -> bool:
    """Whether ``text`` is meant as a GS1 element string (cheap: every scan asks)."""
    if text.startswith(SYMBOLOGY_PREFIXES) or text.startswith("(01)"):
        return True
    return len(text) >= 16 and text.startswith("01") and is_digits(text[2:16]) and gtin_valid(text[2:16])


def gtin_valid(digits: str) -> bool:
    """The GS1 check digit (GenSpecs 7.9.1): weights 3 and 1 from the right."""
    if not is_digits(digits):
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def parse(text: str, field: str = "msg") -> Gs1 | None:
    """The element string in ``text``, or None if it is not one. Raises
    ``InvalidInput`` (422) for a GS1 string that is broken: a bad check
    digit, an impossible date, a truncated field, an unknown AI."""
    if not looks_like(text):
        return None
    fields = _parenthesised(text, field) if text.startswith("(") else _elements(text, field)
    gtin = fields.get("01")
    if gtin is None:
        _refuse("The GS1 code carries no GTIN (AI 01).", field)
    if not (len(gtin) == 14 and is_digits(gtin)):
        _refuse(f"The GTIN {gtin!r} in the GS1 code is not 14 digits 0-9.", field)
    if not gtin_valid(gtin):
        _refuse(f"The GTIN {gtin} in the GS1 code has a wrong check digit.", field)
    return Gs1(
        gtin=gtin,
        use_by=_date(fields["17"], "17", field) if "17" in fields else None,
        best_before=_date(fields["15"], "15", field) if "15" in fields else None,
        batch=fields.get("10"),
    )


def _elements(text: str, field: str) -> dict[str, str]:
    for prefix in SYMBOLOGY_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    fields: dict[str, str] = {}
    position = 0
    while position < len(text):
        if text[position] == GS:  # a separator after a fixed-length field is allowed
            position += 1
            continue
        head = text[position:position + 2]
        if not is_digits(head):
            _refuse(f"The GS1 code has no application identifier at {text[position:position + 8]!r}.", field)
        if head in PREDEFINED_LENGTH:
            end = position + PREDEFINED_LENGTH[head]
            if end > len(text):
                _refuse(f"The GS1 code ends inside its field {head}.", field)
            ai_digits = _AI_DIGITS.get(head, 2)
            fields[text[position:position + ai_digits]] = text[position + ai_digits:end]
        else:
            ai_digits = _AI_DIGITS.get(head, 2)
            end = text.find(GS, position)
            end = len(text) if end < 0 else end
            fields[text[position:position + ai_digits]] = text[position + ai_digits:end]
        position = end
    return fields


def _parenthesised(text: str, field: str) -> dict[str, str]:
    found = _PARENTHESISED.findall(text)
    if "".join(f"({ai}){value}" for ai, value in found) != text:
        _refuse("The GS1 code in parentheses is not well formed.", field)
    return dict(found)


def _date(value: str, ai: str, field: str) -> date:
    """YYMMDD (GenSpecs 7.12): the century is the one that puts the year
    from 49 years back to 50 years ahead of today; day 00 is the month's
    last day (3.4.4, 3.4.5)."""
    if not (len(value) == 6 and is_digits(value)):
        _refuse(f"AI {ai} needs a date as YYMMDD, not {value!r}.", field)
    yy, month, day = int(value[:2]), int(value[2:4]), int(value[4:])
    this_year = date.today().year
    difference = yy - this_year % 100
    century = this_year // 100 + (1 if difference <= -50 else -1 if difference >= 51 else 0)
    year = century * 100 + yy
    if not 1 <= month <= 12:
        _refuse(f"AI {ai} has the date {value}: there is no month {month}.", field)
    last = calendar.monthrange(year, month)[1]
    if day == 0:
        day = last
    if day > last:
        _refuse(f"AI {ai} has the date {value}: {year}-{month:02d} has no day {day}.", field)
    return date(year, month, day)


def _refuse(message: str, field: str) -> NoReturn:
    raise InvalidInput(message, [{"field": field, "message": message}])
