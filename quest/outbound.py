"""Where the app may send requests of its own: only to the forums in FORUM_HOSTS.

Fetching a thread by URL takes a URL a person typed, so without a check it
could reach the machine's own services or the private network behind it.
`check_outbound_url` is the one gate every such request goes through:

1. The URL is http or https, with no credentials and no characters that URL
   parsers disagree about (spaces, control characters, backslashes).
2. Its host is listed in FORUM_HOSTS: `host` (the scheme's default port only)
   or `host:port`; a host is a name or an IP address (`[v6]` in brackets).
3. Every address the host resolves to is public, unless that address is itself
   listed: `FORUM_HOSTS=forum.lan,10.0.0.7` lets `forum.lan` resolve to 10.0.0.7.

The caller connects to one of the returned addresses, not to the name again,
so a second DNS answer cannot point the request somewhere else.

Pure Python: resolution is a parameter, so tests need no network.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")

type Address = ipaddress.IPv4Address | ipaddress.IPv6Address
type Resolver = Callable[[str, int], Iterable[str]]


class OutboundRefused(ValueError):
    """The URL may not be fetched; the message says why, for the person who gave it."""


@dataclass(frozen=True)
class HostEntry:
    host: str  # lower-case ASCII name, or an IP address in its compressed form
    port: int | None  # None: the URL scheme's default port


@dataclass(frozen=True)
class OutboundTarget:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]  # connect to one of these


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host` (what a connection would use)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # sockaddr[0] is the address as text for IPv4 and IPv6 (an int only for AF_CAN etc.).
    return [str(info[4][0]) for info in infos]


def parse_host_entries(entries: Iterable[str]) -> list[HostEntry]:
    """FORUM_HOSTS entries as HostEntry; ValueError naming the first malformed one."""
    parsed = []
    for entry in entries:
        parts = urlsplit("//" + entry.strip())
        try:
            host, port = _normal_host(parts.hostname or ""), parts.port
        except ValueError:
            host, port = "", None
        if not host or parts.path or parts.query or parts.fragment or parts.username:
            raise ValueError(f"{entry!r} is not a host name, an IP address, or either with :port")
        parsed.append(HostEntry(host, port))
    return parsed


def check_outbound_url(
    url: str, *, allowed_hosts: Iterable[str], resolve: Resolver = resolve_host
) -> OutboundTarget:
    """Where to connect for `url`, or OutboundRefused saying why it may not be fetched."""
    scheme, host, port = _split(url)
    entries = parse_host_entries(allowed_hosts)
    if not any(e.host == host and (e.port or DEFAULT_PORTS[scheme]) == port for e in entries):
        raise OutboundRefused(
            f"{_shown(host, port, scheme)} is not one of the forums in FORUM_HOSTS."
        )
    listed = {_address(e.host) for e in entries} - {None}
    try:
        found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host, port)]
    except (OSError, UnicodeError, ValueError) as e:
        raise OutboundRefused(f"{host} could not be resolved ({e}).") from None
    if not found:
        raise OutboundRefused(f"{host} could not be resolved.")
    for address in found:
        if not _is_public(address) and _unmapped(address) not in listed:
            raise OutboundRefused(
                f"{host} resolves to {address}, a private, loopback or reserved address; "
                "list that address in FORUM_HOSTS to allow it."
            )
    return OutboundTarget(url, scheme, host, port, tuple(str(a) for a in found))


def _split(url: str) -> tuple[str, str, int]:
    if _UNSAFE.search(url):
        raise OutboundRefused("The URL contains spaces, control characters or backslashes.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise OutboundRefused("Only http and https URLs can be fetched.")
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused("The URL may not contain a user name or password.")
    try:
        host, port = _normal_host(parts.hostname or ""), parts.port
    except ValueError:
        raise OutboundRefused("The URL's host or port cannot be read.") from None
    if not host:
        raise OutboundRefused("The URL names no host.")
    return scheme, host, port or DEFAULT_PORTS[scheme]


def _normal_host(host: str) -> str:
    """A host as one spelling: IP addresses compressed, names lower-case IDNA, no final dot."""
    address = _address(host)
    if address is not None:
        return str(address)
    name = host.rstrip(".").lower()
    return name.encode("idna").decode("ascii") if name else ""  # UnicodeError is a ValueError


def _address(host: str) -> Address | None:
    try:
        return _unmapped(ipaddress.ip_address(host))
    except ValueError:
        return None


def _unmapped(address: Address) -> Address:
    # ::ffff:127.0.0.1 is 127.0.0.1 to the network stack.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_public(address: Address) -> bool:
    address = _unmapped(address)
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _shown(host: str, port: int, scheme: str) -> str:
    name = f"[{host}]" if ":" in host else host
    return name if port == DEFAULT_PORTS[scheme] else f"{name}:{port}"
