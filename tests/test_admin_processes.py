"""Two Daphne processes sharing Redis and PostgreSQL: a change saved through the admin of
one is obeyed by the next request to the other, with no restart."""

import re
import subprocess
import sys
import time
import uuid

import httpx
import psycopg
import pytest
import redis

from tests.admin_forms import LIVE_PATH, OPERATOR, prepare_database
from tests.live_site import ROOT, demo_env, free_port_block, stop, wait_for_port
from tests.services import POSTGRES_HOST, POSTGRES_PORT, redis_url, require_service

pytestmark = pytest.mark.scaled

LIVE_USER = 348242


@pytest.fixture
def database():
    """A throwaway PostgreSQL database, dropped afterwards."""
    require_service("PostgreSQL", POSTGRES_HOST, POSTGRES_PORT)
    name = f"parti_site_admin_{uuid.uuid4().hex[:8]}"
    server = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}"
    with psycopg.connect(server + "/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(server + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def deployment(tmp_path, database):
    url = redis_url(db=11)
    shared = redis.Redis.from_url(url)
    shared.flushdb()
    sim_base = free_port_block(8)
    env = demo_env(sim_base, REDIS_URL=url, DATABASE_URL=database)
    prepare_database(env)
    processes, logs = [], []

    def start(args, name):
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115
        logs.append(log)
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    sim = start([sys.executable, "manage.py", "simulate_parti", "--port", str(sim_base)], "sim")
    wait_for_port(sim_base + 7, sim)
    webs = []
    for name in ("web1", "web2"):
        port = free_port_block(1)
        daphne = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        webs.append((port, start([*daphne, "parti_site.asgi:application"], name)))
    for port, process in webs:
        wait_for_port(port, process)
    yield f"http://127.0.0.1:{sim_base + 7}", [f"http://127.0.0.1:{port}" for port, _ in webs]
    stop(processes)
    for log in logs:
        log.close()
    shared.flushdb()


def csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def admin_session(site: str) -> httpx.Client:
    """An httpx client logged in to `site`'s admin through its login form."""
    client = httpx.Client(base_url=site, timeout=10)
    page = client.get("/admin/login/").text
    response = client.post(
        "/admin/login/?next=/admin/",
        data={**OPERATOR, "csrfmiddlewaretoken": csrf_token(page), "next": "/admin/"},
        headers={"Referer": site + "/admin/login/"},
    )
    assert response.status_code == 302 and response.headers["location"] == "/admin/"
    return client


def post_form(client: httpx.Client, path: str, data: dict) -> None:
    page = client.get(path).text
    response = client.post(
        path,
        data={**data, "csrfmiddlewaretoken": csrf_token(page), "_save": "Save"},
        headers={"Referer": str(client.base_url) + path},
    )
    assert response.status_code == 302, response.text[:3000]


def live_calls(control: str) -> int:
    counts = httpx.get(control + "/_sim/requests").json()
    return sum(n for key, n in counts.items() if key.split("?", 1)[0] == LIVE_PATH)


def uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_a_change_saved_in_one_process_is_obeyed_by_the_other(deployment):
    control, (first, second) = deployment
    operator = admin_session(first)
    visitor = httpx.Client(base_url=second, timeout=10)

    assert visitor.get("/live").status_code == 200
    visitor.get("/live")
    assert live_calls(control) == 1  # the default 30 s TTL, shared through Redis
    playlist = visitor.get(f"/hls/live/{LIVE_USER}/master.m3u8").text
    assert uris(playlist) and not any(uri.startswith("/hls/") for uri in uris(playlist))

    changelist = operator.get("/admin/instance/cachesetting/").text
    live_id = re.search(r'href="/admin/instance/cachesetting/(\d+)/change/[^"]*">live<', changelist)
    post_form(
        operator,
        f"/admin/instance/cachesetting/{live_id.group(1)}/change/",
        {"ttl": "1", "stale": "86400"},
    )
    post_form(
        operator,
        "/admin/instance/switches/1/change/",
        {"segment_mode": "proxied", "image_proxy": "on", "public_chat": "on", "banner": "Hi"},
    )

    playlist = visitor.get(f"/hls/live/{LIVE_USER}/master.m3u8").text
    assert uris(playlist) and all(uri.startswith("/hls/p/") for uri in uris(playlist))
    assert "Hi</p>" in visitor.get("/about").text
    time.sleep(1.2)
    visitor.get("/live")
    assert live_calls(control) == 2  # past the new 1 s TTL (not the old 30 s)
    visitor.get("/live")
    assert live_calls(control) == 2  # and not before it
