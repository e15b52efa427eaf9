"""A phone on Stocky's network, for tests/integration/test_mdns.py: run with
``ip netns exec`` inside the test's own network namespace, never on a real
network.

It browses ``_https._tcp`` and ``_http._tcp`` with python-zeroconf, as a
phone's browser for services does, and reports each step as one JSON line on
stdout; each step has a deadline, so the script always ends by itself.

1. ``ready``: with ``--rival``, another device's "Stocky" (an ``_http._tcp``
   service of ``phone.local``) is announced first.
2. ``found``: both of the box's services (any not served by ``phone.local``),
   resolved: name, port, server, addresses, TXT.
3. ``health``: the box's ``.local`` name resolved over mDNS, and ``/health``
   fetched over HTTPS at that address trusting only ``--ca``, with the name as
   SNI and Host.
4. with ``--moved-to``: ``moved`` when both services name only that address,
   then ``health`` again.
5. ``gone``: the browser saw both services removed (Stocky's goodbyes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from zeroconf import AddressResolver, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

TYPES = ("_https._tcp.local.", "_http._tcp.local.")
RIVAL_SERVER = "phone.local."
STEP_WITHIN = 30.0  # seconds any one step may take
T = TypeVar("T")


def say(step: str, **details: object) -> None:
    print(json.dumps({"step": step, **details}), flush=True)


def fetch_health(address: str, port: int, name: str, ca: str) -> dict[str, object]:
    context = ssl.create_default_context(cafile=ca)
    with socket.create_connection((address, port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=name) as tls:
        tls.sendall(f"GET /health HTTP/1.1\r\nHost: {name}:{port}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return {"address": address, "status": int(head.split()[1]), "body": body.decode()}


class Phone:
    def __init__(self, zeroconf: AsyncZeroconf) -> None:
        self.zeroconf = zeroconf
        self.seen: dict[tuple[str, str], ServiceStateChange] = {}  # (type, name): last change
        self.browser = AsyncServiceBrowser(zeroconf.zeroconf, list(TYPES), handlers=[self.on_change])

    def on_change(self, zeroconf: object, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        self.seen[(service_type, name)] = state_change

    async def resolve(self, kind: str, name: str) -> dict[str, object] | None:
        info = AsyncServiceInfo(kind, name)
        if not await info.async_request(self.zeroconf.zeroconf, 1500) or info.server == RIVAL_SERVER:
            return None
        return {"name": info.get_name(), "port": info.port, "server": info.server,
                "addresses": info.parsed_addresses(), "txt": info.decoded_properties}

    async def box_services(self) -> dict[str, dict[str, object]]:
        """The box's service of each type, as the network describes it now."""
        found = {}
        for (kind, name), change in list(self.seen.items()):
            if (change is not ServiceStateChange.Removed and kind not in found
                    and (described := await self.resolve(kind, name))):
                found[kind] = described
        return found

    async def health(self, server: str, port: int, ca: str) -> dict[str, object]:
        resolver = AddressResolver(server)  # what a phone does to open https://<box>.local/
        if not await resolver.async_request(self.zeroconf.zeroconf, 3000):
            raise LookupError(f"{server} did not resolve")
        address = resolver.parsed_addresses()[0]
        return await asyncio.to_thread(fetch_health, address, port, server.rstrip("."), ca)


async def until(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    deadline = time.monotonic() + STEP_WITHIN
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.3)
    say("timeout", waiting_for=what)
    sys.exit(1)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ca", required=True)
    parser.add_argument("--rival", help="announce another 'Stocky' at this address first")
    parser.add_argument("--moved-to")
    args = parser.parse_args()
    zeroconf = AsyncZeroconf()
    try:
        if args.rival:
            rival = AsyncServiceInfo("_http._tcp.local.", "Stocky._http._tcp.local.", port=9,
                                     server=RIVAL_SERVER, parsed_addresses=[args.rival])
            await (await zeroconf.async_register_service(rival))
        say("ready")
        phone = Phone(zeroconf)

        async def both() -> dict[str, dict[str, object]] | None:
            found = await phone.box_services()
            return found if len(found) == len(TYPES) else None

        found = await until(both, "both services")
        say("found", services=found)
        https = found["_https._tcp.local."]
        say("health", **await phone.health(https["server"], https["port"], args.ca))
        if args.moved_to:
            async def moved() -> dict[str, dict[str, object]] | None:
                found = await phone.box_services()
                at = [service["addresses"] for service in found.values()]
                return found if at == [[args.moved_to]] * len(TYPES) else None

            say("moved", services=await until(moved, f"both services at {args.moved_to} only"))
            say("health", **await phone.health(https["server"], https["port"], args.ca))

        names = [(kind, f"{service['name']}.{kind}") for kind, service in found.items()]

        async def gone() -> list[str] | None:
            removed = [name for kind, name in names if phone.seen.get((kind, name)) is ServiceStateChange.Removed]
            return removed if len(removed) == len(names) else None

        say("gone", names=sorted(await until(gone, "goodbyes")))
    finally:
        await zeroconf.async_close()


if __name__ == "__main__":
    asyncio.run(main())
