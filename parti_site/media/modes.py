"""Segment mode: the one place that decides whether segments go through our host.

- "direct" (default): the player fetches child playlists and segments from parti's CDN
  itself (IVS variants and segments are not origin-locked); only the multivariant playlist
  comes from us. Less traffic for the instance; the CDN sees the viewer's address.
- "proxied": every child playlist and segment goes through our host (signed URLs); the
  viewer's browser talks to nobody but us.

The operator picks it in /admin/ (instance switches); left at its default there, the
`SEGMENT_MODE` setting decides. A viewer may opt in to proxying on /settings
(web/preferences.py) where settings.ALLOW_VIEWER_PROXIED allows it, hence the `request`
argument. Also here: the highest quality offered when proxied.
"""

from __future__ import annotations

import logging

from django.conf import settings

from parti_site.instance.store import current
from parti_site.web import preferences

DIRECT = "direct"
PROXIED = "proxied"
MODES = (DIRECT, PROXIED)

log = logging.getLogger(__name__)


def segment_mode(request=None) -> str:
    """DIRECT or PROXIED. An unknown setting value fails closed: proxied (more private)."""
    value = current().segment_mode or getattr(settings, "SEGMENT_MODE", DIRECT)
    value = str(value or DIRECT).strip().lower()
    if value == DIRECT and preferences.wants_proxied(request):
        return PROXIED  # the viewer opted in on /settings, as the instance allows
    if value in MODES:
        return value
    log.warning("SEGMENT_MODE=%r is not one of %s; using %r", value, MODES, PROXIED)
    return PROXIED


def max_height(request=None) -> int | None:
    """The tallest variant the multivariant playlist may offer, or None for all of them.

    Only proxied segments cost the instance bandwidth, so only then is anything removed.
    """
    if segment_mode(request) != PROXIED:
        return None
    return current().max_height
