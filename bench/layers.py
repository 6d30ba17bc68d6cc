"""Broadcast latency (bench/broadcast.py's measurement) with each channel layer: the
in-memory one and Redis (channels_redis, as with REDIS_URL in production). Part of
`make bench` (bench/run.py); alone: `python bench/layers.py`.

6. p99 from go-live trigger to arrival at 1000 clients divided by 10 clients, in memory;
   and the Redis layer's p99 at 1000 clients divided by the in-memory one's.

Redis: BENCH_REDIS_URL (default redis://127.0.0.1:6379/12, a database no test uses),
emptied before and after. Without a Redis there, the Redis rows are left out.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.broadcast import WARMUP, run_size  # noqa: E402
from bench.common import Row, raise_open_files, run_alone, say  # noqa: E402
from tests.live_site import start_site, stop  # noqa: E402

SMALL, BIG = 10, 1000
EVENTS = 60  # timed events per size, as broadcast.py
# Every client is 127.0.0.1 here: lift the per-client socket limit (live/routing.py).
UNLIMITED = {"LIVE_MAX_SOCKETS_PER_CLIENT": "0"}
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def redis_listening(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=0.5):
            return True
    except OSError:
        return False


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


async def broadcast(name: str, **env: str) -> dict[int, dict]:
    with tempfile.TemporaryDirectory(prefix="bench-layers-") as tmp:
        site, processes = start_site(Path(tmp), **UNLIMITED, **env)
        try:
            async with httpx.AsyncClient(timeout=5, trust_env=False) as api:
                # Only our go-lives reach the clients (as broadcast.py does).
                config = {"interval": 0, "golive_every": 0}
                await api.post(site.control_url + "/_sim/ws/config", json=config)
            rows, next_event = {}, 1
            for count in (SMALL, BIG):
                rows[count] = row = await run_size(
                    site, processes[1].pid, count, next_event, EVENTS
                )
                next_event += WARMUP + EVENTS
                say(
                    f"  {name}, {count} clients: p50 {row['p50'] * 1e3:.1f} ms, p99 "
                    f"{row['p99'] * 1e3:.1f} ms, {row['lost']} lost, Daphne "
                    f"{row['server_cpu'] * 1e3:.1f} ms CPU per event"
                )
        finally:
            stop(processes)
    return rows


async def run() -> list[Row]:
    raise_open_files(2 * BIG + 512)
    say("broadcast: in-memory channel layer")
    memory = await broadcast("in-memory")
    rows = [
        Row(
            f"broadcast p99, {BIG} clients vs {SMALL} (in-memory layer)",
            memory[BIG]["p99"] * 1e3,
            memory[SMALL]["p99"] * 1e3,
            f"<= {BIG // SMALL} (linear in clients); above: worse than linear",
            unit="ms",
        )
    ]
    if not redis_listening(REDIS_URL):
        say(f"  no Redis at {REDIS_URL}: Redis rows left out")
        return rows
    say(f"broadcast: Redis channel layer ({REDIS_URL})")
    flush_redis(REDIS_URL)
    try:
        redis = await broadcast("Redis", REDIS_URL=REDIS_URL)
    finally:
        flush_redis(REDIS_URL)
    rows += [
        Row(
            f"broadcast p99, {BIG} clients vs {SMALL} (Redis layer)",
            redis[BIG]["p99"] * 1e3,
            redis[SMALL]["p99"] * 1e3,
            f"<= {BIG // SMALL} (linear in clients); above: worse than linear",
            unit="ms",
        ),
        Row(
            f"broadcast p99 to {BIG} clients, Redis layer vs in-memory",
            redis[BIG]["p99"] * 1e3,
            memory[BIG]["p99"] * 1e3,
            "near 1: Redis adds a round trip per event, not per client",
            unit="ms",
        ),
    ]
    lost = sum(r["lost"] for r in [*memory.values(), *redis.values()])
    if lost:
        say(f"  {lost} arrivals lost (a client dropped or an event took over 10 s)")
    return rows


if __name__ == "__main__":
    run_alone(run)
