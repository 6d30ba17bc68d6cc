"""How image URLs appear in our pages: the one place that decides."""

from __future__ import annotations

import re

from parti_site.instance.store import current

from .allowlist import ForbiddenURL
from .signing import IMAGE, sign_url

# Path of the image proxy on our host; the view behind it unsigns the token.
IMAGE_PATH_PREFIX = "/img/"
# Long enough to outlive cached pages and an open tab; the token is the cache key for
# browsers, and signing rounds expiries so re-rendered pages keep the same URL.
IMAGE_MAX_AGE = 7 * 24 * 3600

# Values seen in demo payloads instead of real URLs (facts.md §0).
_PLACEHOLDERS = {"asset_url", "asset_token", "null", "none", "undefined"}
# "https://https://assets.parti.com/x.png" (facts.md §1.Q): keep only the last scheme.
_REPEATED_SCHEME = re.compile(r"^(?:https?:/+)+(?=https?://)", re.IGNORECASE)
_HTTP_URL = re.compile(r"^https?://", re.IGNORECASE)


def image_url(upstream_url: str | None) -> str | None:
    """Our URL for an upstream image (`/img/<token>`), or None if there is no usable image.

    None too when the operator turned the image proxy off: pages show placeholders then,
    never parti's own image URLs (the visitor's browser would load them from parti).
    """
    if not isinstance(upstream_url, str) or not image_proxy_on():
        return None
    url = upstream_url.strip()
    if not url or url.lower() in _PLACEHOLDERS:
        return None
    url = _REPEATED_SCHEME.sub("", url)
    if not _HTTP_URL.match(url):
        return None
    try:
        return IMAGE_PATH_PREFIX + sign_url(url, IMAGE, IMAGE_MAX_AGE)
    except ForbiddenURL:
        return None


def image_proxy_on() -> bool:
    return current().image_proxy
