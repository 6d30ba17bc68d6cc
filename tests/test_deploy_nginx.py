"""The deployment shape of the README, for real: deploy/nginx/parti-site.conf in front of
three Daphne processes on Redis and PostgreSQL. Pages, static files from disk, WebSocket
pushes to browsers on every process, streamed segments, forwarded client addresses believed
only from nginx, limits counted across processes, and no visitor address in any log."""

import contextlib
import re
import time

import httpx
import pytest
import redis
from websockets.sync.client import connect

from tests.admin_forms import prepare_database
from tests.deploy_nginx import daphne_ports, start_nginx
from tests.live_site import demo_env, next_kind, start_site, stop
from tests.services import postgres_database, redis_url

pytestmark = pytest.mark.scaled

JACK = 348242


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deployment")
    url = redis_url(db=9)
    shared = redis.Redis.from_url(url)
    shared.flushdb()
    with postgres_database("parti_site_nginx") as database:
        env = {
            "REDIS_URL": url,
            "DATABASE_URL": database,
            "SEGMENT_MODE": "proxied",
            "TRUSTED_PROXIES": "127.0.0.1/32",
            "LOG_CLIENT_IPS": "1",
            "RATE_LIMITS": "/hls/=600/60,/img/=600/60,/robots.txt=3/60",
        }
        prepare_database(demo_env(0, **env))
        site, processes = start_site(tmp, web_processes=3, **env)
        try:
            nginx, process = start_nginx(tmp, daphne_ports(site))
            processes.append(process)
            httpx.post(
                site.control_url + "/_sim/ws/config", json={"interval": 0, "golive_every": 0}
            )
            yield site, nginx
        finally:
            stop(processes)
    shared.flushdb()


def daphne_logs(site) -> str:
    return "".join(path.read_text() for path in sorted(site.log_dir.glob("daphne*.log")))


def from_address(address: str) -> httpx.Client:
    """A client whose connections come from `address` (any 127.x works on Linux)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def test_pages_come_through_with_their_headers(deployment):
    site, nginx = deployment
    response = httpx.get(nginx.url + "/")
    assert response.status_code == 200
    assert response.headers["server"] == "nginx"  # no version (server_tokens off)
    port = nginx.url.rsplit(":", 1)[1]
    assert f"ws://127.0.0.1:{port}" in response.headers["content-security-policy"]


def test_static_files_are_served_by_nginx_with_long_caching(deployment):
    site, nginx = deployment
    page = httpx.get(nginx.url + "/").text
    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page).group(1)
    response = httpx.get(nginx.url + stylesheet)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
    plain = httpx.get(nginx.url + "/static/css/site.css")
    assert plain.headers["cache-control"] == "public, max-age=3600"
    assert "/static/" not in daphne_logs(site)  # Daphne never saw them


def test_pushes_reach_browsers_on_every_process(deployment):
    site, nginx = deployment
    socket_url = nginx.url.replace("http", "ws") + "/ws/live"
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(connect(socket_url, origin=nginx.url)) for _ in range(3)]
        time.sleep(0.5)
        topics = lambda: httpx.get(site.control_url + "/_sim/ws").json()["topics"]  # noqa: E731
        give_up = time.monotonic() + 10
        while topics().get("NewChannelLiveNotify") != 1 and time.monotonic() < give_up:
            time.sleep(0.1)
        frame = httpx.post(site.control_url + "/_sim/ws/golive", json={}).json()["frame"]
        for ws in sockets:
            assert next_kind(ws, "golive")["channel"]["user_id"] == frame["user_id"]


def test_a_proxied_segment_streams_through(deployment):
    site, nginx = deployment
    master = httpx.get(f"{nginx.url}/hls/live/{JACK}/master.m3u8")
    assert master.status_code == 200
    child = next(line for line in master.text.splitlines() if line.startswith("/hls/p/"))
    playlist = httpx.get(nginx.url + child).text
    segment = next(line for line in playlist.splitlines() if line.startswith("/hls/s/"))
    response = httpx.get(nginx.url + segment)
    assert response.status_code == 200 and len(response.content) > 1000


def test_forwarded_addresses_are_believed_only_from_nginx(deployment):
    site, nginx = deployment
    spoofer = from_address("127.0.0.2")
    statuses = [
        spoofer.get(nginx.url + "/robots.txt", headers={"X-Forwarded-For": f"6.6.6.{n}"})
        for n in range(4)
    ]
    # Counted together across the three processes, whatever the client claims to be.
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert int(statuses[-1].headers["retry-after"]) <= 60
    assert from_address("127.0.0.3").get(nginx.url + "/robots.txt").status_code == 200
    logs = daphne_logs(site)
    assert "GET /robots.txt 200" in logs and "client=127.0.0.2" in logs  # LOG_CLIENT_IPS on
    assert "6.6.6." not in logs
    # Straight to a Daphne (not through nginx), the header is not believed either.
    direct = from_address("127.0.0.4").get(
        site.urls[0] + "/robots.txt", headers={"X-Forwarded-For": "9.9.9.9"}
    )
    assert direct.status_code == 200
    assert "client=127.0.0.4" in daphne_logs(site) and "9.9.9.9" not in daphne_logs(site)


def test_no_log_names_a_visitor_unless_asked(deployment):
    site, nginx = deployment
    from_address("127.0.0.5").get(nginx.url + "/live")
    time.sleep(0.2)
    assert "127.0.0.5" not in nginx.access_log
    assert re.search(r'GET "/live" 200 \d+ ', nginx.access_log)
    # Daphne's own access log ('127.0.0.1:4711 - - [date] "GET / HTTP/1.1" 200') is off.
    assert not re.search(r"\d+\.\d+\.\d+\.\d+:\d+ - - \[", daphne_logs(site))


def test_a_request_for_another_host_is_dropped_before_the_site(deployment):
    site, nginx = deployment
    with pytest.raises(httpx.RemoteProtocolError):  # 444: the connection closes unanswered
        httpx.get(nginx.url + "/live", headers={"Host": "203.0.113.9"})
    assert httpx.get(nginx.url + "/live").status_code == 200
    assert "203.0.113.9" not in daphne_logs(site)


def test_healthz_answers_this_machine_only(deployment):
    site, nginx = deployment
    assert httpx.get(nginx.url + "/healthz").status_code == 200  # from 127.0.0.1
    assert from_address("127.0.0.2").get(nginx.url + "/healthz").status_code == 403
