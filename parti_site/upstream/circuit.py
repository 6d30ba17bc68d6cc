"""Circuit breakers, one per endpoint: stop asking parti while an endpoint keeps failing.

- Closed: calls go through. A failure that means "parti is failing" (unreachable, too slow,
  5xx, 429, 403, a body that is not data) counts; a success resets the count. After
  `PARTI_CIRCUIT_FAILURES` in a row the circuit opens. parti saying "no such thing"
  (404, 410) or "bad request" (other 4xx) is an answer, not a failure.
- Open: calls fail at once with UpstreamError(Kind.CIRCUIT_OPEN), so the cache serves its
  stale copy at once, or the page is the friendly 503, instead of every visitor waiting for
  the deadline. For `PARTI_CIRCUIT_COOLDOWN` seconds, doubled after each failed probe up to
  `PARTI_CIRCUIT_COOLDOWN_MAX`. A `Retry-After` from parti (429, 503) opens it at once for
  that long (capped at the maximum): parti asked us to wait.
- Half-open: once the cool-down is over one call, the probe, goes through while the others
  still fail fast. Its success closes the circuit; its failure opens it again.

State is per process: each Daphne process learns on its own, so with N processes parti sees
at most N probes per cool-down. `snapshot()` feeds /healthz and the admin's health page.
Answers that arrive but do not parse (parse.py's UNEXPECTED_SHAPE) do not count: they cost
no time, and the cache's stale copies already stand in for them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

from .errors import Kind, UpstreamError

DEFAULT_FAILURES = 5
DEFAULT_COOLDOWN = 30.0
DEFAULT_COOLDOWN_MAX = 300.0
# Statuses that say parti (or whatever stands in front of it) is refusing or failing.
FAILING_STATUSES = frozenset({403, 408, 429})


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass
class Circuit:
    state: State = State.CLOSED
    since: float | None = None  # Unix seconds the state began (None: closed from the start)
    failures: int = 0  # in a row
    cooldown: float = 0.0  # of the current or last opening
    retry_at: float | None = None  # Unix seconds the next probe may go (open only)
    rejected: int = 0  # calls failed fast, since the process started
    opened: int = 0  # times it opened, since the process started
    last_error: str = ""
    # Monotonic clock, for the decisions (the Unix times above are for people).
    _retry_at: float = 0.0
    _probe_started: float | None = None

    def public(self) -> Circuit:
        return Circuit(**vars(self))


def counts(error: UpstreamError) -> bool:
    """Whether a failed call says parti is failing (rather than answering "no")."""
    if error.kind == Kind.CIRCUIT_OPEN:
        return False
    if error.kind == Kind.HTTP_STATUS:
        status = error.status or 0
        return status >= 500 or status in FAILING_STATUSES
    return True


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


class Breakers:
    def __init__(self, clock=time.monotonic, wall=time.time):
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._circuits: dict[str, Circuit] = {}

    def _get(self, endpoint: str) -> Circuit:
        return self._circuits.setdefault(endpoint, Circuit())

    def allow(self, endpoint: str) -> None:
        """Return if a call may go to parti now, else raise UpstreamError(CIRCUIT_OPEN)."""
        with self._lock:
            circuit = self._get(endpoint)
            if circuit.state == State.CLOSED:
                return
            now = self._clock()
            if circuit.state == State.OPEN and now >= circuit._retry_at:
                self._enter(circuit, State.HALF_OPEN)
                circuit._probe_started = now
                return
            if circuit.state == State.HALF_OPEN and self._probe_lost(circuit, now):
                circuit._probe_started = now  # the last probe never reported: another one
                return
            circuit.rejected += 1
            wait = max(0.0, circuit._retry_at - now)
            raise UpstreamError(
                Kind.CIRCUIT_OPEN,
                f"{endpoint}: not asking parti for {wait:.0f} s more, after "
                f"{circuit.failures} failures in a row ({circuit.last_error})",
                retry_after=wait or None,
            )

    def _probe_lost(self, circuit: Circuit, now: float) -> bool:
        started = circuit._probe_started
        longest = _setting("PARTI_DEADLINE", 8.0) + _setting("PARTI_CONNECT_TIMEOUT", 3.0) + 1
        return started is None or now - started > longest

    def success(self, endpoint: str) -> None:
        with self._lock:
            circuit = self._get(endpoint)
            circuit.failures = 0
            if circuit.state != State.CLOSED:
                self._enter(circuit, State.CLOSED)
                circuit.cooldown = 0.0
                circuit.retry_at = None
                circuit._probe_started = None

    def failure(self, endpoint: str, error: UpstreamError) -> None:
        if not counts(error):
            # An answer ("no such user"): parti is up, so a probe that got one succeeded.
            if error.kind != Kind.CIRCUIT_OPEN:
                self.success(endpoint)
            return
        with self._lock:
            circuit = self._get(endpoint)
            circuit.failures += 1
            circuit.last_error = str(error)[:200]
            limit = max(1, int(_setting("PARTI_CIRCUIT_FAILURES", DEFAULT_FAILURES)))
            if circuit.state == State.HALF_OPEN:
                self._open(circuit, error, max(circuit.cooldown * 2, self._base()))
            elif circuit.state == State.CLOSED and (
                error.retry_after is not None or circuit.failures >= limit
            ):
                self._open(circuit, error, self._base())
            # Open already: a call that started before it opened; the cool-down stands.

    def _base(self) -> float:
        return _setting("PARTI_CIRCUIT_COOLDOWN", DEFAULT_COOLDOWN)

    def _open(self, circuit: Circuit, error: UpstreamError, cooldown: float) -> None:
        longest = _setting("PARTI_CIRCUIT_COOLDOWN_MAX", DEFAULT_COOLDOWN_MAX)
        if error.retry_after is not None:
            cooldown = error.retry_after  # parti said how long
        cooldown = max(0.0, min(cooldown, longest))
        self._enter(circuit, State.OPEN)
        circuit.opened += 1
        circuit.cooldown = cooldown
        circuit._retry_at = self._clock() + cooldown
        circuit.retry_at = self._wall() + cooldown
        circuit._probe_started = None

    def _enter(self, circuit: Circuit, state: State) -> None:
        circuit.state = state
        circuit.since = self._wall()

    def state(self, endpoint: str) -> State:
        with self._lock:
            return self._get(endpoint).state

    def snapshot(self) -> dict[str, Circuit]:
        with self._lock:
            return {name: circuit.public() for name, circuit in self._circuits.items()}

    def reset(self) -> None:
        with self._lock:
            self._circuits.clear()


breakers = Breakers()
