"""Two Daphne processes on one Redis: one upstream connection per topic for the whole
deployment, every browser on either process gets every event, and when the lease holder is
killed the other process takes over within seconds."""

import contextlib
import subprocess
import sys
import time

import httpx
import pytest
from websockets.sync.client import connect

from tests import live_site
from tests.live_site import ROOT, demo_env, free_port_block, next_kind, stop, wait_for_port
from tests.services import redis_url

pytestmark = pytest.mark.scaled

REDIS_URL = "redis://127.0.0.1:6379/13"
LEASE_KEY = "parti-site:live:relay-lease"


def redis_or_skip():
    import redis

    redis_url(db=13)  # fails under CI=true when Redis is not there, else skips
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=0.5)
    client.flushdb()
    return client


def wait_until(check, seconds=10.0):
    return live_site.wait_until(check, seconds)


@pytest.fixture
def deployment(tmp_path):
    redis = redis_or_skip()
    sim_base = free_port_block(8)
    env = demo_env(sim_base, REDIS_URL=REDIS_URL, LIVE_LEASE_TTL="2")
    processes, logs = [], []

    def start(args, name):
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115
        logs.append(log)
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    sim = start([sys.executable, "manage.py", "simulate_parti", "--port", str(sim_base)], "sim")
    wait_for_port(sim_base + 7, sim)
    control = f"http://127.0.0.1:{sim_base + 7}"
    httpx.post(control + "/_sim/ws/config", json={"interval": 0, "golive_every": 0})
    webs = {}
    for name in ("web1", "web2"):
        port = free_port_block(1)
        daphne = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        webs[name] = (port, start([*daphne, "parti_site.asgi:application"], name))
    for port, process in webs.values():
        wait_for_port(port, process)
    yield control, webs, redis
    stop(processes)
    for log in logs:
        log.close()
    redis.flushdb()


def topics(control) -> dict:
    return httpx.get(control + "/_sim/ws").json()["topics"]


def browser_socket(port):
    return connect(f"ws://127.0.0.1:{port}/ws/live", origin=f"http://127.0.0.1:{port}")


def test_one_upstream_connection_and_every_browser_gets_every_event(deployment):
    control, webs, redis = deployment
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(browser_socket(port)) for port, _ in webs.values()]
        wait_until(lambda: topics(control).get("NewChannelLiveNotify") == 1)
        time.sleep(1.5)  # both relays are running: still one
        assert topics(control) == {"NewChannelLiveNotify": 1, "AssetPriceRefreshNotify": 1}
        frame = httpx.post(control + "/_sim/ws/golive", json={}).json()["frame"]
        for ws in sockets:
            assert next_kind(ws, "golive")["channel"]["user_id"] == frame["user_id"]


def test_the_other_process_takes_over_when_the_holder_is_killed(deployment):
    control, webs, redis = deployment
    with contextlib.ExitStack() as stack:
        sockets = {n: stack.enter_context(browser_socket(p)) for n, (p, _) in webs.items()}
        wait_until(lambda: redis.get(LEASE_KEY))
        holder_pid = int(redis.get(LEASE_KEY).decode().split(":")[0])
        holder = next(name for name, (_, p) in webs.items() if p.pid == holder_pid)
        survivor = next(name for name in webs if name != holder)
        webs[holder][1].kill()
        sockets.pop(holder).close()
        # The dead holder's lease expires (2 s) and the survivor takes over.
        wait_until(
            lambda: (value := redis.get(LEASE_KEY)) and int(value.split(b":")[0]) != holder_pid,
            8,
        )
        wait_until(lambda: topics(control).get("NewChannelLiveNotify") == 1, 8)
        frame = httpx.post(control + "/_sim/ws/golive", json={}).json()["frame"]
        event = next_kind(sockets[survivor], "golive")
        assert event["channel"]["user_id"] == frame["user_id"]
