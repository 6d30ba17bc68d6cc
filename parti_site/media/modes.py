"""Segment mode: the one place that decides whether segments go through our host.

- "direct" (default): the player fetches child playlists and segments from parti's CDN
  itself (IVS variants and segments are not origin-locked); only the multivariant playlist
  comes from us. Less traffic for the instance; the CDN sees the viewer's address.
- "proxied": every child playlist and segment goes through our host (signed URLs); the
  viewer's browser talks to nobody but us.

Read from `settings.SEGMENT_MODE` for now; the admin will make it editable and a viewer
preference may opt in to proxying, hence the `request` argument.
"""

from __future__ import annotations

import logging

from django.conf import settings

DIRECT = "direct"
PROXIED = "proxied"
MODES = (DIRECT, PROXIED)

log = logging.getLogger(__name__)


def segment_mode(request=None) -> str:
    """DIRECT or PROXIED. An unknown setting value fails closed: proxied (more private)."""
    value = str(getattr(settings, "SEGMENT_MODE", DIRECT) or DIRECT).strip().lower()
    if value in MODES:
        return value
    log.warning("SEGMENT_MODE=%r is not one of %s; using %r", value, MODES, PROXIED)
    return PROXIED
