"""What the benchmarks share: the table of ratios, HTTP load loops, the simulator's counters,
a process's memory. The percentile, CPU-time and open-files helpers are broadcast.py's."""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.broadcast import cpu_seconds, percentile, raise_open_files  # noqa: E402, F401

# The bench's Daphnes run without the relay (LIVE_RELAY=0) unless a benchmark is about it:
# its own API calls and WebSocket traffic would blur the page and media counts.
QUIET = {"LIVE_RELAY": "0", "RATE_LIMITS": "off"}


@dataclass
class Row:
    metric: str
    value: float
    baseline: float
    good: str  # what a good ratio looks like
    unit: str = ""

    @property
    def ratio(self) -> float:
        if not self.baseline or math.isnan(self.baseline) or math.isnan(self.value):
            return float("nan")
        return self.value / self.baseline


def number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(rows: Sequence[Row]) -> str:
    header = ("metric", "value", "baseline", "ratio", "good")
    cells = [
        (r.metric + (f" ({r.unit})" if r.unit else ""), number(r.value), number(r.baseline))
        + (f"x{number(r.ratio)}", r.good)
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(4)]
    lines = []
    for line in [header, *cells]:
        lines.append(
            f"{line[0]:<{widths[0]}}  {line[1]:>{widths[1]}}  {line[2]:>{widths[2]}}  "
            f"{line[3]:>{widths[3]}}  {line[4]}"
        )
        if line is header:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def run_alone(run: Callable) -> None:
    """`python bench/NAME.py`: that one benchmark's table, then how long it took."""
    started = time.perf_counter()
    print(table(asyncio.run(run())))
    print(f"({time.perf_counter() - started:.0f} s)")


def say(text: str) -> None:
    print(text, flush=True)


# --- HTTP load ---------------------------------------------------------------------------


@dataclass
class Load:
    """What a load loop saw: one latency per answered request, statuses, elapsed time."""

    latencies: list[float] = field(default_factory=list)
    started: list[float] = field(default_factory=list)  # perf_counter at each request's start
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    client_cpu: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else float("nan")

    def p(self, pct: float, after: float = 0.0) -> float:
        """Percentile latency of the requests started `after` seconds into the run or later."""
        if not self.started:
            return float("nan")
        start = min(self.started) + after
        pairs = zip(self.latencies, self.started, strict=True)
        return percentile([latency for latency, t in pairs if t >= start], pct)


def session(connections: int, timeout: float = 30) -> aiohttp.ClientSession:
    """Keep-alive connections, nothing from the environment (no proxies): loopback only."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, force_close=False),
        timeout=aiohttp.ClientTimeout(total=timeout),
        trust_env=False,
    )


async def get(http: aiohttp.ClientSession, url: str, load: Load) -> None:
    started = time.perf_counter()
    try:
        async with http.get(url, allow_redirects=False) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        load.errors[type(error).__name__] += 1
        return
    load.latencies.append(time.perf_counter() - started)
    load.started.append(started)
    load.statuses[status] += 1


async def closed_loop(base: str, paths: Sequence[str], seconds: float, concurrency: int) -> Load:
    """`concurrency` clients, each sending its next request as soon as the last is answered,
    for `seconds`: the server's throughput when it is the bottleneck."""
    load = Load()
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        i = n
        while time.perf_counter() < deadline:
            await get(http, base + paths[i % len(paths)], load)
            i += concurrency

    async with session(concurrency) as http:
        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(concurrency)))
        load.seconds = time.perf_counter() - started
        load.client_cpu = time.process_time() - cpu
    return load


async def paced(
    base: str,
    pick: Callable[[int], str],
    seconds: float,
    rate: float,
    in_flight: int = 64,
) -> Load:
    """An open loop: a request every 1/rate seconds whatever the answers take (as visitors
    arrive), `pick(n)` the n-th path; at most `in_flight` at once, so it stays bounded."""
    load = Load()
    gate = asyncio.Semaphore(in_flight)
    tasks: list[asyncio.Task] = []

    async def one(url: str) -> None:
        async with gate:
            await get(http, url, load)

    async with session(in_flight) as http:
        started = time.perf_counter()
        n = 0
        while (now := time.perf_counter()) < started + seconds:
            due = started + n / rate
            if due > now:
                await asyncio.sleep(due - now)
            tasks.append(asyncio.create_task(one(base + pick(n))))
            n += 1
        await asyncio.gather(*tasks)
        load.seconds = time.perf_counter() - started
    return load


# --- the simulator's control plane ------------------------------------------------------


async def sim_counts(control_url: str, host: str) -> Counter:
    async with session(2) as http, http.get(f"{control_url}/_sim/requests?host={host}") as r:
        return Counter(await r.json())


async def sim_post(control_url: str, path: str, body: dict | None = None) -> dict:
    async with session(2) as http, http.post(control_url + path, json=body or {}) as r:
        r.raise_for_status()
        return await r.json()


async def sim_delete(control_url: str, path: str) -> None:
    async with session(2) as http, http.delete(control_url + path) as r:
        r.raise_for_status()


async def sim_state(control_url: str) -> dict:
    async with session(2) as http, http.get(control_url + "/_sim/state") as r:
        return await r.json()


# --- processes ---------------------------------------------------------------------------


def rss_bytes(pid: int) -> float:
    """Resident memory of a process (VmRSS in /proc/<pid>/status; NaN elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024.0
    except OSError:
        pass
    return float("nan")
