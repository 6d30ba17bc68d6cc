"""Per-client request limits on the expensive paths, on Django's cache (Redis when scaled
out, so every process counts together).

`settings.RATE_LIMITS` lists `(path prefix, requests, seconds)`: a fixed window per client
and prefix. Over the limit the answer is 429 with `Retry-After` (seconds until the window
ends). Clients are keyed by `clients.client_key` (a keyed hash, no address is stored). If
the cache fails, requests pass: a limiter must not take the site down with it.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string

from .clients import client_key
from .hybrid import HybridMiddleware

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    prefix: str
    requests: int
    seconds: int

    @property
    def name(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.prefix.lower()).strip("-") or "root"


def _now() -> float:
    return time.time()


def rule_for(path: str) -> Rule | None:
    for prefix, requests, seconds in getattr(settings, "RATE_LIMITS", ()):
        if path.startswith(prefix):
            return Rule(prefix, int(requests), int(seconds))
    return None


def _count(key: str, seconds: int) -> int:
    """Add one to the window's counter (atomic in local memory and in Redis)."""
    if cache.add(key, 1, timeout=seconds + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=seconds + 1)
        return 1


def refusal(request, rule: Rule) -> HttpResponse | None:
    """None to let the request through, else the 429 answer."""
    now = _now()
    window = int(now // rule.seconds)
    key = f"ratelimit:{rule.name}:{window}:{client_key(request)}"
    try:
        count = _count(key, rule.seconds)
    except Exception as error:  # noqa: BLE001 - cache down: let it through
        log.warning("rate limit: cache unavailable (%s); not limiting", error)
        return None
    if count <= rule.requests:
        return None
    retry_after = max(1, math.ceil((window + 1) * rule.seconds - now))
    if count == rule.requests + 1:
        log.info(
            "rate limit: a client went over %d per %d s on %s",
            rule.requests,
            rule.seconds,
            rule.prefix,
        )
    response = _too_many(request, rule, retry_after)
    # One info line per client going over (above) is enough; Django would warn on each 429.
    response._has_been_logged = True
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def _too_many(request, rule: Rule, retry_after: int) -> HttpResponse:
    """A page for a browser (a search done too often), a line for players and feed readers.
    The page is rendered without a request, so it costs no database or upstream call."""
    if "text/html" in request.headers.get("Accept", ""):
        body = render_to_string("429.html", {"rule": rule, "retry_after": retry_after})
        content_type = "text/html; charset=utf-8"
    else:
        body = f"Too many requests. Try again in {retry_after} seconds.\n"
        content_type = "text/plain; charset=utf-8"
    # For ASGI servers that use the reason; Daphne does not (asgi.py gives Twisted the phrase).
    return HttpResponse(body, status=429, content_type=content_type, reason="Too Many Requests")


class RateLimitMiddleware(HybridMiddleware):
    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        rule = rule_for(request.path_info)
        refused = refusal(request, rule) if rule is not None else None
        return refused or self.get_response(request)

    async def __acall__(self, request):
        rule = rule_for(request.path_info)
        refused = await sync_to_async(refusal)(request, rule) if rule is not None else None
        return refused or await self.get_response(request)
