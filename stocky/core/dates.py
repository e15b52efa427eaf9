"""Best-before dates as people and date cards give them."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

# [0-9], not \d: \d also matches "３" and "٣", and a date card is written in 0-9.
_RELATIVE = re.compile(r"\+([0-9]{1,3})([dwm])")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day (31 January
    plus one month is 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def resolve(payload: str, today: date) -> date:
    """``+3d``, ``+2w``, ``+1m`` from ``today``, or an ISO date ``YYYY-MM-DD``.
    Raises ``ValueError`` for anything else."""
    if match := _RELATIVE.fullmatch(payload.strip()):
        count, unit = int(match[1]), match[2]
        if unit == "m":
            return add_months(today, count)
        return today + timedelta(days=count * (7 if unit == "w" else 1))
    if not _ISO_DATE.fullmatch(payload.strip()):
        raise ValueError(f"{payload.strip()[:20]!r} is none of them")
    return date.fromisoformat(payload.strip())


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def spoken(day: date) -> str:
    """``day`` as people write it in a sentence: "2 Dec 2026" (the same in
    every locale, so logs and alerts read alike everywhere)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
