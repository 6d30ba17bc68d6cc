"""One log line per request: method, path (never the query string, which can carry
search terms and tokens), status and milliseconds until the response was handed back
(for streamed bodies: until the first byte). The visitor's address only with
`LOG_CLIENT_IPS` on. Daphne's own access log, which prints addresses, stays off
(Makefile, deploy/): this is the access log."""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

from django.conf import settings

from .clients import client_address
from .hybrid import HybridMiddleware

log = logging.getLogger("parti_site.request")


def _line(request, response, started: float) -> None:
    elapsed = (time.monotonic() - started) * 1000
    # Quoted as on the wire, so a decoded newline cannot forge a log line.
    path = quote(request.path, safe="/:@!$&'()*+,;=-._~")[:500]
    client = f" client={client_address(request)}" if settings.LOG_CLIENT_IPS else ""
    log.info("%s %s %s %.0f ms%s", request.method[:16], path, response.status_code, elapsed, client)


class RequestLogMiddleware(HybridMiddleware):
    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        started = time.monotonic()
        response = self.get_response(request)
        _line(request, response, started)
        return response

    async def __acall__(self, request):
        started = time.monotonic()
        response = await self.get_response(request)
        _line(request, response, started)
        return response
