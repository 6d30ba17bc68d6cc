"""The single-process channel layer: Channels' in-memory one, sweeping for expired
messages at most once a second instead of on every receive."""

import asyncio
import time

from channels import layers as stock
from django.conf import settings

from parti_site.live.layers import InMemoryChannelLayer
from tests.live_fakes import run


def put_expired(layer, channel):
    queue = layer.channels.setdefault(channel, asyncio.Queue())
    queue.put_nowait((time.time() - 1, {"type": "old"}))


def test_it_is_the_layer_without_redis():
    if not getattr(settings, "REDIS_URL", ""):
        backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
        assert backend == "parti_site.live.layers.InMemoryChannelLayer"


def test_it_sweeps_at_most_once_a_second(monkeypatch):
    sweeps = []
    monkeypatch.setattr(stock.InMemoryChannelLayer, "_clean_expired", lambda self: sweeps.append(1))

    async def body():
        layer = InMemoryChannelLayer()
        for n in range(50):
            await layer.send("browser.inmemory!a", {"type": "live.event", "n": n})
            await layer.receive("browser.inmemory!a")
        assert sweeps == [1]
        layer._swept_at -= 1.0
        await layer.send("browser.inmemory!a", {"type": "live.event"})
        await layer.receive("browser.inmemory!a")
        assert sweeps == [1, 1]

    run(body())


def test_expired_messages_and_their_group_members_still_go():
    async def body():
        layer = InMemoryChannelLayer()
        await layer.group_add("live.grid", "browser.inmemory!gone")
        await layer.group_add("live.grid", "browser.inmemory!here")
        put_expired(layer, "browser.inmemory!gone")
        await layer.send("browser.inmemory!here", {"type": "live.event"})
        assert (await layer.receive("browser.inmemory!here"))["type"] == "live.event"
        assert "browser.inmemory!gone" not in layer.channels
        assert set(layer.groups["live.grid"]) == {"browser.inmemory!here"}

    run(body())
