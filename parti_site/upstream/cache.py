"""Caching of upstream answers on Django's cache framework.

- Fresh for the endpoint's TTL; kept TTL + stale window so a last good copy can stand in
  when parti fails (shown with its age). Errors are never stored as data; "no such thing"
  (404/410) is an answer, kept for up to `MISSING_SECONDS` so that unknown ids cannot make
  every request call parti.
- Single-flight: concurrent misses for one key make one upstream call. The lock is a
  `cache.add`, atomic in local memory (threads) and in Redis (processes).
- With a copy to show, a visitor waits at most `PARTI_PATIENCE` seconds for parti: past
  that the copy answers (as stale) while the call goes on in the background and stores its
  answer for the next visitor. With no copy, the visitor waits for the call.
- Keys carry a generation number (`version=`), so one bump invalidates everything, and a
  generation per endpoint, so one endpoint can be purged (the admin's purge actions).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache

from .errors import Kind, UpstreamError
from .health import health
from .policy import policy_for

T = TypeVar("T")

# Bump when the cached records' shape changes, so old pickles are never read.
SCHEMA = 1
GENERATION_KEY = "upstream:generation"
WAIT_STEP = 0.05
MISSING_SECONDS = 60

# Refreshes of keys that have a copy to show, beside the visitor's request: one per key at
# a time (the single-flight lock), 16 running and BACKGROUND_LIMIT queued or running at
# most. Past that parti is plainly slow, and the copy answers without asking it again.
BACKGROUND_LIMIT = 64
_refreshes = ThreadPoolExecutor(max_workers=16, thread_name_prefix="refresh")
_background_slots = threading.BoundedSemaphore(BACKGROUND_LIMIT)


@dataclass(frozen=True)
class Fetched(Generic[T]):
    data: T
    fetched_at: float
    # True when parti failed and this is the last good copy.
    stale: bool = False
    error: UpstreamError | None = None


def _endpoint_generation_key(endpoint: str) -> str:
    return f"{GENERATION_KEY}:{endpoint}"


def generation() -> int:
    return cache.get(GENERATION_KEY) or 1


def _generations(endpoint: str) -> tuple[int, int]:
    """(everything's generation, this endpoint's), in one cache round trip."""
    endpoint_key = _endpoint_generation_key(endpoint)
    found = cache.get_many([GENERATION_KEY, endpoint_key])
    return found.get(GENERATION_KEY) or 1, found.get(endpoint_key) or 1


def _bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:
        # Never set (1 was assumed), or the cache lost it: a number not used before.
        cache.add(key, max(2, time.time_ns()), timeout=None)


def bump_generation() -> None:
    """Invalidate every cached upstream answer at once (all processes sharing the cache)."""
    _bump(GENERATION_KEY)


def purge_endpoint(endpoint: str) -> None:
    """Invalidate every cached answer of one endpoint (all processes sharing the cache)."""
    _bump(_endpoint_generation_key(endpoint))


def _key(endpoint: str, key: str, endpoint_generation: int) -> str:
    digest = hashlib.sha1(key.encode()).hexdigest()[:20]
    return f"upstream:{SCHEMA}:{endpoint}:{endpoint_generation}:{digest}"


def forget(endpoint: str, key: str) -> None:
    """Drop the cached answer for (endpoint, key), so the next `cached` call asks parti."""
    version, endpoint_generation = _generations(endpoint)
    data_key = _key(endpoint, key, endpoint_generation)
    cache.delete_many([data_key, data_key + ":missing"], version=version)


def peek(endpoint: str, key: str) -> Fetched | None:
    """The cached answer for (endpoint, key), fresh or not, without asking parti; None when
    nothing is cached. For pages that may show many records but fetch only a few."""
    version, endpoint_generation = _generations(endpoint)
    entry = cache.get(_key(endpoint, key, endpoint_generation), version=version)
    return Fetched(entry[0], entry[1]) if entry is not None else None


def cached(endpoint: str, key: str, fetch: Callable[[], T]) -> Fetched[T]:
    """Return the cached answer for (endpoint, key), calling `fetch` on a miss.

    Raises UpstreamError only when parti fails and no copy is left to show.
    """
    policy = policy_for(endpoint)
    version, endpoint_generation = _generations(endpoint)
    data_key = _key(endpoint, key, endpoint_generation)
    lock_key = data_key + ":lock"
    missing_key = data_key + ":missing"
    found = cache.get_many([data_key, missing_key], version=version)
    entry = found.get(data_key)
    if entry is not None and time.time() - entry[1] < policy.ttl:
        health.record_cache(endpoint, hit=True)
        return Fetched(entry[0], entry[1])
    if entry is None and missing_key in found:
        health.record_cache(endpoint, hit=True)
        raise found[missing_key]

    lock_seconds = int(settings.PARTI_DEADLINE + settings.PARTI_CONNECT_TIMEOUT) + 2
    if cache.add(lock_key, 1, timeout=lock_seconds, version=version):
        health.record_cache(endpoint, hit=False)

        def refresh() -> Fetched:
            try:
                return _refresh(endpoint, policy, fetch, data_key, version, entry)
            finally:
                cache.delete(lock_key, version=version)

        if entry is None:
            return refresh()
        return _with_patience(endpoint, refresh, entry, lock_key, version)

    # Someone else is fetching this key right now.
    if entry is not None:
        # An expired copy answers at once while the other request refreshes it.
        health.record_cache(endpoint, hit=True)
        return Fetched(entry[0], entry[1])
    return _wait_for(endpoint, data_key, lock_key, version, lock_seconds)


def _with_patience(endpoint, refresh, entry, lock_key, version) -> Fetched:
    """`refresh` in the background, waited for PARTI_PATIENCE seconds; past that, or when
    too many refreshes wait already, the expired copy answers (as stale)."""
    slow = UpstreamError(Kind.TIMEOUT, "parti is slow to answer")
    copy = Fetched(entry[0], entry[1], stale=True, error=slow)
    if not _background_slots.acquire(blocking=False):
        cache.delete(lock_key, version=version)
        health.record_cache(endpoint, hit=True, stale=True)
        return copy

    def run() -> Fetched:
        try:
            return refresh()
        finally:
            _background_slots.release()

    running = _refreshes.submit(run)
    try:
        return running.result(timeout=settings.PARTI_PATIENCE)
    except FuturesTimeout:
        health.record_cache(endpoint, hit=True, stale=True)
        return copy


def _refresh(endpoint, policy, fetch, data_key, version, entry) -> Fetched:
    error_key = data_key + ":error"
    try:
        data = fetch()
    except UpstreamError as error:
        # Tell requests waiting on this fetch what happened, briefly; never kept as data.
        cache.set(error_key, error, timeout=2, version=version)
        missing_for = min(policy.ttl, MISSING_SECONDS)
        if error.is_not_found and entry is None and missing_for > 0:
            cache.set(data_key + ":missing", error, timeout=missing_for, version=version)
        if entry is not None:
            health.record_cache(endpoint, hit=True, stale=True)
            return Fetched(entry[0], entry[1], stale=True, error=error)
        raise
    now = time.time()
    cache.set(data_key, (data, now), timeout=policy.ttl + policy.stale, version=version)
    cache.delete(error_key, version=version)
    return Fetched(data, now)


def _wait_for(endpoint, data_key, lock_key, version, lock_seconds) -> Fetched:
    error_key = data_key + ":error"
    give_up = time.monotonic() + lock_seconds
    while time.monotonic() < give_up:
        time.sleep(WAIT_STEP)
        entry = cache.get(data_key, version=version)
        if entry is not None:
            health.record_cache(endpoint, hit=True)
            return Fetched(entry[0], entry[1])
        error = cache.get(error_key, version=version)
        if error is not None:
            raise error
        if cache.get(lock_key, version=version) is None:
            break
    raise UpstreamError(Kind.TIMEOUT, "gave up waiting for another request's answer")
