"""Redis restarted while the site runs (a private redis-server, a real Daphne): pages keep
answering while it is gone, and caching and live pushes work again once it is back, with
no restart of the site."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time

import httpx
import pytest
import websockets

from tests.faults_support import wait_until
from tests.live_site import free_port_block, start_site, stop, wait_for_port

REDIS_SERVER = shutil.which("redis-server")
FEATURED = "/parti_v2/profile/featured_channels"


def start_redis(port: int, log) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process)
    return process


@pytest.fixture
def redis_site(tmp_path):
    if REDIS_SERVER is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed; .ci/run installs it")
        pytest.skip("redis-server is not installed")
    port = free_port_block(1)
    log = open(tmp_path / "redis.log", "w")  # noqa: SIM115
    redis = start_redis(port, log)
    site, processes = start_site(tmp_path, REDIS_URL=f"redis://127.0.0.1:{port}/0")
    site.redis = [redis]
    site.redis_port, site.redis_log = port, log
    httpx.post(site.control_url + "/_sim/ws/config", json={"interval": 0, "golive_every": 0})
    yield site
    stop(processes)
    stop(site.redis)
    log.close()


def featured_calls(site) -> int:
    counts = httpx.get(site.control_url + "/_sim/requests", timeout=5).json()
    return sum(n for path, n in counts.items() if path.split("?")[0] == FEATURED)


def get(site, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(site.url + path, timeout=10)
    return response, time.monotonic() - started


async def golive_reaches_a_browser(site, title: str) -> None:
    """Open /ws/live and push go-lives until one titled `title` arrives; a socket closed
    on us is opened again, as live.js does."""
    url = site.url.replace("http", "ws", 1) + "/ws/live"
    give_up = time.monotonic() + 15
    while time.monotonic() < give_up:
        try:
            async with websockets.connect(url, origin=site.url) as browser:
                while time.monotonic() < give_up:
                    await asyncio.to_thread(
                        httpx.post,
                        site.control_url + "/_sim/ws/golive",
                        json={"event_title": title},
                    )
                    try:
                        while True:
                            event = json.loads(await asyncio.wait_for(browser.recv(), 1.0))
                            if event.get("kind") == "golive":
                                if event["channel"]["title"] == title:
                                    return
                    except TimeoutError:
                        continue
        except (OSError, websockets.ConnectionClosed, websockets.InvalidHandshake):
            await asyncio.sleep(0.5)
    raise AssertionError("no go-live reached the browser")


def test_the_site_rides_out_a_redis_restart(redis_site):
    site = redis_site
    asyncio.run(golive_reaches_a_browser(site, "before"))
    assert get(site, "/featured")[0].status_code == 200
    assert get(site, "/featured")[0].status_code == 200
    assert featured_calls(site) == 1  # cached in Redis

    stop(site.redis)  # Redis goes away
    for path in ["/featured", "/", "/live", "/featured"]:
        response, elapsed = get(site, path)
        assert response.status_code == 200, path
        assert elapsed < 3, (path, elapsed)
        assert "Traceback" not in response.text
    assert featured_calls(site) >= 2  # no cache: parti is asked

    site.redis = [start_redis(site.redis_port, site.redis_log)]
    time.sleep(1.2)  # the cache leaves a failed Redis alone for a second

    def cached_again() -> bool:
        before = featured_calls(site)
        first, second = get(site, "/featured")[0], get(site, "/featured")[0]
        assert first.status_code == second.status_code == 200
        return featured_calls(site) - before <= 1

    wait_until(cached_again, 10, step=0.5)
    # Live pushes too: the relay retakes its lease, the channel layer reconnects.
    asyncio.run(golive_reaches_a_browser(site, "after"))
    log = (site.log_dir / "daphne.log").read_text()
    assert "Redis unavailable" in log and "Redis is back" in log


def test_the_cache_answers_misses_at_once_while_redis_is_down():
    from parti_site.cache_backend import TolerantRedisCache

    port = free_port_block(1)  # nothing listens there
    cache = TolerantRedisCache(f"redis://127.0.0.1:{port}/0", {"OPTIONS": {}})
    started = time.monotonic()
    assert cache.get("k", "default") == "default"
    assert cache.add("k", 1) is True  # single-flight callers go ahead and fetch
    assert cache.set("k", 1) is None
    assert cache.get_many(["a", "b"]) == {}
    assert cache.delete("k") is False
    with pytest.raises(ValueError):
        cache.incr("k")
    assert time.monotonic() - started < 0.5
