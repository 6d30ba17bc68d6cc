"""Pages on one Daphne process against the simulated parti: throughput, upstream calls,
latency with parti down. Part of `make bench` (bench/run.py); alone: `python bench/pages.py`.

1. Cached home page requests/s divided by a minimal Django view's (bench/minimal_asgi.py,
   a second Daphne with the same settings and middleware), in alternating rounds.
2. Upstream API calls for a mix of pages in a 60 s run from a cold cache, per 1000 page
   views, divided by the ideal (each distinct key fetched once per TTL, the real default
   TTLs: sum over keys of max(1, run time / TTL)); and for 200 simultaneous requests to a
   cold cache, divided by the number of distinct keys.
3. p95 latency of that mix with every API route answering 503 (after the 60 s run warmed
   the cache: stale copies, circuit breakers) divided by the healthy p95 of the 60 s run.

Counts come from the simulator's per-host request counters (GET /_sim/requests).
"""

from __future__ import annotations

import asyncio
import math
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    QUIET,
    Load,
    Row,
    closed_loop,
    cpu_seconds,
    get,
    paced,
    run_alone,
    say,
    session,
    sim_counts,
    sim_delete,
    sim_post,
    sim_state,
)
from parti_site.upstream.policy import DEFAULT_POLICIES  # noqa: E402
from tests.live_site import (  # noqa: E402
    DAPHNE,
    free_port_block,
    start_site,
    start_web,
    stop,
    wait_for_port,
)

ROUNDS = 3  # alternating home / minimal rounds
ROUND_SECONDS = 4.0
CONCURRENCY = 8  # closed-loop clients for the throughput rounds
RUN_SECONDS = 60.0  # the calls-per-1000-views run (the brief's 60 s)
DOWN_SECONDS = 35.0  # past the live list's 30 s TTL, so stale copies have to stand in
RATE = 40.0  # page views per second in the 60 s and down runs (an open loop)
WARM_AFTER = 5.0  # the healthy p95 leaves out the cold first seconds
COLD_BURST = 200

# Upstream path (below /parti_v2/profile) -> cache endpoint, for the TTLs (client.py's paths).
ENDPOINTS = [
    (re.compile(r"^/livestream_calendar/events/categories"), "categories"),
    (re.compile(r"^/livestream_calendar/events"), "schedule"),
    (re.compile(r"^/get_livestream_channel_info/live"), "live"),
    (re.compile(r"^/get_livestream_channel_info/recent/\d+"), "recording"),
    (re.compile(r"^/get_livestream_channel_info/recent"), "recent"),
    (re.compile(r"^/get_livestream_channel_info/\d+"), "channel"),
    (re.compile(r"^/featured_channels"), "featured"),
    (re.compile(r"^/assets_prices"), "prices"),
    (re.compile(r"^/user_profile_feed/"), "feed"),
    (re.compile(r"^/user_profile_chat/"), "chat"),
    (re.compile(r"^/user_profile/"), "profile"),
    (re.compile(r"^/get_user_by_social_media/"), "lookup"),
]


def endpoint_of(path: str) -> str | None:
    tail = path.removeprefix("/parti_v2").removeprefix("/profile")
    return next((name for pattern, name in ENDPOINTS if pattern.match(tail)), None)


def ideal_calls(keys: list[str], seconds: float) -> float:
    """Each distinct key fetched once, then once per TTL: sum of max(1, seconds / TTL)."""
    total = 0.0
    for key in keys:
        endpoint = endpoint_of(key)
        ttl = DEFAULT_POLICIES[endpoint].ttl if endpoint else math.inf
        total += max(1.0, seconds / ttl)
    return total


def page_mix(state: dict) -> list[str]:
    """A visitor mix: the home page most, the lists, and watch + profile of live channels."""
    users = [c["user_id"] for c in state["live_channels"]][:3]
    paths = ["/", "/live", "/", "/schedule", "/featured", "/", "/recent"]
    for user in users:
        paths += [f"/watch/{user}", f"/profile/{user}"]
    return paths


def start_minimal(site, tmp: Path) -> tuple[str, subprocess.Popen]:
    port = free_port_block(1, avoid=set(range(site.sim_base, site.sim_base + 8)) | {site.port})
    log = open(tmp / "daphne-minimal.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [*DAPHNE, "-b", "127.0.0.1", "-p", str(port), "bench.minimal_asgi:application"],
        cwd=ROOT,
        env=site.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process)
    return f"http://127.0.0.1:{port}", process


async def warm(url: str, times: int = 3) -> None:
    load = Load()
    async with session(1) as http:
        for _ in range(times):
            await get(http, url, load)
    if not load.statuses or set(load.statuses) != {200}:
        raise RuntimeError(f"{url}: {dict(load.statuses)} {dict(load.errors)}")


async def throughput(site, web_pid: int, minimal_url: str, minimal_pid: int) -> list[Row]:
    await warm(site.url + "/")
    await warm(minimal_url + "/bench/minimal")
    rates: dict[str, list[float]] = {"home": [], "minimal": []}
    cpu: dict[str, float] = {"home": 0.0, "minimal": 0.0}
    served: dict[str, int] = {"home": 0, "minimal": 0}
    for _ in range(ROUNDS):
        for name, base, path, pid in (
            ("home", site.url, "/", web_pid),
            ("minimal", minimal_url, "/bench/minimal", minimal_pid),
        ):
            before = cpu_seconds(pid)
            load = await closed_loop(base, [path], ROUND_SECONDS, CONCURRENCY)
            cpu[name] += cpu_seconds(pid) - before
            served[name] += load.count
            if set(load.statuses) != {200} or load.errors:
                say(f"  {name}: {dict(load.statuses)} errors {dict(load.errors)}")
            rates[name].append(load.rate)
    home, minimal = (sorted(rates[n])[len(rates[n]) // 2] for n in ("home", "minimal"))
    say(
        f"  throughput, {CONCURRENCY} keep-alive clients, {ROUNDS} x {ROUND_SECONDS:.0f} s "
        f"rounds each: home {home:.0f}/s ({cpu['home'] / served['home'] * 1e3:.2f} ms Daphne "
        f"CPU each), minimal {minimal:.0f}/s "
        f"({cpu['minimal'] / served['minimal'] * 1e3:.2f} ms CPU each)"
    )
    return [
        Row(
            "cached home page vs minimal Django view",
            home,
            minimal,
            "higher is better; 1 = as cheap as an empty Django view",
            unit="req/s",
        )
    ]


async def cold_burst(site, paths: list[str]) -> Row:
    """COLD_BURST requests at once to a process with an empty cache."""
    await sim_post(site.control_url, "/_sim/requests/reset")
    load = Load()
    async with session(COLD_BURST, timeout=60) as http:
        urls = [site.url + paths[i % len(paths)] for i in range(COLD_BURST)]
        await asyncio.gather(*(get(http, url, load) for url in urls))
    counts = await sim_counts(site.control_url, "api")
    calls, keys = sum(counts.values()), len(counts)
    say(
        f"  cold burst: {COLD_BURST} requests at once over {len(set(paths))} pages, statuses "
        f"{dict(load.statuses)}, slowest {max(load.latencies or [math.nan]):.2f} s; "
        f"{calls} API calls for {keys} distinct keys"
    )
    return Row(
        f"upstream calls, {COLD_BURST} simultaneous cold requests vs distinct keys",
        calls,
        keys,
        "1: single-flight, one call per key however many ask",
    )


async def calls_and_latency(site, paths: list[str]) -> list[Row]:
    await sim_post(site.control_url, "/_sim/requests/reset")
    healthy = await paced(site.url, lambda n: paths[n % len(paths)], RUN_SECONDS, RATE)
    counts = await sim_counts(site.control_url, "api")
    calls = sum(counts.values())
    ideal = ideal_calls(list(counts), healthy.seconds)
    views = healthy.count
    say(
        f"  {healthy.seconds:.0f} s at {RATE:.0f} views/s: {views} views, statuses "
        f"{dict(healthy.statuses)}; {calls} API calls over {len(counts)} keys, ideal "
        f"{ideal:.1f}; p50 {healthy.p(50, WARM_AFTER) * 1e3:.1f} ms, "
        f"p95 {healthy.p(95, WARM_AFTER) * 1e3:.1f} ms"
    )
    rows = [
        Row(
            f"upstream calls per 1000 page views, {RUN_SECONDS:.0f} s mix vs ideal",
            calls / views * 1000,
            ideal / views * 1000,
            "1: one call per key per TTL",
        )
    ]

    await sim_post(
        site.control_url, "/_sim/faults", {"endpoint": "*", "mode": "status", "status": 503}
    )
    await sim_post(site.control_url, "/_sim/requests/reset")
    try:
        down = await paced(site.url, lambda n: paths[n % len(paths)], DOWN_SECONDS, RATE)
    finally:
        await sim_delete(site.control_url, "/_sim/faults")
    tried = sum((await sim_counts(site.control_url, "api")).values())
    say(
        f"  {DOWN_SECONDS:.0f} s with every API route answering 503: {down.count} views, "
        f"statuses {dict(down.statuses)}, errors {dict(down.errors)}; {tried} API calls tried; "
        f"p50 {down.p(50) * 1e3:.1f} ms, p95 {down.p(95) * 1e3:.1f} ms"
    )
    rows.append(
        Row(
            "p95 page latency, upstream down (warm cache) vs healthy",
            down.p(95) * 1e3,
            healthy.p(95, WARM_AFTER) * 1e3,
            "<= ~1: stale copies answer as fast as fresh ones",
            unit="ms",
        )
    )
    return rows


async def run() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        site, processes = start_site(Path(tmp), **QUIET)
        try:
            paths = page_mix(await sim_state(site.control_url))
            minimal_url, minimal = start_minimal(site, Path(tmp))
            processes.append(minimal)
            say("pages: throughput (home vs minimal view)")
            rows = await throughput(site, processes[1].pid, minimal_url, minimal.pid)
            stop([minimal])
            # A fresh process for each cold start: its local-memory cache is empty.
            say("pages: upstream calls, cold burst")
            stop([processes[1]])
            processes[1] = start_web(site)
            cold = await cold_burst(site, paths)
            say("pages: upstream calls in a 60 s mix, then latency with parti down")
            stop([processes[1]])
            processes[1] = start_web(site)
            calls, latency = await calls_and_latency(site, paths)
            rows += [calls, cold, latency]
        finally:
            stop(processes)
    return rows


if __name__ == "__main__":
    run_alone(run)
