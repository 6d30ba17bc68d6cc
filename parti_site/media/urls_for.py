"""Our URLs for playable media, for pages and templates (no HTTP here).

The pages never see an upstream playlist URL: they link the player (and external players
such as VLC or mpv) to these stable paths on our host.
"""

from __future__ import annotations

from django.urls import reverse


def live_playlist_path(user_id: int) -> str:
    """`/hls/live/<user_id>/master.m3u8`: the live multivariant playlist of a channel."""
    return reverse("media:live_master", args=[int(user_id)])


def recording_playlist_path(event_id: int) -> str:
    """`/hls/video/<event_id>/master.m3u8`: the multivariant playlist of a recording."""
    return reverse("media:recording_master", args=[int(event_id)])
