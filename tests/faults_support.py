"""Helpers for the fault, hostile-content and abuse suites: the simulator's fault switches
(parti_site/simulator/faults.py) and timed page requests."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from tests.live_site import wait_until  # noqa: F401  (used by the fault tests)

JACK = 348242  # live in the recordings
EVENT = 83870  # a recording in the recordings
PAGES = [
    "/",
    "/live",
    "/schedule",
    "/featured",
    "/recent",
    f"/profile/{JACK}",
    f"/watch/{JACK}",
    f"/video/{EVENT}",
]
# Each API fault of issue 8, as the body of POST /_sim/faults (endpoint added by callers).
API_FAULTS = {
    "500": {"mode": "status", "status": 500},
    "502": {"mode": "status", "status": 502},
    "429": {"mode": "status", "status": 429, "retry_after": 2},
    "html200": {"mode": "html200"},
    "invalid_json": {"mode": "invalid_json"},
    "empty": {"mode": "empty"},
    "shape_swap": {"mode": "shape", "shape": "swap"},
    "shape_rename": {"mode": "shape", "shape": "rename"},
    "hang": {"mode": "hang", "seconds": 30},
    "drip": {"mode": "drip", "interval": 0.3},
}
SLOW_FAULTS = {"hang", "drip"}


def fault(control_url: str, endpoint: str = "*", **body) -> dict:
    response = httpx.post(
        control_url + "/_sim/faults", json={"endpoint": endpoint, **body}, timeout=5
    )
    response.raise_for_status()
    return response.json()


def clear_faults(control_url: str) -> None:
    httpx.delete(control_url + "/_sim/faults", timeout=5).raise_for_status()


def ws_fault(control_url: str, **body) -> dict:
    response = httpx.post(control_url + "/_sim/ws/faults", json=body, timeout=5)
    response.raise_for_status()
    return response.json()


def clear_ws_faults(control_url: str) -> None:
    httpx.delete(control_url + "/_sim/ws/faults", timeout=5).raise_for_status()


def api_requests(control_url: str) -> int:
    """How many requests the simulated API host has answered since the last count reset."""
    counts = httpx.get(control_url + "/_sim/requests", timeout=5).json()
    return sum(counts.values())


def timed(get, path: str):
    started = time.monotonic()
    response = get(path)
    return response, time.monotonic() - started


async def golive_reaches(site, browser, title: str, seconds: float = 15) -> None:
    """Push go-lives until the browser's socket gets one titled `title`."""
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        await asyncio.to_thread(
            httpx.post, site.control_url + "/_sim/ws/golive", json={"event_title": title}
        )
        try:
            while True:
                event = json.loads(await asyncio.wait_for(browser.recv(), 1.0))
                if event.get("kind") == "golive" and event["channel"]["title"] == title:
                    return
        except TimeoutError:
            continue
    raise AssertionError(f"no go-live {title!r} reached the browser")
