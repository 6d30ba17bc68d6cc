"""What this process has seen of parti since it started: per endpoint successes, failures,
cache hits and misses. Read by /healthz (and the admin health page)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from .errors import UpstreamError


@dataclass
class EndpointHealth:
    calls: int = 0
    failures: int = 0
    hits: int = 0
    misses: int = 0
    stale_served: int = 0
    last_success: float | None = None
    last_failure: float | None = None
    last_failure_kind: str = ""
    last_failure_message: str = ""

    @property
    def failing(self) -> bool:
        return self.last_failure is not None and (
            self.last_success is None or self.last_failure > self.last_success
        )


@dataclass
class Health:
    endpoints: dict[str, EndpointHealth] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _get(self, endpoint: str) -> EndpointHealth:
        return self.endpoints.setdefault(endpoint, EndpointHealth())

    def record_success(self, endpoint: str) -> None:
        with self._lock:
            entry = self._get(endpoint)
            entry.calls += 1
            entry.last_success = time.time()

    def record_failure(self, endpoint: str, error: UpstreamError) -> None:
        with self._lock:
            entry = self._get(endpoint)
            entry.calls += 1
            entry.failures += 1
            entry.last_failure = time.time()
            entry.last_failure_kind = str(error.kind)
            entry.last_failure_message = error.message

    def record_cache(self, endpoint: str, *, hit: bool, stale: bool = False) -> None:
        with self._lock:
            entry = self._get(endpoint)
            if hit:
                entry.hits += 1
            else:
                entry.misses += 1
            if stale:
                entry.stale_served += 1

    def snapshot(self) -> dict[str, EndpointHealth]:
        with self._lock:
            return {name: EndpointHealth(**vars(entry)) for name, entry in self.endpoints.items()}

    def reset(self) -> None:
        with self._lock:
            self.endpoints.clear()


health = Health()
