import os
from http import HTTPStatus

from django.core.asgi import get_asgi_application
from twisted.web import http as twisted_http

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parti_site.settings")
# Django must be set up before anything imports models or consumers.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from parti_site.live.routing import websocket_application  # noqa: E402

# Daphne writes the status line with Twisted's phrase table and ignores the reason we give;
# the table lacks some codes (429 among them), which went out as "429 Unknown Status".
for _status in HTTPStatus:
    twisted_http.RESPONSES.setdefault(_status.value, _status.phrase.encode())

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application()})
