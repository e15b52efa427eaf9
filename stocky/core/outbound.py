"""The one way Stocky asks another computer for something.

Product lookups (and whatever else fetches from outside: notifications,
imports) go through an ``OutboundClient``. Both what comes back and where it
points are untrusted, so:

- no redirect to another host (see ``MAX_REDIRECTS``);
- no loopback, private, link-local, multicast or unspecified address unless
  the configured address itself names a local host (an IP address,
  ``localhost``, a single-label name or a local suffix such as ``.lan``): a
  household may run its own service on its network, but a public name that
  leads inside is refused. The check is made on the addresses a name
  resolves to, and aiohttp connects to exactly those checked addresses, so
  the name cannot be re-pointed between check and connect;
- no proxy from the environment (it would resolve names where they cannot
  be checked);
- a size cap on every answer, read in chunks, never whole; JSON only where
  JSON is asked for;
- no secret in any message: every address named goes through ``mask_url``.

A request that gives no usable answer raises ``OutboundError``. Its
``reason`` completes "the service ..." and is safe to log and to show; the
caller reports it once, where it knows what the request was for (the lookup
worker as the item's alert). Refusals are never worth retrying.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import Collection, Mapping
from typing import Any, Self

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

# The package's version only: no other layer of Stocky is imported here.
from stocky import __version__
from stocky.core.security import mask_url

USER_AGENT = (
    f"Stocky/{__version__} (home kitchen inventory; https://github.com/stocky-kitchen/stocky)"
)
JSON = "application/json"
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 2_000_000
CHUNK_SIZE = 64 * 1024
# Parsing a big answer takes long enough to stall scans; do it off the loop.
PARSE_IN_THREAD_ABOVE = 256 * 1024
# A service may move a path or send http on to https on its own host, so a
# few redirects there are followed; more than that is a loop. Another host is
# never followed: the configured address is the only one Stocky trusts with
# its headers (keys) and with a view into the household's network.
MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Names that only mean something inside a home network: mDNS (RFC 6762),
# RFC 8375, ICANN's private-use TLD, and the usual router defaults.
LOCAL_SUFFIXES = (".local", ".home.arpa", ".internal", ".lan", ".home", ".localdomain", ".localhost")


class OutboundError(Exception):
    """No usable answer. ``reason`` completes "the service ..."; ``retry``
    says whether asking again may help; ``status`` is the HTTP status of an
    answer that was not a success."""

    def __init__(
        self,
        reason: str,
        *,
        retry: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.status = status
        self.retry_after = retry_after


# -- where a request may go --------------------------------------------------


def address_kind(address: str) -> str | None:
    """None for a public address; else what kind of non-public one it is."""
    try:
        ip = ipaddress.ip_address(address.partition("%")[0])  # without an IPv6 zone
    except ValueError:
        return "unreadable"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    kinds = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
    )
    for kind, matches in kinds:
        if matches:
            return kind
    return None if ip.is_global else "reserved"


def is_local_name(host: str) -> bool:
    """Whether ``host`` names a machine of the household's own network."""
    name = host.rstrip(".").lower()
    try:
        ipaddress.ip_address(name.strip("[]"))
        return True
    except ValueError:
        pass
    return name == "localhost" or "." not in name or name.endswith(LOCAL_SUFFIXES)


class GuardedResolver(AbstractResolver):
    """Resolves with ``names`` and refuses a public-looking name that leads to
    a non-public address. aiohttp connects to exactly the addresses returned
    here (an IP address in the URL never comes here: it is its own choice)."""

    def __init__(self, names: AbstractResolver) -> None:
        self.names = names

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.names.resolve(host, port, family)
        if not is_local_name(host):
            for entry in found:
                if kind := address_kind(entry["host"]):
                    raise OutboundError(
                        f"was not asked: {host} leads to {entry['host']}, a {kind} address, "
                        "which only a local name (such as pantry.lan) or an IP address may"
                    )
        return found

    async def close(self) -> None:
        await self.names.close()


def _same_host(was: URL, now: URL) -> bool:
    """Same host and port; http on to https is the one change allowed (never
    back: keys would then travel in the clear)."""
    if now.scheme not in ("http", "https") or (was.scheme, now.scheme) == ("https", "http"):
        return False
    if (now.host or "").lower() != (was.host or "").lower():
        return False
    return now.port == was.port or (now.is_default_port() and was.is_default_port())


def _redirect_target(url: URL, response: aiohttp.ClientResponse) -> URL:
    location = response.headers.get("Location")
    if not location:
        raise OutboundError(f"answered HTTP {response.status} without saying where to")
    try:
        target = url.join(URL(location))
    except ValueError:
        raise OutboundError("redirected to an address that cannot be read") from None
    if not _same_host(url, target):
        raise OutboundError(
            f"redirected to {mask_url(str(target))}, another host, which Stocky does not follow"
        )
    return target


# -- what came back ----------------------------------------------------------


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return None


def _check_status(response: aiohttp.ClientResponse) -> None:
    status = response.status
    if 200 <= status < 300:
        return
    if status >= 500 or status in (408, 429):
        raise OutboundError(
            f"answered with an error (HTTP {status})",
            retry=True,
            status=status,
            retry_after=_retry_after(response.headers),
        )
    raise OutboundError(f"refused the request (HTTP {status})", status=status)


def _type_matches(got: str, wanted: str) -> bool:
    # application/problem+json and the like are JSON too.
    return got == wanted or (wanted == JSON and got.startswith("application/") and got.endswith("+json"))


def _check_type(response: aiohttp.ClientResponse, wanted: Collection[str] | None) -> None:
    if wanted is None or any(_type_matches(response.content_type, kind) for kind in wanted):
        return
    raise OutboundError(f"sent {response.content_type} instead of {' or '.join(wanted)}")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    too_big = OutboundError(f"sent an answer larger than {_megabytes(max_bytes)}")
    if response.content_length is not None and response.content_length > max_bytes:
        response.close()
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(CHUNK_SIZE):
        size += len(chunk)
        if size > max_bytes:
            response.close()  # drop the connection instead of draining the rest
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


async def _parse_json(body: bytes) -> Any:
    try:
        if len(body) > PARSE_IN_THREAD_ABOVE:
            return await asyncio.to_thread(json.loads, body)
        return json.loads(body)
    except (ValueError, RecursionError):
        raise OutboundError("sent an answer that is not valid JSON") from None


# -- the client --------------------------------------------------------------


class OutboundClient:
    """One connection pool for requests to other computers, with the rules
    above. ``resolver`` answers names (aiohttp's default when None); the
    guard is put around it. Use ``async with`` or call ``close``."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        resolver: AbstractResolver | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.timeout = timeout
        self._names = resolver
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None
        self._resolver: GuardedResolver | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        resolver, self._resolver = self._resolver, None
        if resolver is not None and self._names is None:  # a given resolver is its owner's
            await resolver.close()

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # The default resolver needs the running loop: made here, not in __init__.
            self._resolver = self._resolver or GuardedResolver(self._names or DefaultResolver())
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=self._resolver),
                headers={"User-Agent": self._user_agent},
                trust_env=False,
            )
        return self._session

    async def get_json(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float | None = None,
    ) -> Any:
        """GET ``url`` and return its JSON (an object, a list, ...). Raises
        ``OutboundError``, with ``status`` set when the answer was an HTTP error."""
        body = await self.get_bytes(
            url,
            headers={"Accept": JSON, **(headers or {})},
            max_bytes=max_bytes,
            timeout=timeout,
            content_types=(JSON,),
        )
        return await _parse_json(body)

    async def get_bytes(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float | None = None,
        content_types: Collection[str] | None = None,
    ) -> bytes:
        """GET ``url`` and return its body, at most ``max_bytes`` of it, within
        ``timeout`` seconds in all (redirects and a body that trickles in
        included); ``content_types``, when given, are the media types accepted.
        Raises ``OutboundError``."""
        session = self._ensure_session()
        try:
            async with asyncio.timeout(timeout or self.timeout):
                return await self._follow(session, URL(url), headers, max_bytes, content_types)
        except OutboundError:
            raise
        except TimeoutError:
            raise OutboundError("did not answer", retry=True) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError):
            raise OutboundError("could not be reached", retry=True) from None
        except (aiohttp.InvalidURL, ValueError):
            # A URL yarl cannot parse: a setting to fix, not a service to retry.
            raise OutboundError("address is not a valid URL") from None
        except aiohttp.ClientError as error:
            raise OutboundError(f"could not be asked ({type(error).__name__})") from None

    async def _follow(
        self,
        session: aiohttp.ClientSession,
        url: URL,
        headers: Mapping[str, str] | None,
        max_bytes: int,
        content_types: Collection[str] | None,
    ) -> bytes:
        for _hop in range(MAX_REDIRECTS + 1):
            async with session.get(url, headers=headers, allow_redirects=False) as response:
                if response.status in REDIRECTS:
                    url = _redirect_target(url, response)
                    continue
                _check_status(response)
                _check_type(response, content_types)
                return await _read_capped(response, max_bytes)
        raise OutboundError(f"redirected more than {MAX_REDIRECTS} times")
