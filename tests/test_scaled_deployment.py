"""Two Daphne processes on one Redis and one PostgreSQL, as deploy/ runs three: the cache is
shared (one upstream call serves both), a push reaches browsers on both, and a change saved
in one process's admin is obeyed by the other, Content-Security-Policy included."""

import contextlib

import httpx
import pytest
import redis
from websockets.sync.client import connect

from tests import live_site
from tests.admin_forms import LIVE_PATH, prepare_database
from tests.live_site import demo_env, next_kind, start_site, stop
from tests.services import postgres_database, redis_url
from tests.test_admin_processes import admin_session, post_form

pytestmark = pytest.mark.scaled

JACK = 348242  # live in the simulator's recordings


@pytest.fixture
def database():
    with postgres_database("parti_site_scaled") as url:
        yield url


@pytest.fixture
def site(tmp_path, database):
    url = redis_url(db=8)
    shared = redis.Redis.from_url(url)
    shared.flushdb()
    scaled = {"REDIS_URL": url, "DATABASE_URL": database, "SEGMENT_MODE": "direct"}
    prepare_database(demo_env(0, **scaled))
    site, processes = start_site(tmp_path, web_processes=2, LIVE_LEASE_TTL="2", **scaled)
    httpx.post(site.control_url + "/_sim/ws/config", json={"interval": 0, "golive_every": 0})
    httpx.post(site.control_url + "/_sim/requests/reset")
    yield site
    stop(processes)
    shared.flushdb()


def api_calls(site, path: str) -> int:
    counts = httpx.get(site.control_url + "/_sim/requests").json()
    return sum(n for key, n in counts.items() if key.split("?", 1)[0] == path)


def wait_until(check, seconds=10.0):
    return live_site.wait_until(check, seconds)


def csp(response) -> dict[str, list[str]]:
    parts = (part.split() for part in response.headers["content-security-policy"].split(";"))
    return {name: sources for name, *sources in parts}


def test_one_upstream_call_serves_both_processes(site):
    first, second = site.urls
    assert httpx.get(first + "/live").status_code == 200
    assert httpx.get(second + "/live").status_code == 200
    assert httpx.get(second + "/").status_code == 200  # the home page's live section too
    assert api_calls(site, LIVE_PATH) == 1


def test_a_push_reaches_browsers_on_both_processes(site):
    with contextlib.ExitStack() as stack:
        sockets = [
            stack.enter_context(connect(url.replace("http", "ws") + "/ws/live", origin=url))
            for url in site.urls
        ]
        topics = lambda: httpx.get(site.control_url + "/_sim/ws").json()["topics"]  # noqa: E731
        wait_until(lambda: topics().get("NewChannelLiveNotify") == 1)
        frame = httpx.post(site.control_url + "/_sim/ws/golive", json={}).json()["frame"]
        for ws in sockets:
            assert next_kind(ws, "golive")["channel"]["user_id"] == frame["user_id"]
        assert topics()["NewChannelLiveNotify"] == 1  # one upstream socket for the deployment


def test_an_admin_change_in_one_process_is_obeyed_by_the_other(site):
    first, second = site.urls
    segment_host = f"http://127.0.0.1:{site.sim_base + 4}"
    before = httpx.get(f"{second}/watch/{JACK}")
    assert segment_host in csp(before)["connect-src"]  # direct: the player fetches from the CDN

    operator = admin_session(first)
    post_form(
        operator,
        "/admin/instance/switches/1/change/",
        {"segment_mode": "proxied", "image_proxy": "on", "public_chat": "on", "banner": "Hello"},
    )

    after = httpx.get(f"{second}/watch/{JACK}")
    assert csp(after)["connect-src"] == ["'self'", f"ws://127.0.0.1:{second.rsplit(':', 1)[1]}"]
    assert csp(after)["media-src"] == ["'self'", "blob:", "data:"]
    playlist = httpx.get(f"{second}/hls/live/{JACK}/master.m3u8").text
    uris = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    assert uris and all(uri.startswith("/hls/p/") for uri in uris)
    assert "Hello" in httpx.get(second + "/").text
