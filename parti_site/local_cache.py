"""Django's local-memory cache with a ceiling in bytes as well as in entries (settings.CACHES
without REDIS_URL).

`MAX_ENTRIES` alone bounds nothing useful: an entry may be a 50-byte counter or a parsed
list of 100 channels. LocMemCache keeps every value pickled, so the bytes it holds are just
the lengths of those pickles; past `MAX_BYTES` the least recently used entries go, and a
value larger than the whole ceiling is not kept at all (the caller fetches it again).
"""

from __future__ import annotations

import pickle

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class _Usage:
    """Bytes held under one cache name. Shared by every instance of that name (Django makes
    one per thread), as LocMemCache shares its store, and guarded by the store's lock."""

    def __init__(self) -> None:
        self.bytes = 0


_usage: dict[str, _Usage] = {}


class BoundedLocMemCache(LocMemCache):
    def __init__(self, name, params):
        super().__init__(name, params)
        self._max_bytes = int(params.get("OPTIONS", {}).get("MAX_BYTES", DEFAULT_MAX_BYTES))
        self._usage = _usage.setdefault(name, _Usage())

    @property
    def bytes_held(self) -> int:
        return self._usage.bytes

    # Every change to the store goes through these, called with the lock held.

    def _set(self, key, value, timeout=DEFAULT_TIMEOUT):
        self._delete(key)
        if len(value) > self._max_bytes:
            return
        super()._set(key, value, timeout)
        self._usage.bytes += len(value)
        while self._usage.bytes > self._max_bytes:
            self._pop_least_recent()

    def _pop_least_recent(self) -> None:
        key, value = self._cache.popitem()  # LocMemCache keeps the most recent first
        del self._expire_info[key]
        self._usage.bytes -= len(value)

    def _cull(self):
        if self._cull_frequency == 0:
            self._cache.clear()
            self._expire_info.clear()
            self._usage.bytes = 0
            return
        for _ in range(len(self._cache) // self._cull_frequency):
            self._pop_least_recent()

    def _delete(self, key):
        value = self._cache.get(key)
        if value is None:
            return False
        self._usage.bytes -= len(value)
        return super()._delete(key)

    def incr(self, key, delta=1, version=None):
        # LocMemCache.incr replaces the pickle in place, bypassing _set.
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                raise ValueError(f"Key '{key}' not found")
            new_value = pickle.loads(self._cache[key]) + delta
            pickled = pickle.dumps(new_value, self.pickle_protocol)
            self._usage.bytes += len(pickled) - len(self._cache[key])
            self._cache[key] = pickled
            self._cache.move_to_end(key, last=False)
        return new_value

    def clear(self):
        with self._lock:
            self._cache.clear()
            self._expire_info.clear()
            self._usage.bytes = 0
