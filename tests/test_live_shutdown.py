"""Stopping Daphne with browser sockets open and media fetched: it closes what it holds
(the consumers' send loops, the relay, the media fetcher's HTTP session) instead of leaving
asyncio to complain at exit."""

from __future__ import annotations

import asyncio
import re
import signal
import time

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.live_site import start_site, stop


def test_stopping_daphne_leaves_no_pending_task_or_open_session(tmp_path):
    site, processes = start_site(tmp_path, SEGMENT_MODE="proxied", PYTHONFAULTHANDLER="1")
    try:
        home = httpx.get(site.url + "/", timeout=10).text
        user_id = re.search(r'href="/watch/(\d+)"', home).group(1)
        master = httpx.get(f"{site.url}/hls/live/{user_id}/master.m3u8").text
        assert master.startswith("#EXTM3U")  # the media session is open now
        ws = site.url.replace("http", "ws", 1)

        async def hold_sockets_while_stopping():
            async with (
                connect(ws + "/ws/live", origin=site.url) as live,
                connect(f"{ws}/ws/watch/{user_id}", origin=site.url) as watch,
            ):
                await watch.recv()  # chat history: its send loop ran
                await asyncio.sleep(0.5)  # the relay subscribed
                processes[1].terminate()
                await asyncio.to_thread(processes[1].wait, 15)
                assert live and watch

        asyncio.run(hold_sockets_while_stopping())
    finally:
        stop(processes)
    time.sleep(0.1)
    log = (site.log_dir / "daphne.log").read_text()
    if processes[1].returncode == -signal.SIGSEGV:
        # Known, not fixed yet: in about one stop in four Daphne segfaults in the garbage
        # collector (faulthandler: a pending coroutine in asyncio/queues.py `get`), with or
        # without the relay, before this code's shutdown triggers run.
        pytest.xfail("Daphne segfaulted while stopping (known, open)")
    assert "Killed 2 pending application instances" in log, log[-1500:]
    for complaint in ("Task was destroyed but it is pending", "Unclosed", "Traceback"):
        assert complaint not in log, log[-3000:]
