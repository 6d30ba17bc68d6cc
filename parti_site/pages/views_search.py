"""/search: creators, live streams, upcoming and recent streams and categories, found in
what the site already fetched from parti (search.py says what and how)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.cache import patch_cache_control

from parti_site.upstream import api

from . import events, hiding, search
from .errors import upstream_page
from .views import _gather, _render

SEARCH_RECENT = api.MAX_RECENT_LIMIT


@upstream_page
def search_page(request):
    query = (request.GET.get("q") or "").strip()[: search.MAX_QUERY]
    calls = {}
    if search.words(query):
        calls = {
            "live": lambda: api.live_now(api.MAX_LIVE_LIMIT),
            "featured": api.featured,
            "schedule": api.schedule,
            "recent": lambda: api.recent(limit=SEARCH_RECENT),
            "categories": api.categories,
        }
    results = _gather(calls)
    if calls:
        results.need_any("live", "featured", "schedule", "recent", "categories")
    found = search.search(
        query,
        live=hiding.visible(request, results.get("live", [])),
        featured=results.get("featured", []),
        schedule=hiding.visible(request, results.get("schedule", [])),
        recent=hiding.visible(request, results.get("recent", [])),
        categories=hiding.visible(request, results.get("categories", [])),
    )
    now = timezone.now()
    response = _render(
        request,
        "pages/search.html",
        results,
        nav="search",
        query=query,
        searched=bool(calls),
        found=found,
        upcoming=[events.row(e, now) for e in found.upcoming],
    )
    # What someone searched for stays out of shared caches.
    patch_cache_control(response, private=True)
    return response
