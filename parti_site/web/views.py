"""robots.txt: crawlers may read the pages, not the proxies, sockets, feeds or admin."""

from django.http import HttpResponse
from django.views.decorators.http import require_safe

DISALLOWED = ["/hls/", "/img/", "/ws/", "/feeds/", "/calendar", "/search", "/admin/", "/healthz"]


@require_safe
def robots_txt(request):
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED), ""]
    response = HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
