"""The aiohttp front door: REST under ``/api/v1``, the docs, ``/health``."""

from stocky.api.app import create_app

__all__ = ["create_app"]
