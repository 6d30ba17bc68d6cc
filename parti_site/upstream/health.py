"""What this process has seen of parti since it started: per endpoint successes, failures,
cache hits and misses, and the state of its circuit (circuit.py). Read by /healthz (and the
admin health page)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from .circuit import breakers
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
    # The endpoint's circuit (circuit.py), filled in by snapshot().
    circuit: str = "closed"
    circuit_since: float | None = None  # Unix seconds its state began
    circuit_failures: int = 0  # failures in a row
    circuit_retry_at: float | None = None  # when open: when the next probe may go
    circuit_rejected: int = 0  # calls failed fast while it was open

    @property
    def failing(self) -> bool:
        return self.last_failure is not None and (
            self.last_success is None or self.last_failure > self.last_success
        )

    @property
    def degraded(self) -> bool:
        """Failing now, or its circuit is not closed (parti is not being asked)."""
        return self.failing or self.circuit != "closed"


def overall(endpoints: dict[str, EndpointHealth]) -> str:
    """ "ok", or "degraded" while any endpoint is (snapshot()'s records)."""
    return "degraded" if any(entry.degraded for entry in endpoints.values()) else "ok"


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
            seen = {name: EndpointHealth(**vars(entry)) for name, entry in self.endpoints.items()}
        for name, circuit in breakers.snapshot().items():
            entry = seen.setdefault(name, EndpointHealth())
            entry.circuit = str(circuit.state)
            entry.circuit_since = circuit.since
            entry.circuit_failures = circuit.failures
            entry.circuit_retry_at = circuit.retry_at
            entry.circuit_rejected = circuit.rejected
        return seen

    def reset(self) -> None:
        """Forget everything seen, circuits included (tests)."""
        with self._lock:
            self.endpoints.clear()
        breakers.reset()


health = Health()
