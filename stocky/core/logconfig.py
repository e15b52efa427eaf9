"""Console logging for the long-running commands (journald reads stderr)."""

from __future__ import annotations

import logging
import sys

from stocky.core.security import mask_api_keys


class KeysHidden(logging.Formatter):
    """No API key, nor a piece of one, reaches the journal: the whole line is
    masked once it is formatted, so the message, its arguments and the text
    of a traceback (an exception may quote what a client sent) are all covered."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_api_keys(super().format(record))


def configure_console(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(KeysHidden("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("stocky").setLevel(min(logging.getLevelName(level), logging.INFO))
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
