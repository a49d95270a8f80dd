"""The SSRF guard: a webhook may only reach public addresses, unless the admin's
allow-list (``SUPPORTDESK_WEBHOOK_ALLOW``) names the host or a network holding the
address.

- **Every address counts.** The host name is resolved (``getaddrinfo`` in a thread) and
  the target is refused if ANY address it resolves to is private, loopback, link-local
  (169.254.0.0/16 with the cloud metadata address 169.254.169.254, fe80::/10),
  unique-local (fc00::/7), multicast, reserved, unspecified or otherwise not global.
  IPv4 addresses hidden in IPv6 (``::ffff:10.0.0.1``, 6to4, NAT64) are judged as the
  IPv4 address they carry.
- **Twice.** At save time (422 ``webhook_target_forbidden``, so an admin learns at
  once) and again before every delivery attempt (the name may resolve elsewhere by then).
- **Pinned.** The delivery connects to the address that was checked (see
  ``rules.Target.url_for``), with the original Host header and TLS server name, so a
  DNS answer that changes between the check and the connection (DNS rebinding) cannot
  move the request to another address. Redirects are not followed and environment
  proxies are ignored, for the same reason.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

from supportdesk.core.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# A resolver that does not answer must not hold a save request or a runner for long.
RESOLVE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class AllowList:
    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    def admits(self, host: str, address: IPAddress) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        return any(
            candidate in network
            for candidate in _forms(address)
            for network in self.networks
            if candidate.version == network.version
        )


def parse_allow_list(text: str) -> AllowList:
    """``"hooks.internal, 10.20.0.0/16, 127.0.0.1"``: host names and CIDRs (a bare address
    is a one-address network). ``ValueError`` names the first bad entry."""
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        name = entry.lower().rstrip(".")
        if not name or "/" in name or any(not (ch.isalnum() or ch in ".-_") for ch in name):
            raise ValueError(f"SUPPORTDESK_WEBHOOK_ALLOW: {entry!r} is neither a host nor a CIDR")
        hosts.add(name)
    return AllowList(frozenset(hosts), tuple(networks))


def _forms(address: IPAddress) -> list[IPAddress]:
    """The address, and the IPv4 address an IPv6 one carries, if any."""
    forms: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            forms.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            forms.append(address.sixtofour)
        if address in _NAT64:
            forms.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return forms


def is_forbidden(address: IPAddress) -> bool:
    """True for anything but a public unicast address (in any of its forms)."""
    for form in _forms(address):
        if (
            form.is_private
            or form.is_loopback
            or form.is_link_local
            or form.is_multicast
            or form.is_reserved
            or form.is_unspecified
            or (isinstance(form, ipaddress.IPv6Address) and form.is_site_local)
            or not form.is_global
        ):
            return True
    return False


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (the literal itself for an IP address), in
    the resolver's order, without repeats."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            infos = await asyncio.to_thread(
                socket.getaddrinfo, host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
    except (TimeoutError, UnicodeError, OSError):
        raise DomainError("webhook_host_unresolvable", 422, params={"host": host}) from None
    found: dict[IPAddress, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0]).split("%")[0]  # no zone ids
        found.setdefault(ipaddress.ip_address(text), None)
    if not found:
        raise DomainError("webhook_host_unresolvable", 422, params={"host": host})
    return list(found)


async def checked_address(host: str, port: int, allow: AllowList) -> str:
    """The address to connect to: the first that ``host`` resolves to, after checking
    that none of them is forbidden (or that the allow-list admits it).
    Raises ``DomainError`` ``webhook_target_forbidden`` / ``webhook_host_unresolvable``."""
    addresses = await resolve(host, port)
    for address in addresses:
        if is_forbidden(address) and not allow.admits(host, address):
            raise DomainError(
                "webhook_target_forbidden", 422, params={"host": host, "address": str(address)}
            )
    return str(addresses[0])
