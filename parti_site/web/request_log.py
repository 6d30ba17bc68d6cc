"""One log line per request: method, path (never the query string, which can carry
search terms and tokens), status and milliseconds until the response was handed back
(for streamed bodies: until the first byte). The visitor's address only with
`LOG_CLIENT_IPS` on. Daphne's own access log, which prints addresses, stays off
(Makefile, deploy/): this is the access log.

WebSockets get one line each when they end, in the same style:
`WS /ws/live closed 1001 after 3612 s`, or `WS /ws/live refused 403 (origin)` for a
handshake we turned down (the reason is the one the refusing code put in its close).
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import RequestAborted

from .clients import client_address, scope_client_address
from .hybrid import HybridMiddleware

log = logging.getLogger("parti_site.request")


def _quoted(path: str) -> str:
    # Quoted as on the wire, so a decoded newline cannot forge a log line.
    return quote(path, safe="/:@!$&'()*+,;=-._~")[:500]


def _line(request, response, started: float) -> None:
    elapsed = (time.monotonic() - started) * 1000
    path = _quoted(request.path)
    client = f" client={client_address(request)}" if settings.LOG_CLIENT_IPS else ""
    log.info("%s %s %s %.0f ms%s", request.method[:16], path, response.status_code, elapsed, client)


class ServerErrorsOnly(logging.Filter):
    """For Django's `django.request` logger (settings.LOGGING): its 4xx warnings ("Not
    Found: /x") repeat what the request line says; 5xx errors, with traceback, pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", 500) >= 500


class DropAbortedRequests(logging.Filter):
    """For the `asyncio` logger (settings.LOGGING): when Daphne stops with a request in
    flight, Django's disconnect listener ends in a RequestAborted nobody awaits, and asyncio
    prints "Task exception was never retrieved" with a traceback. The request has its line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exception = record.exc_info[1] if record.exc_info else None
        return not isinstance(exception, RequestAborted)


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


class SocketLogMiddleware:
    """ASGI middleware for the websocket protocol (live/routing.py puts it outermost): one
    line per socket, when its application ends."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        started = time.monotonic()
        seen = {"accepted": False, "refused": False, "code": None, "reason": ""}

        async def watching_send(message):
            kind = message.get("type")
            if kind == "websocket.accept":
                seen["accepted"] = True
            elif kind == "websocket.close" and seen["code"] is None:
                # Before accept, Daphne answers the handshake with 403 whatever the code.
                seen["refused"] = not seen["accepted"]
                seen["code"] = message.get("code", 1000)
                seen["reason"] = message.get("reason") or ""
            await send(message)

        async def watching_receive():
            message = await receive()
            if message.get("type") == "websocket.disconnect" and seen["code"] is None:
                seen["code"] = message.get("code", 1005)
            return message

        failed = False
        try:
            return await self.application(scope, watching_receive, watching_send)
        except Exception:
            failed = True  # Daphne logs the traceback and answers 500, or closes with 1011
            raise
        finally:
            _socket_line(scope, seen, failed, time.monotonic() - started)


def _socket_line(scope, seen: dict, failed: bool, seconds: float) -> None:
    path = _quoted(scope.get("path", ""))
    client = f" client={scope_client_address(scope)}" if settings.LOG_CLIENT_IPS else ""
    if seen["accepted"]:
        code = 1011 if failed and seen["code"] is None else seen["code"]
        ended = f"closed {code}" if code is not None else "ended"
        log.info("WS %s %s after %.0f s%s", path, ended, seconds, client)
    elif failed:
        log.info("WS %s refused 500%s", path, client)
    elif seen["refused"]:
        reason = "".join(c for c in seen["reason"][:100] if c.isprintable())
        reason = f" ({reason})" if reason else ""
        log.info("WS %s refused 403%s%s", path, reason, client)
    else:  # the browser left before we answered its handshake
        log.info("WS %s left before the handshake%s", path, client)
