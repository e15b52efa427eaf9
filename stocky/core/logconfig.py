"""Console logging for the long-running commands (journald reads stderr)."""

from __future__ import annotations

import logging
import sys


def configure_console(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("stocky").setLevel(min(logging.getLevelName(level), logging.INFO))
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
