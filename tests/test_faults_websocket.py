"""parti's WebSocket on its worst day, against a real Daphne and the simulator: refused,
dropped mid-frame, silent (pings answered or not), sending junk. The relay survives each,
and a browser's /ws/live socket stays open throughout and gets the next go-live."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import websockets

from tests.faults_support import clear_ws_faults, golive_reaches, ws_fault
from tests.live_site import start_site, stop

SECONDS = 15  # the relay's backoff is jittered and doubles from 0.5 s


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site, processes = start_site(
        tmp_path_factory.mktemp("ws-faults"),
        LIVE_PING_INTERVAL="1",
        LIVE_BACKOFF_BASE="0.2",
        LIVE_BACKOFF_MAX="1.5",  # faults follow each other here: keep redials quick
    )
    httpx.post(site.control_url + "/_sim/ws/config", json={"interval": 0, "golive_every": 0})
    yield site
    stop(processes)


@pytest.fixture
def control(site):
    yield site
    clear_ws_faults(site.control_url)


def sim_ws(site) -> dict:
    return httpx.get(site.control_url + "/_sim/ws", timeout=5).json()


def ws_faults(site) -> dict:
    return httpx.get(site.control_url + "/_sim/ws/faults", timeout=5).json()


async def eventually(check, seconds: float = SECONDS):
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        value = await asyncio.to_thread(check)
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def relay_subscribed(site) -> dict:
    def both():
        state = sim_ws(site)
        topics = state["topics"]
        if topics.get("NewChannelLiveNotify") and topics.get("AssetPriceRefreshNotify"):
            return state
        return None

    return await eventually(both)


async def drain(browser, seconds: float) -> list[dict]:
    """What the browser got in `seconds`; every frame must be one of our payloads."""
    events = []
    give_up = time.monotonic() + seconds
    while (left := give_up - time.monotonic()) > 0:
        try:
            raw = await asyncio.wait_for(browser.recv(), left)
        except TimeoutError:
            break
        event = json.loads(raw)
        assert isinstance(event, dict) and event.get("kind") in {
            "golive",
            "live_list",
            "viewers",
            "prices",
        }, event
        events.append(event)
    return events


def browser_socket(site):
    return websockets.connect(site.url.replace("http", "ws", 1) + "/ws/live", origin=site.url)


def run(scenario, site):
    async def main():
        async with browser_socket(site) as browser:
            before = await relay_subscribed(site)
            await scenario(browser, before)
            await browser.ping()  # still open, still answering
            assert browser.close_code is None

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("reset", [False, True], ids=["503", "tcp-reset"])
def test_refused_connections(control, reset):
    site = control

    async def scenario(browser, before):
        ws_fault(site.control_url, mode="refuse", reset=reset)
        httpx.post(site.control_url + "/_sim/ws/drop", json={})
        await eventually(lambda: sim_ws(site)["connections"] == 0)
        await eventually(lambda: ws_faults(site)["counts"].get("refused"))
        await asyncio.sleep(1.5)  # a few refused attempts
        clear_ws_faults(site.control_url)
        await relay_subscribed(site)
        await golive_reaches(site, browser, "after refusals")

    run(scenario, site)


def test_dropped_mid_frame(control):
    site = control

    async def scenario(browser, before):
        ws_fault(site.control_url, mode="drop", repeat=True, after=0.3)
        # Both sockets cut, redialled and cut again.
        await eventually(lambda: sim_ws(site)["opened"] >= before["opened"] + 2)
        await eventually(lambda: ws_faults(site)["counts"].get("dropped", 0) >= 4)
        clear_ws_faults(site.control_url)
        await relay_subscribed(site)
        await golive_reaches(site, browser, "after drops")

    run(scenario, site)


def test_silent_with_pings_answered_the_relay_stays_connected(control):
    site = control

    async def scenario(browser, before):
        ws_fault(site.control_url, mode="silent", pings=True)
        httpx.post(site.control_url + "/_sim/ws/golive", json={"event_title": "never sent"})
        assert await drain(browser, 3.0) == []  # three ping intervals of silence
        assert sim_ws(site)["opened"] == before["opened"]  # nobody reconnected
        clear_ws_faults(site.control_url)
        await golive_reaches(site, browser, "after silence")

    run(scenario, site)


def test_silent_with_pings_unanswered_the_relay_reconnects(control):
    site = control

    async def scenario(browser, before):
        ws_fault(site.control_url, mode="silent", pings=False)
        # Ping interval and timeout are 1 s: the relay gives up on the socket and redials.
        await eventually(lambda: sim_ws(site)["opened"] > before["opened"])
        await drain(browser, 1.0)  # the relay's resyncs over HTTP, nothing else
        clear_ws_faults(site.control_url)
        await relay_subscribed(site)
        await golive_reaches(site, browser, "after deaf silence")

    run(scenario, site)


def test_junk_frames_are_dropped_and_the_relay_keeps_its_socket(control):
    site = control

    async def scenario(browser, before):
        ws_fault(site.control_url, mode="junk")
        await drain(browser, 1.5)  # only our payloads (a price refetch, say)
        assert sim_ws(site)["opened"] == before["opened"]
        await golive_reaches(site, browser, "after junk")

    run(scenario, site)


def test_a_frame_too_big_to_buffer_makes_the_relay_reconnect(control):
    site = control

    async def scenario(browser, before):
        ws_fault(site.control_url, mode="junk", size=5_000_000)  # above the 4 MB max_size
        await eventually(lambda: sim_ws(site)["opened"] > before["opened"])
        await relay_subscribed(site)
        await golive_reaches(site, browser, "after a huge frame")

    run(scenario, site)


def test_the_site_logged_no_traceback(site):
    # Runs last in this module: whatever the faults did, nothing escaped as a traceback.
    log = (site.log_dir / "daphne.log").read_text()
    assert "Traceback" not in log, log[-3000:]
