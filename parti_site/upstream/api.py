"""What the pages ask for: cached, parsed parti data. Views import this module only.

Each function returns a `Fetched` (data, when it was fetched, whether it is a stale copy)
or raises UpstreamError when parti fails and no copy is left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any

from django.conf import settings

from . import client, history, parse
from .cache import Fetched, cached, forget, peek
from .errors import Kind, UpstreamError
from .models import (
    AssetPrice,
    Category,
    ChannelInfo,
    ChatLine,
    FeaturedCreator,
    FeedPost,
    LiveChannel,
    Profile,
    Recording,
    ScheduledEvent,
)

MAX_LIVE_LIMIT = 100
MAX_RECENT_LIMIT = 50
MAX_OFFSET = 10_000

# Sections of a page are fetched side by side, so a cold page costs about its slowest call.
# Shared by every request of the process: with parti hanging, each call holds a thread for
# the whole deadline, and a pool too small queues sections behind other pages' calls.
_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="upstream")
# Past one call's longest time (connect + deadline) a section still queued is given up.
GATHER_SLACK = 1.0


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def live_now(limit: int = 30, offset: int = 0, category_id: int | None = None):
    limit, offset = clamp(limit, 1, MAX_LIVE_LIMIT), clamp(offset, 0, MAX_OFFSET)

    def fetch() -> list[LiveChannel]:
        data = client.live_channels(limit=limit, offset=offset, category_id=category_id)
        rows = parse.rows(data, "live", parse.live_channel)
        history.live_snapshot(rows)  # the go-live feed's record of who was live
        return rows

    return cached("live", f"{limit}:{offset}:{category_id}", fetch)


def categories() -> Fetched[list[Category]]:
    return cached(
        "categories", "all", lambda: parse.rows(client.categories(), "categories", parse.category)
    )


def schedule() -> Fetched[list[ScheduledEvent]]:
    def fetch() -> list[ScheduledEvent]:
        return parse.rows(client.calendar_events(limit=100), "schedule", parse.scheduled_event)

    return cached("schedule", "100", fetch)


def featured() -> Fetched[list[FeaturedCreator]]:
    def fetch() -> list[FeaturedCreator]:
        return parse.rows(client.featured_channels(), "featured", parse.featured_creator)

    return cached("featured", "all", fetch)


def recent(
    *,
    category_id: int | None = None,
    no_category: bool = False,
    top: bool = False,
    user_id: int | None = None,
    limit: int = 15,
    offset: int = 0,
) -> Fetched[list[Recording]]:
    limit, offset = clamp(limit, 1, MAX_RECENT_LIMIT), clamp(offset, 0, MAX_OFFSET)

    def fetch() -> list[Recording]:
        data = client.recent_streams(
            category_id=category_id,
            no_category=no_category,
            top=top,
            user_id=user_id,
            limit=limit,
            offset=offset,
        )
        return parse.rows(data, "recent", parse.recording)

    key = f"{category_id}:{no_category}:{top}:{user_id}:{limit}:{offset}"
    return cached("recent", key, fetch)


def prices() -> Fetched[list[AssetPrice]]:
    def fetch() -> list[AssetPrice]:
        rows = parse.rows(client.asset_prices(), "prices", parse.asset_price)
        history.saw_prices(rows)  # the ticker's sparklines
        return rows

    return cached("prices", "all", fetch)


def profile(user_id: int) -> Fetched[Profile]:
    return cached("profile", str(user_id), lambda: parse.profile(client.user_profile(user_id)))


def cached_profile(user_id: int) -> Profile | None:
    """The profile if a copy is cached, else None; parti is not asked."""
    found = peek("profile", str(user_id))
    return found.data if found is not None else None


def channel(user_id: int, fresh: bool = False) -> Fetched[ChannelInfo]:
    """`fresh=True` skips the cached copy (the media proxy, when parti rejects a token)."""
    if fresh:
        forget("channel", str(user_id))
    return cached(
        "channel", str(user_id), lambda: parse.channel_info(client.channel_info(user_id), user_id)
    )


def recording(event_id: int) -> Fetched[Recording]:
    def fetch() -> Recording:
        row = parse.expect_object(client.recording(event_id), "recording")
        record = parse.recording(row)
        if record is None:
            raise parse.UpstreamError(parse.Kind.UNEXPECTED_SHAPE, "recording: no ids")
        return record

    return cached("recording", str(event_id), fetch)


def feed(user_id: int, limit: int = 10) -> Fetched[list[FeedPost]]:
    def fetch() -> list[FeedPost]:
        return parse.rows(client.user_feed(user_id, limit=limit), "feed", parse.feed_post)

    return cached("feed", f"{user_id}:{limit}", fetch)


def lookup_user_id(service: str, name: str) -> Fetched[int]:
    def fetch() -> int:
        return parse.user_id(client.user_id_by_social_media(service, name))

    return cached("lookup", f"{service}:{name}", fetch)


def public_chat(user_id: int) -> Fetched[list[ChatLine]]:
    return cached(
        "chat",
        str(user_id),
        lambda: parse.rows(client.public_chat(user_id), "chat", parse.chat_line),
    )


def gather(calls: dict[str, Callable[[], Fetched]]) -> dict[str, Fetched | UpstreamError]:
    """Run several calls side by side; each result is a Fetched or the UpstreamError."""
    futures = {name: _pool.submit(call) for name, call in calls.items()}
    give_up = time.monotonic() + (
        settings.PARTI_CONNECT_TIMEOUT + settings.PARTI_DEADLINE + GATHER_SLACK
    )
    results: dict[str, Any] = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=max(0.0, give_up - time.monotonic()))
        except UpstreamError as error:
            results[name] = error
        except FuturesTimeout:
            # Every thread is busy (parti hangs for many visitors): this page will not wait.
            future.cancel()
            results[name] = UpstreamError(Kind.TIMEOUT, f"{name}: no thread free in time")
    return results
