"""Django's Redis cache, made to shrug off a Redis outage (settings.CACHES with REDIS_URL).

Django's RedisCache raises on a connection error, so a restarting Redis would turn every
page into a server error. Here an error makes the operation answer as a miss (`get` gives
the default, `add` says "added" so single-flight callers go ahead and fetch, `set` and
`delete` do nothing, `incr` raises ValueError as for a missing key) and Redis is left alone
for `DOWN_SECONDS`, so pages do not each wait on a dead connection. Then it is tried again;
redis-py reconnects by itself once Redis is back (its sync pool checks a pooled connection
before handing it out, so connections that a Redis restart closed cost no failure).

`redis_reachable()` tells /healthz whether Redis answers.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger("parti_site.cache")

DOWN_SECONDS = 1.0


class _Outage:
    """Per process, not per backend instance: Django makes one instance per thread (and per
    request under ASGI), and every one of them should skip a Redis known to be down."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_until: dict[str, float] = {}  # LOCATION -> monotonic time

    def down(self, where: str) -> bool:
        return time.monotonic() < self.down_until.get(where, 0.0)

    def failed(self, where: str, error: Exception) -> None:
        with self.lock:
            was_up = where not in self.down_until
            self.down_until[where] = time.monotonic() + DOWN_SECONDS
        if was_up:
            log.warning("cache: Redis unavailable (%s); answering as misses", error)

    def worked(self, where: str) -> None:
        if where not in self.down_until:
            return
        with self.lock:
            was_down = self.down_until.pop(where, None) is not None
        if was_down:
            log.warning("cache: Redis is back")


_outage = _Outage()


class TolerantRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._where = ",".join(self._servers)

    def _tolerant(self, fallback, call, *args, **kwargs):
        if _outage.down(self._where):
            return fallback()
        try:
            result = call(*args, **kwargs)
        except RedisError as error:
            _outage.failed(self._where, error)
            return fallback()
        _outage.worked(self._where)
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._tolerant(lambda: True, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._tolerant(lambda: default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._tolerant(lambda: None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._tolerant(lambda: False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._tolerant(lambda: False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._tolerant(dict, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._tolerant(lambda: False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        return self._tolerant(_missing(key), super().incr, key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._tolerant(lambda: list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._tolerant(lambda: None, super().delete_many, keys, version)

    def clear(self):
        return self._tolerant(lambda: False, super().clear)

    def reachable(self) -> bool:
        """A PING, unless Redis failed within the last DOWN_SECONDS (then: no, at once)."""
        return self._tolerant(lambda: False, lambda: bool(self._cache.get_client().ping()))


def redis_reachable() -> bool | None:
    """Whether the cache's Redis answers; None when the cache is not on Redis."""
    backend = caches["default"]
    return backend.reachable() if isinstance(backend, TolerantRedisCache) else None


def _missing(key):
    def fallback():
        raise ValueError(f"Key '{key}' not found (Redis unavailable)")

    return fallback
