"""Files the touch UI loads at run time (style sheet, icons)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def path(name: str) -> Path:
    return ROOT / name
