"""The /ws/ routes, behind three checks:

- Origin: exactly one, naming one of ALLOWED_HOSTS (a missing or `null` Origin is refused:
  AllowedHostsOriginValidator alone would let a missing one through when ALLOWED_HOSTS holds
  "*"), and the very site the socket is for: scheme, host and port of PUBLIC_URL when set,
  else host and port of the request's Host header (another site on the same host name, e.g.
  http://127.0.0.1:9999, is another origin).
- At most LIVE_MAX_SOCKETS_PER_CLIENT sockets per client (web/clients.py: the address behind
  our TRUSTED_PROXIES, IPv6 by its /64) at a time, per process, so one client cannot hold
  every watch slot of the relay. 0: no limit.

Every socket gets a line in the request log when it ends (web/request_log.py); a refusal
names its reason there.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator, WebsocketDenier
from django.conf import settings
from django.urls import re_path

from parti_site.web.clients import client_group, scope_client_address
from parti_site.web.request_log import SocketLogMiddleware

from . import consumers

websocket_urlpatterns = [
    re_path(r"^ws/live$", consumers.LiveConsumer.as_asgi()),
    re_path(r"^ws/watch/(?P<user_id>[1-9][0-9]{0,17})$", consumers.WatchConsumer.as_asgi()),
    re_path(r"", WebsocketDenier.as_asgi()),  # anything else: refused, not a server error
]

DEFAULT_PORTS = {"http": 80, "https": 443}


def _headers(scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers", []) if key == name]


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin like "https://example.org:8443", None if it is none."""
    try:
        parts = urlsplit(url.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme]


def same_site(scope) -> bool:
    """Whether the one Origin header names the site this socket was opened on."""
    origins = _headers(scope, b"origin")
    origin = _origin(origins[0]) if len(origins) == 1 else None
    if origin is None:
        return False  # missing, several, `null`, file://, junk
    public = getattr(settings, "PUBLIC_URL", "")
    if public:
        return origin == _origin(public)
    hosts = _headers(scope, b"host")
    if len(hosts) != 1:
        return False
    # The Host header carries no scheme: read it with the Origin's, for its default port.
    return origin == _origin(f"{origin[0]}://{hosts[0]}")


class Refuse(WebsocketDenier):
    """Refuses the handshake (Daphne answers 403), with a reason for the request log."""

    def __init__(self, reason: str = ""):
        super().__init__()
        self.reason = reason

    async def connect(self):
        await self.close(reason=self.reason)


class RefuseOtherOrigins:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if not same_site(scope):
            return await Refuse("origin")(scope, receive, send)
        return await self.application(scope, receive, send)


class LimitPerClient:
    """Refuses a client's socket beyond the limit; counts it down when the socket ends (the
    application's call lasts as long as the connection)."""

    def __init__(self, application):
        self.application = application
        self.open: Counter[str] = Counter()

    async def __call__(self, scope, receive, send):
        limit = getattr(settings, "LIVE_MAX_SOCKETS_PER_CLIENT", 8)
        client = client_group(scope_client_address(scope))
        if limit and self.open[client] >= limit:
            return await Refuse("too many sockets")(scope, receive, send)
        self.open[client] += 1
        try:
            return await self.application(scope, receive, send)
        finally:
            self.open[client] -= 1
            if self.open[client] <= 0:
                del self.open[client]


def websocket_application():
    """The ASGI app for the "websocket" protocol (asgi.py mounts it)."""
    return SocketLogMiddleware(
        RefuseOtherOrigins(
            AllowedHostsOriginValidator(LimitPerClient(URLRouter(websocket_urlpatterns)))
        )
    )
