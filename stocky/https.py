"""Stocky's HTTPS beside its HTTP: which certificate it serves, and keeping
Stocky's own one current while it runs (a new address from the router, a
certificate near its end) without a restart.

``Https`` is what the pages and screens that help a phone connect need to
know: the port, the names, and the fingerprint a person compares.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from stocky.core.settings import Settings
from stocky.core.tls import BoxCertificate, box_names, ensure_box_certificate, load, server_context

log = logging.getLogger("stocky.https")

CHECK_EVERY = 10 * 60.0  # seconds between looks at the box's names and the certificate's end


@dataclass
class Https:
    port: int | None = None  # None: no HTTPS
    ca: Path | None = None  # Stocky's own CA, for /ca.pem; None with a certificate from elsewhere
    fingerprint: str | None = None  # the CA's SHA-256
    names: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        """The name a phone opens: the box's ``.local`` name, found over mDNS."""
        return f"{socket.gethostname()}.local"

    def address(self, host: str | None = None) -> str | None:
        if self.port is None:
            return None
        port = "" if self.port == 443 else f":{self.port}"
        return f"https://{host or self.host}{port}/"


class CertificateKeeper:
    """Stocky's own certificate, made at the first start and kept current."""

    def __init__(self, settings: Settings, https: Https) -> None:
        self.directory = settings.data_dir / "tls"
        self.https = https
        self.context: ssl.SSLContext | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> ssl.SSLContext:
        box = await asyncio.to_thread(ensure_box_certificate, self.directory, box_names())
        self.context = server_context(box.cert, box.key)
        self._remember(box)
        if box.made:
            log.info("Made Stocky's HTTPS certificate for %s", ", ".join(box.names))
        self._task = asyncio.get_running_loop().create_task(self._keep())
        return self.context

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def renew_now(self) -> BoxCertificate:
        """Look at the box's names and the certificate's end; a new
        certificate serves the next connections at once."""
        box = await asyncio.to_thread(ensure_box_certificate, self.directory, box_names())
        if box.made and self.context is not None:
            await asyncio.to_thread(load, self.context, box.cert, box.key)
            log.info("Renewed Stocky's HTTPS certificate for %s", ", ".join(box.names))
        self._remember(box)
        return box

    def _remember(self, box: BoxCertificate) -> None:
        self.https.ca, self.https.fingerprint, self.https.names = box.ca, box.fingerprint, box.names

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(CHECK_EVERY)
            try:
                await self.renew_now()
            except Exception:  # a full disk, say: the old certificate serves on
                log.exception("Could not renew Stocky's HTTPS certificate")


def other_certificate(settings: Settings, https: Https) -> ssl.SSLContext:
    """``STOCKY_TLS_CERT`` and ``STOCKY_TLS_KEY``: a certificate from elsewhere."""
    assert settings.tls_cert is not None and settings.tls_key is not None
    https.ca, https.fingerprint = None, None
    return server_context(settings.tls_cert, settings.tls_key)
