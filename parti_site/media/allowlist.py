"""The host allow-list every outgoing media request (playlist, segment, image) must pass.

`settings.PARTI_MEDIA_HOSTS` holds entries of three shapes, read at call time:

- `watch.parti.com`        exact host, https on port 443 only
- `.live-video.net`        any subdomain (not the bare domain), https on port 443 only
- `http://127.0.0.1:8102`  exactly this scheme, host and port (the demo's simulator hosts);
                           such hosts may also resolve to private addresses

`check_url` validates and normalises a URL; the fetcher must request the URL it returns,
never the original text, so the check and the request cannot disagree about the host.
`resolve_and_check` then resolves the host and returns addresses to connect to, which
defeats DNS rebinding when the fetcher pins the connection to them.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings

MAX_URL_LENGTH = 4096
DEFAULT_PORTS = {"https": 443, "http": 80}

# Control characters, whitespace (ASCII and Unicode), backslashes, and the characters RFC 3986
# never allows unencoded ("<>`{}|^): browsers and URL parsers disagree about all of them, so a
# URL containing any is refused outright.
_UNSAFE_CHARS = re.compile(r'[\x00-\x20\x7f-\x9f\\\s\u200b-\u200f\u2028\u2029\ufeff"<>`{}|^]')
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
# WHATWG URL parsing treats a host whose last label is a number (decimal, octal or 0x-hex)
# as an IPv4 address: 2130706433, 0177.0.0.1, 0x7f.1 and 127.1 all mean 127.0.0.1.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class ForbiddenURL(ValueError):
    """The URL may not be fetched; `reason` says why."""

    def __init__(self, reason: str, url: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.url = url


@dataclass(frozen=True)
class Target:
    """A checked URL and the parts a fetcher needs to connect."""

    url: str
    scheme: str
    host: str  # lowercased ASCII (IDNA), no trailing dot; IPv6 without brackets
    port: int
    explicit: bool  # matched a "scheme://host:port" entry


@dataclass(frozen=True)
class _Entry:
    scheme: str
    host: str  # normalised; for suffix entries starts with "."
    port: int
    explicit: bool

    def matches(self, scheme: str, host: str, port: int, is_ip: bool) -> bool:
        if scheme != self.scheme or port != self.port:
            return False
        if self.host.startswith("."):
            # IP literals never match a suffix (".1" must not match "127.0.0.1").
            return not is_ip and host.endswith(self.host) and len(host) > len(self.host)
        return host == self.host


def check(url: str) -> Target:
    """Validate `url` against the allow-list; return the normalised target or raise."""
    if not isinstance(url, str) or not url:
        raise ForbiddenURL("empty URL", str(url))
    if len(url) > MAX_URL_LENGTH:
        raise ForbiddenURL("URL too long", url[:100])
    if _UNSAFE_CHARS.search(url):
        raise ForbiddenURL("whitespace, control or unsafe character in URL", url)
    scheme_match = _SCHEME.match(url)
    if not scheme_match:
        raise ForbiddenURL("not an absolute http(s) URL", url)
    scheme = scheme_match.group(1).lower()
    if scheme not in DEFAULT_PORTS:
        raise ForbiddenURL(f"scheme {scheme!r} not allowed", url)
    rest = url[scheme_match.end() :]
    if "#" in rest:
        # Fragments are never sent upstream and are a classic parser-confusion trick
        # (https://evil#@allowed.host/).
        raise ForbiddenURL("fragment in URL", url)
    split = re.search(r"[/?]", rest)
    authority, tail = (rest[: split.start()], rest[split.start() :]) if split else (rest, "")
    if "@" in authority:
        raise ForbiddenURL("userinfo in URL", url)
    raw_host, port = _split_authority(authority, scheme, url)
    host, is_ip = _normalise_host(raw_host, url)

    for entry in _entries():
        if entry.matches(scheme, host, port, is_ip):
            break
    else:
        raise ForbiddenURL(f"host {host!r} (port {port}, {scheme}) is not allowed", url)

    if tail.startswith("?"):
        tail = "/" + tail
    netloc = f"[{host}]" if ":" in host else host
    if port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    # Path and query are kept verbatim: upstream tokens (?dna=..., ?token=...) are opaque.
    return Target(
        url=f"{scheme}://{netloc}{tail or '/'}",
        scheme=scheme,
        host=host,
        port=port,
        explicit=entry.explicit,
    )


def check_url(url: str) -> str:
    """Return the normalised URL if the allow-list permits fetching it; else raise ForbiddenURL."""
    return check(url).url


def is_allowed(url: str) -> bool:
    """True if `check_url` would accept the URL."""
    try:
        check(url)
    except ForbiddenURL:
        return False
    return True


def check_redirect(location: str, base_url: str) -> str:
    """Resolve a redirect's Location against the URL that answered it and check the result."""
    if not isinstance(location, str) or not location.strip():
        raise ForbiddenURL("empty redirect location", str(location))
    if _UNSAFE_CHARS.search(location):
        raise ForbiddenURL("whitespace, control or unsafe character in URL", location)
    return check_url(urljoin(check_url(base_url), location))


def is_redirect_allowed(location: str, base_url: str) -> bool:
    """True if following a redirect from `base_url` to `location` stays on allowed hosts."""
    try:
        check_redirect(location, base_url)
    except ForbiddenURL:
        return False
    return True


def resolve_and_check(host: str, port: int) -> list[str]:
    """Resolve `host` and return its addresses, refusing non-public ones.

    Hosts from explicit "scheme://host:port" entries may resolve to anything (the demo's
    loopback simulator). Every other host must resolve only to public unicast addresses:
    if any address is private, loopback, link-local, multicast, reserved or unspecified,
    the whole host is refused. Connect to the returned addresses, not to the name again.
    Raises ForbiddenURL, or OSError (socket.gaierror) if the name does not resolve.
    """
    host = host.strip("[]").lower()
    explicit = any(e.explicit and e.host == host and e.port == port for e in _entries())
    literal = _ip_or_none(host)
    if literal is not None:
        # IP literals only pass check() when listed exactly; nothing to resolve.
        if not explicit and not _is_public(literal):
            raise ForbiddenURL(f"{host} is not a public address")
        return [host]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ForbiddenURL(f"{host} has no addresses")
    if not explicit:
        for address in addresses:
            ip = _ip_or_none(address)
            if ip is None or not _is_public(ip):
                raise ForbiddenURL(f"{host} resolves to non-public address {address}")
    return addresses


# --- helpers -------------------------------------------------------------------------------


def _entries() -> list[_Entry]:
    entries = []
    for raw in getattr(settings, "PARTI_MEDIA_HOSTS", []):
        entry = _parse_entry(raw)
        if entry is not None:
            entries.append(entry)
    return entries


def _parse_entry(raw: str) -> _Entry | None:
    """Parse one PARTI_MEDIA_HOSTS entry; malformed entries are ignored (they allow nothing)."""
    text = raw.strip()
    if not text:
        return None
    try:
        scheme_match = _SCHEME.match(text)
        if scheme_match:
            scheme = scheme_match.group(1).lower()
            if scheme not in DEFAULT_PORTS:
                return None
            authority = text[scheme_match.end() :].rstrip("/")
            raw_host, port = _split_authority(authority, scheme, text)
            host, _ = _normalise_host(raw_host, text)
            return _Entry(scheme, host, port, explicit=True)
        if text.startswith("."):
            host, _ = _normalise_host(text[1:], text)
            return _Entry("https", "." + host, 443, explicit=False)
        host, _ = _normalise_host(text, text)
        return _Entry("https", host, 443, explicit=False)
    except ForbiddenURL:
        return None


def _split_authority(authority: str, scheme: str, url: str) -> tuple[str, int]:
    if authority.startswith("["):
        end = authority.find("]")
        if end == -1:
            raise ForbiddenURL("unterminated IPv6 literal", url)
        host, after = authority[: end + 1], authority[end + 1 :]
        if after and not after.startswith(":"):
            raise ForbiddenURL("junk after IPv6 literal", url)
        port_text = after[1:] if after else None
    elif ":" in authority:
        host, port_text = authority.split(":", 1)
    else:
        host, port_text = authority, None
    if port_text is None:
        return host, DEFAULT_PORTS[scheme]
    if not port_text.isascii() or not port_text.isdigit() or len(port_text) > 5:
        raise ForbiddenURL("invalid port", url)
    port = int(port_text)
    if not 0 < port < 65536:
        raise ForbiddenURL("invalid port", url)
    return host, port


def _normalise_host(raw_host: str, url: str) -> tuple[str, bool]:
    """Lowercase, strip one trailing dot, IDNA-encode; return (host, is_ip_literal)."""
    if raw_host.startswith("["):
        literal = raw_host[1:-1].lower()
        # A zone id ("fe80::1%25eth0") is kept as written: it can only match an exact entry.
        try:
            ipaddress.IPv6Address(literal.split("%", 1)[0])
        except ValueError as exc:
            raise ForbiddenURL("invalid IPv6 literal", url) from exc
        return literal, True
    host = raw_host.lower()
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise ForbiddenURL("no host in URL", url)
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ForbiddenURL("host is not a valid international domain name", url) from exc
        if host.endswith("."):
            host = host[:-1]
    labels = host.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        return host, True
    if not all(_DNS_LABEL.match(label) for label in labels):
        raise ForbiddenURL("host is not a valid domain name", url)
    return host, False


def _ip_or_none(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 embedded in IPv6 (mapped, 6to4, NAT64) is judged by the IPv4 address.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in ipaddress.IPv6Network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not _is_public(embedded):
            return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )
