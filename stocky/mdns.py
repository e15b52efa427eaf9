"""Stocky found by name: DNS-SD over mDNS (DESIGN.md section 16).

Stocky announces itself on the home network as "Stocky", an ``_https._tcp``
service (when HTTPS is on) and an ``_http._tcp`` one, served by
``<hostname>.local`` at the box's current addresses. So a phone opens
``https://<hostname>.local:8443/`` without anyone knowing the box's address,
and a browser for services lists it. python-zeroconf is the responder: it
probes for the name first and, when another device holds "Stocky", takes
"Stocky-2"; it answers queries and says goodbye at the end. Avahi on the same
box can run beside it (both share port 5353).

``STOCKY_MDNS=false`` turns it off. A network where it cannot announce costs
one WARNING, never a start; it tries again at every look at the addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import ipaddress
import logging
from typing import TYPE_CHECKING

from stocky.https import Https

if TYPE_CHECKING:
    from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

log = logging.getLogger("stocky.mdns")

NAME = "Stocky"
# How often the box's addresses are looked at: a box that booted before its
# Wi-Fi came up, or got a new address from the router, is found again within
# this many seconds. Reading them costs a fraction of a millisecond.
LOOK_EVERY = 10.0
GOODBYE_WITHIN = 5.0  # seconds the goodbyes may take at shutdown
WILDCARD = ("0.0.0.0", "::", "")


class Announcer:
    """Announces Stocky while it runs; ``stop`` says goodbye."""

    def __init__(self, https: Https, http_port: int, host: str) -> None:
        self.https = https
        self.http_port = http_port
        self.host = host  # the listening host: only its addresses are announced
        self.infos: list[AsyncServiceInfo] = []
        self._zeroconf: AsyncZeroconf | None = None
        self._task: asyncio.Task[None] | None = None
        self._warned = False

    async def start(self) -> None:
        # Probing for the name takes a second or two: Stocky does not wait.
        self._task = asyncio.get_running_loop().create_task(self._keep())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close()

    def addresses(self) -> tuple[str, ...]:
        """The box's addresses a phone can reach Stocky at, IPv4 first."""
        import ifaddr

        found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
        for adapter in ifaddr.get_adapters():
            for ip in adapter.ips:
                address = ipaddress.ip_address(ip.ip if isinstance(ip.ip, str) else ip.ip[0])
                # A link-local IPv6 address means nothing without its interface.
                if address.is_loopback or (address.version == 6 and address.is_link_local):
                    continue
                if self.host in WILDCARD or str(address) == self.host:
                    found.append(address)
        return tuple(str(address) for address in sorted(set(found), key=lambda a: (a.version, a)))

    async def _keep(self) -> None:
        # zeroconf takes ~70 ms to import (longer on a Pi): on a thread, so
        # neither the start nor the event loop waits for it.
        await asyncio.to_thread(importlib.import_module, "zeroconf.asyncio")
        announced: tuple[str, ...] = ()
        while True:
            try:
                addresses = self.addresses()
                if addresses != announced:
                    await self._announce(addresses)
                    announced, self._warned = addresses, False
            except Exception as error:  # port 5353 held, an address gone meanwhile: Stocky serves on
                await self._close()
                announced = ()  # tried again at the next look
                if not self._warned:
                    log.warning("Stocky is not announced on the local network (mDNS): %s; "
                                "phones reach it by its address instead", str(error) or type(error).__name__)
                self._warned = True
            await asyncio.sleep(LOOK_EVERY)

    async def _announce(self, addresses: tuple[str, ...]) -> None:
        # The replies go out over IPv4, the local network's mDNS everywhere;
        # they name the IPv6 addresses too.
        interfaces = [address for address in addresses if ipaddress.ip_address(address).version == 4]
        if not interfaces:
            await self._close()
            log.debug("No address to announce Stocky at")
            return
        if self._zeroconf is None:
            await self._open(interfaces, addresses)
        else:
            # A new address: the same names, now answering there. The
            # addresses change first: zeroconf announces again on a new
            # interface, and an old address announced then would stay in the
            # phones' caches (they drop only records older than a second).
            for info in self.infos:
                info.addresses = list(addresses)
            await self._zeroconf.zeroconf.async_update_interfaces(interfaces)
            for info in self.infos:
                await (await self._zeroconf.async_update_service(info))
        log.info("Stocky is announced on the local network as %s at %s (%s)",
                 ", ".join(sorted({f'"{info.get_name()}"' for info in self.infos})),
                 self.https.host, ", ".join(addresses))

    async def _open(self, interfaces: list[str], addresses: tuple[str, ...]) -> None:
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

        zeroconf = self._zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        services = []
        if self.https.port:
            text = {"path": "/"}
            if self.https.fingerprint:  # Stocky's own CA: what to compare before trusting it
                text["ca_sha256"] = self.https.fingerprint
            services.append(("_https._tcp.local.", self.https.port, text))
        services.append(("_http._tcp.local.", self.http_port, {"path": "/"}))
        self.infos = [
            AsyncServiceInfo(kind, f"{NAME}.{kind}", port=port, properties=text,
                             server=f"{self.https.host}.", parsed_addresses=list(addresses))
            for kind, port, text in services
        ]

        async def register(info: AsyncServiceInfo) -> None:
            # Another "Stocky" on the network: zeroconf takes "Stocky-2".
            await (await zeroconf.async_register_service(info, allow_name_change=True))

        await asyncio.gather(*(register(info) for info in self.infos))

    async def _close(self) -> None:
        """Goodbye for every name announced, so phones forget it at once."""
        zeroconf, self._zeroconf, self.infos = self._zeroconf, None, []
        if zeroconf is not None:
            try:
                await asyncio.wait_for(zeroconf.async_close(), GOODBYE_WITHIN)
            except Exception:  # a network already gone: nobody to tell
                log.debug("mDNS goodbye failed", exc_info=True)
