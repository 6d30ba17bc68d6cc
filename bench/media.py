"""The media proxy on one Daphne process in proxied mode (SEGMENT_MODE=proxied), against
the simulated parti. Part of `make bench` (bench/run.py); alone: `python bench/media.py`.

4. Live playlist fetches at parti's variant host with 100 viewers divided by with 1: each
   viewer loads /hls/live/<id>/master.m3u8 once, then reloads its child playlist every
   target duration (2 s), as hls.js does, joining at a random moment of the first 2 s.
5. Proxied segments against the same segments fetched from the simulator's segment host
   directly: time to first byte (the proxy's first viewer of a segment, and a later one
   served from the shared buffer), download throughput with 8 parallel downloaders; and
   Daphne's resident memory while 50 viewers stream (playlists and every new segment).
"""

from __future__ import annotations

import asyncio
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.common import (  # noqa: E402
    QUIET,
    Row,
    rss_bytes,
    run_alone,
    say,
    session,
    sim_counts,
    sim_post,
    sim_state,
)
from tests.live_site import start_site, stop  # noqa: E402

VIEW_SECONDS = 20.0
POLL = 2.0  # the simulator's target duration
FEW, MANY = 1, 100
STREAMERS = 50
PARALLEL = 8  # downloaders in the throughput runs
THROUGHPUT_SECONDS = 4.0
MASTER_CACHE_SECONDS = 4.0  # media/proxy.py LIVE_MASTER_SECONDS: let it lapse between runs
START_SEGMENTS = 3  # hls.js starts about three segments behind the live edge
MB = 1024 * 1024
STREAM_BITS = 410_592  # the simulator's top variant, bits per second
_PDT = re.compile(r"^#EXT-X-PROGRAM-DATE-TIME:(.+)$")


def uris(playlist: str) -> list[str]:
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def segments(playlist: str) -> list[tuple[str, str]]:
    """(program date-time, URI) of each segment of a media playlist."""
    found, pdt = [], None
    for line in playlist.splitlines():
        if match := _PDT.match(line):
            pdt = match.group(1)
        elif line and not line.startswith("#"):
            found.append((pdt, line))
            pdt = None
    return found


async def text(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as response:
        body = await response.text()
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status} {body[:200]}")
        return body


@dataclass
class Viewers:
    playlists: int = 0
    segments: int = 0
    bytes: int = 0
    errors: int = 0


async def viewer(http, base: str, user: int, until: float, fetch_segments: bool, seen: Viewers):
    """One player: the master playlist, then its first child playlist every POLL seconds
    (and, with `fetch_segments`, each segment new since the last reload)."""
    await asyncio.sleep(random.uniform(0, POLL))
    try:
        master = await text(http, f"{base}/hls/live/{user}/master.m3u8")
        child = base + uris(master)[0]
        have: set[str] = set()
        first = True
        while (started := time.perf_counter()) < until:
            playlist = await text(http, child)
            seen.playlists += 1
            if fetch_segments:
                listed = [uri for _, uri in segments(playlist)]
                fresh = (
                    [u for u in listed[-START_SEGMENTS:] if u not in have]
                    if first
                    else [u for u in listed if u not in have]
                )
                first = False
                for uri in fresh:
                    have.add(uri)
                    async with http.get(base + uri) as response:
                        async for chunk in response.content.iter_any():
                            seen.bytes += len(chunk)
                        seen.segments += response.status == 200
                        seen.errors += response.status != 200
            await asyncio.sleep(max(0.0, started + POLL - time.perf_counter()))
    except (aiohttp.ClientError, TimeoutError, RuntimeError):
        seen.errors += 1


async def watch(site, user: int, count: int, seconds: float, fetch_segments: bool) -> Viewers:
    seen = Viewers()
    until = time.perf_counter() + seconds
    async with session(count, timeout=30) as http:
        await asyncio.gather(
            *(viewer(http, site.url, user, until, fetch_segments, seen) for _ in range(count))
        )
    return seen


async def playlist_fetches(site, user: int) -> Row:
    upstream: dict[int, tuple[int, int, Viewers]] = {}
    for count in (FEW, MANY):
        await asyncio.sleep(MASTER_CACHE_SECONDS + 0.5)
        await sim_post(site.control_url, "/_sim/requests/reset")
        seen = await watch(site, user, count, VIEW_SECONDS, fetch_segments=False)
        variant = sum((await sim_counts(site.control_url, "variant")).values())
        playback = sum((await sim_counts(site.control_url, "playback")).values())
        upstream[count] = (variant, playback, seen)
        say(
            f"  {count} viewer(s), {VIEW_SECONDS:.0f} s: {seen.playlists} child playlist loads "
            f"({seen.errors} errors) -> {variant} variant-host fetches, {playback} "
            f"multivariant fetches upstream"
        )
    return Row(
        f"live playlist fetches upstream, {MANY} viewers vs {FEW}",
        upstream[MANY][0],
        upstream[FEW][0],
        f"~2, not {MANY // FEW}: one fetch per half target duration, shared",
        unit="fetches",
    )


async def pairs(site, state: dict) -> list[tuple[str, str]]:
    """(direct URL, proxied URL) of the same segments, matched by program date-time."""
    found = []
    async with session(4) as http:
        for channel in state["live_channels"][:3]:
            token = channel["playback_auth_token"]
            direct_master = await text(http, f"{channel['playback_url']}?token={token}")
            proxied_master = await text(
                http, f"{site.url}/hls/live/{channel['user_id']}/master.m3u8"
            )
            for direct_child, proxied_child in zip(
                uris(direct_master), uris(proxied_master), strict=True
            ):
                direct = dict(segments(await text(http, direct_child)))
                proxied = dict(segments(await text(http, site.url + proxied_child)))
                found += [(direct[p], site.url + proxied[p]) for p in direct if p in proxied]
    return found


async def timed(http, url: str) -> tuple[float, float, int]:
    """(seconds to the first body byte, seconds to the last, bytes)."""
    started = time.perf_counter()
    async with http.get(url) as response:
        first = await response.content.readany()
        ttfb = time.perf_counter() - started
        size = len(first)
        async for chunk in response.content.iter_any():
            size += len(chunk)
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status}")
    return ttfb, time.perf_counter() - started, size


async def first_bytes(found: list[tuple[str, str]]) -> dict[str, list[float]]:
    ttfb: dict[str, list[float]] = {"direct": [], "cold": [], "shared": []}
    async with session(1) as direct, session(1) as proxied:
        for direct_url, proxied_url in found:
            await timed(direct, direct_url)  # the simulator makes each segment once: warm it
            ttfb["direct"].append((await timed(direct, direct_url))[0])
            ttfb["cold"].append((await timed(proxied, proxied_url))[0])  # the proxy's first
            ttfb["shared"].append((await timed(proxied, proxied_url))[0])  # from the buffer
    return ttfb


async def download_rate(urls: list[str]) -> float:
    """MB/s of PARALLEL downloaders fetching `urls` round-robin for THROUGHPUT_SECONDS."""
    total = 0
    deadline = time.perf_counter() + THROUGHPUT_SECONDS

    async def downloader(n: int) -> None:
        nonlocal total
        i = n
        while time.perf_counter() < deadline:
            size = (await timed(http, urls[i % len(urls)]))[2]
            total += size  # not `total += await ...`: that reads total before the await
            i += PARALLEL

    async with session(PARALLEL) as http:
        started = time.perf_counter()
        await asyncio.gather(*(downloader(n) for n in range(PARALLEL)))
        return total / (time.perf_counter() - started) / MB


async def proxied_segments(site, web_pid: int, state: dict) -> list[Row]:
    found = await pairs(site, state)
    ttfb = await first_bytes(found)
    ms = {name: statistics.median(values) * 1e3 for name, values in ttfb.items()}
    say(
        f"  time to first byte over {len(found)} segments (median): direct {ms['direct']:.2f} ms, "
        f"proxied first viewer {ms['cold']:.2f} ms (+{ms['cold'] - ms['direct']:.2f}), "
        f"proxied later viewer {ms['shared']:.2f} ms (+{ms['shared'] - ms['direct']:.2f})"
    )
    direct_rate = await download_rate([d for d, _ in found])
    proxied_rate = await download_rate([p for _, p in found])
    say(
        f"  throughput, {PARALLEL} downloaders x {THROUGHPUT_SECONDS:.0f} s: direct "
        f"{direct_rate:.1f} MB/s, proxied {proxied_rate:.1f} MB/s"
    )

    user = state["live_channels"][0]["user_id"]
    before = rss_bytes(web_pid)
    peak = before
    seen = Viewers()

    async def stream() -> None:
        nonlocal seen
        seen = await watch(site, user, STREAMERS, VIEW_SECONDS, fetch_segments=True)

    streaming = asyncio.create_task(stream())
    while not streaming.done():
        peak = max(peak, rss_bytes(web_pid))
        await asyncio.sleep(0.25)
    await streaming
    after = rss_bytes(web_pid)
    say(
        f"  {STREAMERS} viewers streaming {VIEW_SECONDS:.0f} s: {seen.segments} segments, "
        f"{seen.bytes / MB:.0f} MB, {seen.errors} errors; Daphne RSS {before / MB:.0f} MB before, "
        f"peak {peak / MB:.0f} MB (+{(peak - before) / MB:.1f}), {after / MB:.0f} MB at the end"
    )
    return [
        Row(
            "proxied segment, time to first byte (first viewer) vs direct",
            ms["cold"],
            ms["direct"],
            "extra = value - baseline; a few ms on loopback",
            unit="ms",
        ),
        Row(
            f"proxied segment throughput vs direct, {PARALLEL} downloaders",
            proxied_rate,
            direct_rate,
            f"feeds ~{proxied_rate * MB * 8 / STREAM_BITS:.0f} viewers of a 0.4 Mbit/s stream "
            "per process (direct: an in-memory origin)",
            unit="MB/s",
        ),
        Row(
            f"Daphne RSS, peak while {STREAMERS} viewers stream vs before",
            peak / MB,
            before / MB,
            "near 1: memory per segment in flight, not per viewer",
            unit="MB",
        ),
    ]


async def run() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-media-") as tmp:
        site, processes = start_site(Path(tmp), SEGMENT_MODE="proxied", **QUIET)
        try:
            state = await sim_state(site.control_url)
            say("media: live playlist fetches upstream")
            rows = [await playlist_fetches(site, state["live_channels"][0]["user_id"])]
            say("media: proxied segments")
            rows += await proxied_segments(site, processes[1].pid, state)
        finally:
            stop(processes)
    return rows


if __name__ == "__main__":
    run_alone(run)
