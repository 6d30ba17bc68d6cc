"""The channel layer for a single Daphne process (no REDIS_URL): Channels' in-memory layer,
sweeping for expired messages at most once a second.

The stock layer sweeps every channel queue and every group member on every `receive`, and
each browser socket is one receiver, so one broadcast to N browsers cost O(N²): 1000 open
pages took about half a second of CPU per go-live event (`make bench`). Expiry only
matters after a minute (messages) or a day (group membership), so sweeping once a second
changes nothing a browser can see.
"""

from __future__ import annotations

import time

from channels import layers


class InMemoryChannelLayer(layers.InMemoryChannelLayer):
    sweep_every = 1.0  # seconds

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._swept_at = float("-inf")

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._swept_at < self.sweep_every:
            return
        self._swept_at = now
        super()._clean_expired()
