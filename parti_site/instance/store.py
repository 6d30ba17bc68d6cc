"""How the site reads the operator's settings: `current()`, a snapshot of the rows.

A change saved in any process is obeyed by the next request in every process, with no
restart and no database query per call:

- The shared cache (Redis when scaled out) holds a settings generation number and, keyed
  by it, the snapshot. Saving a row (after its commit) bumps the number and stores the new
  snapshot: `publish()`.
- Each process keeps the snapshot it last read with its generation. `current()` costs one
  cache get of the number; only when it moved is the snapshot read again (from the cache,
  or from the database if the cache lost it).
- When the database cannot be read (before `migrate`, a database outage) the defaults in
  upstream/policy.py and the model fields stand in, retried every few seconds. When the
  cache is down, the last snapshot seen stands in. A page is never refused for either.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection

from parti_site.upstream.policy import DEFAULT_POLICIES, CachePolicy

log = logging.getLogger(__name__)

GENERATION_KEY = "instance:settings:generation"
SNAPSHOT_KEY = "instance:settings:snapshot:1"  # bump the digit when Snapshot changes shape
# Old snapshots expire (one is stored per change); a reader that misses reads the rows.
SNAPSHOT_SECONDS = 24 * 3600
RETRY_SECONDS = 5.0  # how soon an unreadable database is tried again
LOAD_SECONDS = 5.0


@dataclass(frozen=True)
class Snapshot:
    policies: dict[str, CachePolicy] = field(default_factory=lambda: dict(DEFAULT_POLICIES))
    segment_mode: str = ""  # "" follows settings.SEGMENT_MODE (media/modes.py decides)
    image_proxy: bool = True
    max_height: int | None = None  # highest variant offered when proxied; None: all
    public_chat: bool = True
    banner: str = ""
    from_defaults: bool = False  # True when the database could not be read

    def policy(self, endpoint: str) -> CachePolicy:
        return self.policies.get(endpoint) or DEFAULT_POLICIES[endpoint]


@dataclass(frozen=True)
class _Seen:
    generation: int
    snapshot: Snapshot
    retry_at: float | None = None  # for defaults standing in: when to try the database again


_seen: _Seen | None = None
_warned = False
# Database reads asked for from an event loop (async views, consumers) run here: Django
# refuses database access in async code.
_loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="instance-settings")
_lock = threading.Lock()


def current() -> Snapshot:
    """The operator's settings as of now."""
    global _seen
    try:
        generation = _generation()
    except Exception as error:  # noqa: BLE001 - the shared cache is down: keep going
        log.debug("instance settings: cache unavailable (%s)", error)
        return _without_cache()
    seen = _seen
    if seen is not None and seen.generation == generation:
        if seen.retry_at is None or time.monotonic() < seen.retry_at:
            return seen.snapshot
    snapshot = cache.get(SNAPSHOT_KEY, version=generation)
    if snapshot is None:
        snapshot = _load()
        if snapshot.from_defaults:
            _seen = _Seen(generation, snapshot, time.monotonic() + RETRY_SECONDS)
            return snapshot
        cache.add(SNAPSHOT_KEY, snapshot, timeout=SNAPSHOT_SECONDS, version=generation)
    _seen = _Seen(generation, snapshot)
    return snapshot


def _without_cache() -> Snapshot:
    """While the shared cache is down: the last snapshot seen, else the database's, read
    again every few seconds (other processes' changes cannot be announced meanwhile)."""
    global _seen
    seen = _seen
    if seen is None or (seen.retry_at is not None and time.monotonic() >= seen.retry_at):
        seen = _seen = _Seen(-1, _load(), time.monotonic() + RETRY_SECONDS)
    return seen.snapshot


def publish() -> None:
    """Tell every process the rows changed (models call this after a commit)."""
    try:
        generation = _bump()
        snapshot = _load()
        if not snapshot.from_defaults:
            cache.set(SNAPSHOT_KEY, snapshot, timeout=SNAPSHOT_SECONDS, version=generation)
    except Exception as error:  # noqa: BLE001 - the rows are saved; readers will catch up
        log.warning("instance settings: could not publish a change: %s", error)


def _generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        # First use, or the cache lost it: a number no earlier snapshot was stored under.
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        value = cache.get(GENERATION_KEY)
        if value is None:
            raise LookupError("the cache keeps nothing")  # Redis down (cache_backend.py)
    return int(value)


def _bump() -> int:
    with _lock:
        try:
            return cache.incr(GENERATION_KEY)
        except ValueError:
            cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
            return cache.incr(GENERATION_KEY)


def _load() -> Snapshot:
    """The snapshot from the database, or the defaults if it cannot be read."""
    global _warned
    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            snapshot = _read_rows()
        else:
            snapshot = _loader.submit(_read_rows_and_close).result(timeout=LOAD_SECONDS)
    except Exception as error:  # noqa: BLE001 - no table yet, database down, ...
        if not _warned:
            log.warning("instance settings unavailable, using the defaults: %s", error)
            _warned = True
        return Snapshot(from_defaults=True)
    _warned = False
    return snapshot


def _read_rows() -> Snapshot:
    from .models import CacheSetting, Switches

    policies = dict(DEFAULT_POLICIES)
    for row in CacheSetting.objects.all():
        default = DEFAULT_POLICIES.get(row.endpoint)
        if default is not None:
            policies[row.endpoint] = CachePolicy(row.ttl, row.stale, default.pages)
    switches = Switches.objects.filter(pk=1).first() or Switches()
    return Snapshot(
        policies=policies,
        segment_mode=switches.segment_mode,
        image_proxy=switches.image_proxy,
        max_height=switches.max_height,
        public_chat=switches.public_chat,
        banner=switches.banner.strip(),
    )


def _read_rows_and_close() -> Snapshot:
    try:
        return _read_rows()
    finally:
        connection.close()  # this thread's own connection; nothing closes it otherwise
