"""Outgoing URLs an admin gives us (webhook endpoints, modules' targets) must not reach inside our
network: a request from our servers to 127.0.0.1, 169.254.169.254 (cloud metadata) or 10.x would
let anyone who can save a URL probe or call internal services (SSRF).

The host is resolved and *every* address checked (a name with one public and one private address
is refused), when saved and again before each request; the request then goes to the address that
was checked (`pinned`), so a DNS answer that changes in between (rebinding) cannot slip through.
An admin may allow private addresses per endpoint, or the WEBHOOK_ALLOW_PRIVATE_URLS setting for
all (a closed network where the receivers are internal)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from core.settings import get_settings
from resolvers.errors import BadInput

MAX_URL = 2000
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(BadInput):
    """The URL is malformed or reaches a private, loopback, link-local or otherwise special address."""


@dataclass(frozen=True)
class Target:
    url: str  # as given
    host: str  # the name, for the Host header and TLS (SNI and certificate check)
    address: Address  # the checked address the request goes to

    def pinned(self) -> str:
        """The URL with the checked address in place of the name."""
        parts = urlsplit(self.url)
        ip = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = ip if parts.port is None else f"{ip}:{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def private_allowed_everywhere() -> bool:
    return get_settings().webhook_allow_private_urls


def forbidden_reason(address: Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    checks = (  # the most telling name first: 127.0.0.1 is also "private" to the ipaddress module
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def parse(url: str, field: str = "url") -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL without credentials, or UnsafeUrl."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise UnsafeUrl(f"the URL must be 1 to {MAX_URL} characters", field=field)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"not a valid URL ({exc})", field=field) from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("the URL must start with https:// or http://", field=field)
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host", field=field)
    if parts.username or parts.password:
        raise UnsafeUrl("the URL must not carry credentials", field=field)
    if parts.fragment:
        raise UnsafeUrl("the URL must not have a #fragment", field=field)
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeUrl(f"the host {host!r} does not resolve ({exc})", field="url") from None
    # An address may carry a zone (fe80::1%eth0): the zone does not change what it reaches.
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


async def check(url: str, *, allow_private: bool = False, field: str = "url") -> Target:
    """The URL's target, every address of its host checked; raises UnsafeUrl."""
    _, host, port = parse(url, field)
    addresses = await resolve(host, port)
    if not addresses:
        raise UnsafeUrl(f"the host {host!r} has no address", field=field)
    if not (allow_private or private_allowed_everywhere()):
        for address in addresses:
            reason = forbidden_reason(address)
            if reason is not None:
                raise UnsafeUrl(
                    f"the URL reaches {address}, a {reason} address; outgoing requests go to public "
                    "addresses only unless an admin allows private ones for this endpoint",
                    field=field,
                    address=str(address),
                )
    return Target(url=url.strip(), host=host, address=addresses[0])
