"""The /ws/ routes, behind an Origin check: the Origin must name one of ALLOWED_HOSTS, and a
missing or `null` Origin is refused (AllowedHostsOriginValidator alone would let a missing
one through when ALLOWED_HOSTS holds "*")."""

from __future__ import annotations

from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator, WebsocketDenier
from django.urls import re_path

from . import consumers

websocket_urlpatterns = [
    re_path(r"^ws/live$", consumers.LiveConsumer.as_asgi()),
    re_path(r"^ws/watch/(?P<user_id>[1-9][0-9]{0,17})$", consumers.WatchConsumer.as_asgi()),
    re_path(r"", WebsocketDenier.as_asgi()),  # anything else: refused, not a server error
]


class RefuseMissingOrigin:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
        if len(origins) != 1 or origins[0].strip().lower() in (b"", b"null"):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


def websocket_application():
    """The ASGI app for the "websocket" protocol (asgi.py mounts it)."""
    return RefuseMissingOrigin(AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)))
