"""Barcode rules: what a scanned code may be, and when two codes are the same product."""

from __future__ import annotations

from stocky.core.errors import InvalidInput
from stocky.core.security import looks_like_api_key

MAX_BARCODE_LENGTH = 48


def normalize_barcode(raw: str, field: str = "upc") -> str:
    """Trim, check, and fold UPC-A into EAN-13.

    A 12-digit UPC-A and the same code with a leading 0 as EAN-13 are one
    product; Stocky keeps the 13-digit form. An API key, or a piece of one,
    is no barcode: kept as one it would be shown to everyone and sent to the
    product service.
    """
    code = raw.strip()
    if not 1 <= len(code) <= MAX_BARCODE_LENGTH or not code.isprintable():
        raise InvalidInput(
            f"A barcode is 1 to {MAX_BARCODE_LENGTH} printable characters.",
            [{"field": field, "message": f"1 to {MAX_BARCODE_LENGTH} printable characters"}],
        )
    if looks_like_api_key(code):
        raise InvalidInput("That is an API key, not a barcode.", [{"field": field, "message": "an API key"}])
    if len(code) == 12 and code.isascii() and code.isdigit():
        return "0" + code
    return code
