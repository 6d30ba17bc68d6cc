"""The site's own ASGI application with one more URL, `/bench/minimal`: a sync view that
returns "ok" through the same middleware, for bench/pages.py's baseline. Bench only:

    daphne bench.minimal_asgi:application

Everything else (settings, middleware, every production URL, the WebSocket router) is
parti_site's; the production URLconf is not touched, this module is used as the URLconf
of this one process instead.
"""

from django.conf import settings
from django.http import HttpResponse
from django.urls import path

from parti_site.asgi import application  # noqa: F401 - sets Django up first
from parti_site.urls import urlpatterns as site_urlpatterns


def minimal(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/minimal", minimal), *site_urlpatterns]

# Read per request by Django's handler, so setting it before the first request is enough.
settings.ROOT_URLCONF = __name__
