"""In-process sharing of upstream fetches between concurrent viewers, bounded by bytes.

- `SingleFlight`: one upstream fetch per key however many ask at once, and the answer (or a
  failure) kept for a short TTL. Used for playlists: a live playlist is fetched at most once
  per TTL per channel, however many watch.
- `SegmentTee`: the first viewer of a segment starts one upstream stream that appends to a
  shared buffer; later viewers read the same buffer as it grows. Finished buffers are kept a
  few seconds. Memory is O(active segments), not O(viewers).

Both are per event loop (`loop_local`): asyncio futures belong to one loop. Daphne runs one
loop per process, so in production this is per process. Nothing here does HTTP.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _now() -> float:
    return time.monotonic()


class loop_local(Generic[T]):  # noqa: N801 (used like a function)
    """`loop_local(factory).get()`: one `factory()` object per running event loop."""

    def __init__(self, factory: Callable[[], T]):
        self._factory = factory
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        value = self._by_loop.get(loop)
        if value is None:
            value = self._by_loop[loop] = self._factory()
        return value


@dataclass
class _Cached:
    expires: float
    value: Any
    error: BaseException | None
    size: int


class SingleFlight:
    """Coalesce concurrent fetches of one key; keep answers `ttl(value)` seconds (LRU by bytes).

    Failures of the types in `cache_errors` are kept `error_ttl` seconds, so a crowd watching
    a stream that just ended does not turn into a crowd of upstream requests either.
    """

    def __init__(
        self,
        *,
        max_bytes: int,
        max_entries: int = 2000,
        error_ttl: float = 1.0,
        cache_errors: tuple[type[BaseException], ...] = (),
    ):
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.error_ttl = error_ttl
        self.cache_errors = cache_errors
        self._entries: OrderedDict[Hashable, _Cached] = OrderedDict()
        self._bytes = 0
        self._inflight: dict[Hashable, asyncio.Task] = {}

    async def get(
        self,
        key: Hashable,
        fetch: Callable[[], Awaitable[T]],
        *,
        ttl: Callable[[T], float],
        size: Callable[[T], int],
    ) -> T:
        entry = self._entries.get(key)
        if entry is not None:
            if entry.expires > _now():
                self._entries.move_to_end(key)
                if entry.error is not None:
                    raise entry.error
                return entry.value
            self._remove(key)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(fetch())
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._finished(key, done, ttl, size))
        # shield: a viewer who goes away must not cancel the fetch the others wait for.
        return await asyncio.shield(task)

    def _finished(self, key, task: asyncio.Task, ttl, size) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if task.cancelled():
            return
        error = task.exception()  # also marks it retrieved
        if error is None:
            value = task.result()
            seconds, nbytes = ttl(value), size(value)
            if seconds > 0 and nbytes <= self.max_bytes:
                self._store(key, _Cached(_now() + seconds, value, None, nbytes))
        elif isinstance(error, self.cache_errors) and self.error_ttl > 0:
            self._store(key, _Cached(_now() + self.error_ttl, None, error, 0))

    def _store(self, key: Hashable, entry: _Cached) -> None:
        self._remove(key)
        self._entries[key] = entry
        self._bytes += entry.size
        if self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
            now = _now()
            for old in [k for k, e in self._entries.items() if e.expires <= now]:
                self._remove(old)
        while self._entries and (
            self._bytes > self.max_bytes or len(self._entries) > self.max_entries
        ):
            self._remove(next(iter(self._entries)))

    def _remove(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes


class SharedBody:
    """One upstream body being read once and read by any number of viewers."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        # (status, headers) once upstream answered, or the error.
        self.ready: asyncio.Future[tuple[int, dict[str, str]]] = loop.create_future()
        self.chunks: list[bytes] = []
        self.size = 0
        self.done = False
        self.done_at = 0.0
        self.error: BaseException | None = None
        self._changed = asyncio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def append(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        self.size += len(chunk)
        self._notify()

    def finish(self, error: BaseException | None = None) -> None:
        self.error = error
        self.done = True
        self.done_at = _now()
        if not self.ready.done():
            if error is not None:
                self.ready.set_exception(error)
                self.ready.exception()  # retrieved: viewers may all have gone
            else:
                self.ready.set_result((502, {}))
        self._notify()

    async def read(self) -> AsyncIterator[bytes]:
        """Every chunk from the start; waits for more until the body is complete."""
        index = 0
        while True:
            if index < len(self.chunks):
                yield self.chunks[index]
                index += 1
                continue
            if self.error is not None:
                raise self.error
            if self.done:
                return
            await self._changed.wait()


class SegmentTee:
    """Share one upstream read of a body per key among concurrent viewers.

    `open(key, start)` returns the SharedBody for `key`, starting `start(body)` as a background
    task if no viewer is reading it yet, or None when the tee is full (then the caller streams
    on its own, holding no more than a chunk). Full means: the kept bytes exceed `max_bytes`
    after evicting finished bodies, or `max_active` bodies are still being read.
    """

    def __init__(self, *, max_bytes: int, keep_seconds: float, max_active: int = 100):
        self.max_bytes = max_bytes
        self.keep_seconds = keep_seconds
        self.max_active = max_active
        self._entries: OrderedDict[Hashable, SharedBody] = OrderedDict()
        self._tasks: set[asyncio.Task] = set()

    @property
    def bytes(self) -> int:
        return sum(body.size for body in self._entries.values())

    def open(
        self, key: Hashable, start: Callable[[SharedBody], Awaitable[None]]
    ) -> SharedBody | None:
        self._expire()
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
            return body
        self._evict()
        active = sum(1 for b in self._entries.values() if not b.done)
        if self.bytes >= self.max_bytes or active >= self.max_active:
            return None
        body = SharedBody()
        self._entries[key] = body
        task = asyncio.ensure_future(self._run(key, body, start))
        self._tasks.add(task)  # keep a reference until done
        task.add_done_callback(self._tasks.discard)
        return body

    async def _run(self, key, body: SharedBody, start) -> None:
        try:
            await start(body)
        except BaseException as error:  # includes cancellation at shutdown
            body.finish(error)
            if self._entries.get(key) is body:
                del self._entries[key]  # never share a failure
            if not isinstance(error, Exception):
                raise
        else:
            if not body.done:
                body.finish()
            self._evict()

    def _expire(self) -> None:
        limit = _now() - self.keep_seconds
        for key in [k for k, b in self._entries.items() if b.done and b.done_at < limit]:
            del self._entries[key]

    def _evict(self) -> None:
        """Drop finished bodies, least recently opened first, until under the byte cap."""
        total = self.bytes
        for key in list(self._entries):
            if total <= self.max_bytes:
                break
            body = self._entries[key]
            if body.done:
                total -= body.size
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
