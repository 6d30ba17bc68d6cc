"""Who is asking: the client address behind our own reverse proxies, and a key for it that
stores no address.

`REMOTE_ADDR` is the peer Daphne saw. Only when that peer is one of `TRUSTED_PROXIES`
(CIDRs: the nginx in front of us) is `X-Forwarded-For` read, right to left, skipping our
own proxies: the first address no proxy of ours wrote is the client. Anything to its left
was written by the client and is ignored, so a spoofed header buys nothing.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.utils.crypto import salted_hmac

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted(address: Address | None) -> bool:
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    return any(address in network for network in networks)


def _parse(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:5678"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(request) -> str:
    """The visitor's address as text ("" when unknown)."""
    meta = request.META
    return _client(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""))


def scope_client_address(scope) -> str:
    """The same for an ASGI scope (the /ws/ handshakes, which are no Django request)."""
    peer = scope.get("client") or ("",)
    forwarded = b",".join(v for n, v in scope.get("headers", ()) if n == b"x-forwarded-for")
    return _client(str(peer[0] or ""), forwarded.decode("latin-1"))


def _client(remote_text: str, forwarded: str) -> str:
    remote = _parse(remote_text)
    if not _trusted(remote):
        return str(remote) if remote is not None else remote_text
    found = remote
    for entry in reversed(forwarded.split(",")):
        address = _parse(entry)
        if address is None:
            break  # not written by a proxy of ours: stop at the last good hop
        found = address
        if not _trusted(address):
            break
    return str(found)


def client_key(request) -> str:
    """A keyed hash of the client (IPv6 by its /64, which one subscriber usually holds):
    stable per client and instance, and not reversible to an address without SECRET_KEY."""
    text = client_group(client_address(request))
    return salted_hmac("parti_site.web.client", text).hexdigest()[:32]


def client_group(text: str) -> str:
    """An address as the client it stands for: IPv6 by its /64, anything else as it is."""
    address = _parse(text)
    if isinstance(address, ipaddress.IPv6Address) and not address.ipv4_mapped:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return text
