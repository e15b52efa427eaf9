"""Console logging for the long-running commands (journald reads stderr)."""

from __future__ import annotations

import logging
import sys

from stocky.core.security import mask_api_keys


class MaskKeys(logging.Filter):
    """No API key, nor a piece of one, reaches the journal."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if (masked := mask_api_keys(message)) != message:
            record.msg, record.args = masked, None
        return True


def configure_console(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskKeys())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("stocky").setLevel(min(logging.getLevelName(level), logging.INFO))
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
