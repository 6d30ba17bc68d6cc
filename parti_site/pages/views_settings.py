"""/settings: the visitor's preferences (web/preferences.py keeps them in a cookie), a plain
form that works without JavaScript."""

from __future__ import annotations

from django.http import HttpResponseForbidden
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from parti_site.media import modes
from parti_site.upstream import api
from parti_site.web import origin, preferences

from .errors import Results
from .views import _render


def _categories() -> tuple[list, str | None]:
    results = Results(api.gather({"categories": api.categories}))
    return results.get("categories", []), results.failed.get("categories")


@never_cache
@csrf_exempt  # same-origin check instead (web/origin.py): no token on cached pages
def settings_page(request):
    if request.method == "POST":
        if not origin.from_this_site(request):
            return HttpResponseForbidden("This form only works from this site's own pages.\n")
        known = {c.category_id for c in _categories()[0]}
        hidden = {
            int(value)
            for value in request.POST.getlist("hide")
            if value.isdigit() and (not known or int(value) in known)
        }
        prefs = preferences.Preferences(
            theme=request.POST.get("theme")
            if request.POST.get("theme") in preferences.THEMES
            else "system",
            quality=request.POST.get("quality")
            if request.POST.get("quality") in preferences.QUALITIES
            else "",
            proxied=request.POST.get("segments") == "proxied"
            and preferences.viewer_may_choose_proxied(),
            hidden=frozenset(list(hidden)[: preferences.MAX_HIDDEN]),
        )
        response = redirect("pages:settings")
        response["Location"] += "?saved=1"
        preferences.write(request, response, prefs)
        return response
    categories, failed = _categories()
    prefs = preferences.read(request)
    response = _render(
        request,
        "pages/settings.html",
        Results({}),
        nav="settings",
        prefs=prefs,
        themes=[("system", "As my system"), ("light", "Light"), ("dark", "Dark")],
        qualities=[(q, q or "Automatic") for q in preferences.QUALITIES],
        categories=categories,
        categories_failed=failed,
        may_proxy=preferences.viewer_may_choose_proxied(),
        instance_mode=modes.segment_mode(None),
        saved=request.GET.get("saved") == "1",
    )
    response["Cache-Control"] = "private, no-store"
    return response
