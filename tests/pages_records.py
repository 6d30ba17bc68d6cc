"""Builders for the records pages render, and a fake `upstream.api` for page tests that do
not need the simulator (escaping, failures, timing)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from parti_site.upstream import api
from parti_site.upstream.cache import Fetched
from parti_site.upstream.models import (
    AssetPrice,
    Category,
    ChannelInfo,
    Creator,
    FeaturedCreator,
    FeedPost,
    LiveChannel,
    Profile,
    Recording,
    ScheduledEvent,
)

NOW = datetime.now(UTC)


def fetched(data, *, stale: bool = False, age: float = 0.0) -> Fetched:
    return Fetched(data, time.time() - age, stale=stale)


def make_creator(**overrides) -> Creator:
    return Creator(**{"user_id": 1001, "name": "Some Creator", **overrides})


def make_live_channel(**overrides) -> LiveChannel:
    values = {
        "creator": make_creator(),
        "event_id": 5001,
        "title": "A live stream",
        "thumbnail_url": None,
        "category": "Music",
        "viewers": 42,
    }
    return LiveChannel(**{**values, **overrides})


def make_recording(**overrides) -> Recording:
    values = {
        "creator": make_creator(),
        "event_id": 6001,
        "title": "A past stream",
        "thumbnail_url": None,
        "category": "Music",
        "started_at": NOW - timedelta(hours=3),
        "ended_at": NOW - timedelta(hours=1),
        "recording_path": "ivs/v1/x/master.m3u8",
        "total_viewers": 1234,
    }
    return Recording(**{**values, **overrides})


def make_event(**overrides) -> ScheduledEvent:
    values = {
        "event_id": 7001,
        "creator": make_creator(),
        "category_id": 10,
        "title": "A scheduled stream",
        "description": "",
        "thumbnail_url": None,
        "starts_at": NOW + timedelta(days=1),
        "ends_at": NOW + timedelta(days=1, hours=2),
    }
    return ScheduledEvent(**{**values, **overrides})


def make_featured(**overrides) -> FeaturedCreator:
    values = {
        "creator": make_creator(),
        "ordinal": 0,
        "description": "Welcome",
        "background_url": None,
        "members": 25681,
        "channels_joined": 1,
    }
    return FeaturedCreator(**{**values, **overrides})


def make_price(**overrides) -> AssetPrice:
    values = {
        "asset_type": "Crypto",
        "symbol": "BTC",
        "ticker": "bitcoin",
        "price": Decimal("103510"),
        "direction": "up",
        "price_diff": Decimal("0.01"),
    }
    return AssetPrice(**{**values, **overrides})


def make_profile(**overrides) -> Profile:
    values = {"creator": make_creator(), "description": "", "members": 10, "channels_joined": 0}
    return Profile(**{**values, **overrides})


def make_channel(**overrides) -> ChannelInfo:
    return ChannelInfo(**{"user_id": 1001, "is_live": False, **overrides})


def make_post(**overrides) -> FeedPost:
    values = {
        "feed_id": 1,
        "user_id": 1001,
        "content": "Hello",
        "event_id": None,
        "created_at": NOW - timedelta(days=2),
        "recording_path": None,
    }
    return FeedPost(**{**values, **overrides})


def fake_api(monkeypatch, **answers):
    """Replace every `api` data function with one answering `answers[name]` (a Fetched, an
    exception to raise, or a callable), or an empty default."""
    defaults = {
        "live_now": fetched([make_live_channel()]),
        "categories": fetched([Category(10, "Music")]),
        "schedule": fetched([make_event()]),
        "featured": fetched([make_featured()]),
        "recent": fetched([make_recording()]),
        "prices": fetched([make_price()]),
        "profile": fetched(make_profile()),
        "channel": fetched(make_channel()),
        "recording": fetched(make_recording()),
        "feed": fetched([make_post()]),
        "lookup_user_id": fetched(1001),
        "public_chat": fetched([]),
    }
    for name, default in defaults.items():
        answer = answers.get(name, default)
        monkeypatch.setattr(api, name, _answering(answer))


def _answering(answer):
    def function(*args, **kwargs):
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(*args, **kwargs)
        return answer

    return function
