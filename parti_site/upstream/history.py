"""What the site has seen of parti over time, since parti keeps no history we can ask for.

- Go-live log: every "went live" the relay pushed (NewChannelLiveNotify) and every stream
  first seen in a fetched live list, newest first, at most `GOLIVE_LIMIT` entries. Kept in
  Django's cache (shared by every process when REDIS_URL is set) under one key, so the
  go-live feed (`/feeds/live.atom`) reads the same log whichever process answers. Two
  writers racing may lose one entry; the next live-list snapshot adds it back.
- Price history: per asset the last `PRICE_POINTS` prices this process has seen (from
  `api.prices()` fetches and the relay's price pushes), for the ticker's sparklines. In
  memory, per process, gone on restart: it is "since the server started", by design.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache

from .models import AssetPrice, LiveChannel

GOLIVE_KEY = "history:golive"
GOLIVE_VERSION = 1  # bump when GoLive's fields change
GOLIVE_LIMIT = 500
GOLIVE_KEEP_SECONDS = 14 * 24 * 3600
PRICE_POINTS = 48
MAX_ASSETS = 50

PUSH = "push"  # the relay's go-live push
SNAPSHOT = "live list"  # first seen in a fetched live list


@dataclass(frozen=True)
class GoLive:
    user_id: int
    event_id: int | None
    name: str
    title: str
    category: str | None
    at: float  # Unix seconds: when the site learnt of it
    source: str  # PUSH or SNAPSHOT

    @property
    def key(self) -> tuple[int, int | None]:
        return (self.user_id, self.event_id)


# --- the go-live log -----------------------------------------------------------------------


def _load() -> list[GoLive]:
    entries = cache.get(GOLIVE_KEY, version=GOLIVE_VERSION)
    return list(entries) if isinstance(entries, list) else []


def _store(entries: list[GoLive]) -> None:
    cache.set(GOLIVE_KEY, entries, timeout=GOLIVE_KEEP_SECONDS, version=GOLIVE_VERSION)


def _entry(live: LiveChannel, at: float, source: str) -> GoLive:
    return GoLive(
        user_id=live.creator.user_id,
        event_id=live.event_id,
        name=live.creator.name,
        title=live.title,
        category=live.category,
        at=at,
        source=source,
    )


def _add(found: list[GoLive]) -> None:
    if not found:
        return
    entries = _load()
    known = {entry.key for entry in entries}
    fresh = [entry for entry in found if entry.key not in known]
    if not fresh:
        return
    horizon = time.time() - GOLIVE_KEEP_SECONDS
    merged = sorted(fresh + entries, key=lambda entry: entry.at, reverse=True)
    _store([entry for entry in merged if entry.at >= horizon][:GOLIVE_LIMIT])


def went_live(channels: Iterable[LiveChannel], at: float | None = None) -> None:
    """The relay's go-live pushes."""
    when = time.time() if at is None else at
    _add([_entry(live, when, PUSH) for live in channels])


def live_snapshot(channels: Iterable[LiveChannel], at: float | None = None) -> None:
    """A fetched live list: streams not in the log yet are logged as seen at `at`."""
    when = time.time() if at is None else at
    _add([_entry(live, when, SNAPSHOT) for live in channels])


def golive_events(user_ids: Iterable[int] | None = None, limit: int = 50) -> list[GoLive]:
    """The newest go-live events, of the given creators only when `user_ids` is given."""
    wanted = None if user_ids is None else set(user_ids)
    entries = _load()
    if wanted is not None:
        entries = [entry for entry in entries if entry.user_id in wanted]
    return entries[:limit]


def golive_since() -> float | None:
    """When the oldest logged event was seen (what the log covers), or None when empty."""
    entries = _load()
    return entries[-1].at if entries else None


def clear_golive() -> None:
    cache.delete(GOLIVE_KEY, version=GOLIVE_VERSION)


# --- prices seen since start ---------------------------------------------------------------

_lock = threading.Lock()
_prices: dict[str, deque[tuple[float, Decimal]]] = {}


def saw_prices(rows: Iterable[AssetPrice], at: float | None = None) -> None:
    when = time.time() if at is None else at
    with _lock:
        for row in rows:
            if row.price is None or not row.price.is_finite():
                continue
            points = _prices.get(row.symbol)
            if points is None:
                if len(_prices) >= MAX_ASSETS:
                    continue
                points = _prices[row.symbol] = deque(maxlen=PRICE_POINTS)
            if points and points[-1][1] == row.price and when - points[-1][0] < 60:
                continue  # the same answer again (a cache hit or a quiet push)
            points.append((when, row.price))


def price_history(symbol: str) -> list[tuple[float, Decimal]]:
    with _lock:
        return list(_prices.get(symbol, ()))


def clear_prices() -> None:
    with _lock:
        _prices.clear()
