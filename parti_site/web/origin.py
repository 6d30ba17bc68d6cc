"""Same-origin POSTs without CSRF tokens, for the visitor's own cookies (follows, prefs).

Pages with Follow buttons are public and cached (`public, max-age`), so they must not carry
a per-visitor CSRF token or set the csrftoken cookie: a shared cache would hand them on.
These forms change nothing but the visitor's own cookies, so a cross-site POST is refused
by where it comes from instead, as browsers tell it:

- `Sec-Fetch-Site` (every current browser): only "same-origin" or "none" (typed, bookmark);
- `Origin` (sent with every POST by current browsers): must be this site;
- over HTTPS with neither, the `Referer` must be this site (Django's own rule).

A request without any of them is not from a browser that would carry the visitor's cookies
across sites, so it may pass; it can only change the cookies it sends itself.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


def _our_origins(request) -> set[str]:
    scheme = "https" if request.is_secure() else "http"
    origins = {f"{scheme}://{request.get_host()}"}
    public = getattr(settings, "PUBLIC_URL", "")
    if public:
        origins.add(public.rstrip("/"))
    origins.update(getattr(settings, "CSRF_TRUSTED_ORIGINS", []))
    return origins


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def from_this_site(request) -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin in _our_origins(request)
    if request.is_secure() and fetch_site is None:
        return _origin_of(request.headers.get("Referer", "")) in _our_origins(request)
    return True


def same_origin_post(view):
    """POST only, from this site's own pages (see above); else 405 or 403."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not from_this_site(request):
            return HttpResponseForbidden(
                "This form only works from this site's own pages.\n",
                content_type="text/plain; charset=utf-8",
            )
        return view(request, *args, **kwargs)

    return csrf_exempt(require_POST(wrapper))
