"""Numbers and ids in client text: ASCII only.

Python is generous with digits: ``str.isdigit()`` is true for superscripts
("³", which ``int()`` then refuses with a ValueError nobody expected), and
``int()``, ``float()`` and ``uuid.UUID()`` read Arabic-Indic ("٣"),
Devanagari ("३") and fullwidth ("３") digits, and ``int()`` underscores
("1_000"). A barcode, a GS1 field, a date, a count or an id that a client
sends is made of 0-9 (and a-f, for an id) or it is not one: every parser of
client text asks here.
"""

from __future__ import annotations

import uuid


def is_digits(text: str) -> bool:
    """``text`` is one or more of 0-9 and nothing else (no sign, space or ``_``)."""
    return text.isascii() and text.isdigit()


def parse_int(text: str) -> int:
    """``text`` as a whole number of digits 0-9; ``ValueError`` otherwise."""
    if not is_digits(text):
        raise ValueError(f"{text[:20]!r} is not a number written with the digits 0-9")
    return int(text)


def parse_uuid(text: str) -> uuid.UUID:
    """``text`` as an id written in ASCII; ``ValueError`` otherwise."""
    if not text.isascii():
        raise ValueError(f"{text[:40]!r} is not an id")
    return uuid.UUID(text)
