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
import redis
import websockets

from tests.faults_support import wait_until
from tests.live_site import free_port_block, start_site, stop, wait_for_port
from tests.services import redis_url

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


# --- Redis's connections dropped under a running site ----------------------------------------

STALE_DB = 6


@pytest.fixture
def shared_redis_site(tmp_path):
    """A Daphne on the machine's Redis (its own database), any number of sockets per client."""
    url = redis_url(db=STALE_DB)
    admin = redis.Redis.from_url(url)
    admin.flushdb()
    site, processes = start_site(tmp_path, REDIS_URL=url, LIVE_MAX_SOCKETS_PER_CLIENT="0")
    httpx.post(site.control_url + "/_sim/ws/config", json={"interval": 0, "golive_every": 0})
    yield site, admin
    stop(processes)
    admin.flushdb()
    admin.close()


def drop_site_connections(admin: redis.Redis) -> int:
    """What a Redis restart does to the site's pooled connections: closes every one (only
    this database's, so other users of the machine's Redis keep theirs)."""
    me = admin.client_id()
    victims = [
        client["id"]
        for client in admin.client_list()
        if client.get("db") == str(STALE_DB) and int(client["id"]) != me
    ]
    for victim in victims:
        admin.client_kill_filter(_id=victim)
    return len(victims)


async def open_sockets(site, count: int) -> list:
    url = site.url.replace("http", "ws", 1) + "/ws/live"
    return await asyncio.gather(
        *(websockets.connect(url, origin=site.url, open_timeout=10) for _ in range(count))
    )


async def every_socket_gets_a_golive(site, sockets, title: str) -> None:
    async def golive(browser):
        while True:
            event = json.loads(await browser.recv())
            if event.get("kind") == "golive" and event["channel"]["title"] == title:
                return

    waiting = asyncio.gather(*(golive(browser) for browser in sockets))
    give_up = time.monotonic() + 15
    while not waiting.done() and time.monotonic() < give_up:
        await asyncio.to_thread(
            httpx.post, site.control_url + "/_sim/ws/golive", json={"event_title": title}
        )
        await asyncio.wait([waiting], timeout=1.0)
    await waiting  # raises ConnectionClosed for a socket the site closed


def test_sockets_open_and_stay_open_after_redis_drops_its_connections(shared_redis_site):
    """Before: each stale pooled connection failed one command, so of 30 sockets opened
    after a Redis restart some got HTTP 500 and open ones were closed with 1011."""
    site, admin = shared_redis_site

    async def body():
        before = await open_sockets(site, 30)  # the pool now holds several connections
        await every_socket_gets_a_golive(site, before, "before")
        for browser in before[10:]:
            await browser.close()
        assert drop_site_connections(admin) >= 2
        after = await open_sockets(site, 30)  # any refusal or 500 raises InvalidStatus here
        await every_socket_gets_a_golive(site, before[:10] + after, "after")
        for browser in before[:10] + after:
            await browser.close()

    asyncio.run(body())
    log = (site.log_dir / "daphne.log").read_text()
    assert "Traceback" not in log and "channel layer unavailable" not in log


def test_the_cache_keeps_its_hits_after_redis_drops_its_connections():
    """redis-py's sync pool checks a pooled connection before lending it: no miss, no
    "Redis unavailable", after a restart closed them all."""
    from parti_site.cache_backend import TolerantRedisCache, _outage

    admin = redis.Redis.from_url(redis_url(db=STALE_DB))
    cache = TolerantRedisCache(redis_url(db=STALE_DB), {"OPTIONS": {"socket_timeout": 2}})
    try:
        cache.set("kept", "value")
        assert drop_site_connections(admin) >= 1
        assert [cache.get("kept") for _ in range(5)] == ["value"] * 5
        assert cache._where not in _outage.down_until
    finally:
        cache.delete("kept")
        admin.close()
