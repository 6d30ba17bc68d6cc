"""`SimulatedParti`: every simulated host on its own port of one asyncio loop.

port N     api-backend.parti.com   (api.py)
port N+1   ws-backend.parti.com    (ws.py)
port N+2   IVS playback host       (hls.py, live multivariant playlists)
port N+3   IVS variant host        (hls.py, live media playlists)
port N+4   IVS segment host        (hls.py, live .ts segments)
port N+5   watch.parti.com         (hls.py, recordings)
port N+6   assets.parti.com        (assets.py)
port N+7   control plane, not parti (control.py)
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import Counter

from aiohttp import web

from . import api, assets, control, faults, hls, ws
from .world import Urls, World

# (name, app factory) in port order.
HOSTS = (
    ("api", api.make_app),
    ("ws", ws.make_app),
    ("playback", hls.make_playback_app),
    ("variant", hls.make_variant_app),
    ("segment", hls.make_segment_app),
    ("vod", hls.make_vod_app),
    ("assets", assets.make_app),
    ("control", control.make_app),
)


class SimulatedParti:
    def __init__(
        self,
        base_port: int,
        host: str = "127.0.0.1",
        token_lifetime: float = 300.0,
        schedule_from_now: bool = False,
    ):
        self.base_port = base_port
        self.host = host
        self.token_lifetime = token_lifetime
        self.schedule_from_now = schedule_from_now
        # One key for the server's lifetime, so a reset does not break players mid-stream.
        self.secret = secrets.token_bytes(32)
        self.request_counts: dict[str, Counter] = {}
        self.hub = ws.Hub()
        self.faults = faults.ApiFaults()  # switched from the control port (faults.py)
        self.urls = Urls(
            api=self.http(0) + "/parti_v2",
            ws=f"ws://{host}:{base_port + 1}",
            playback=self.http(2),
            variant=self.http(3),
            segment=self.http(4),
            vod=self.http(5),
            assets=self.http(6),
            control=self.http(7),
        )
        self.world = self._new_world()
        self._runners: list[web.AppRunner] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def http(self, offset: int) -> str:
        return f"http://{self.host}:{self.base_port + offset}"

    def _new_world(self) -> World:
        return World(
            self.urls,
            self.secret,
            token_lifetime=self.token_lifetime,
            schedule_from_now=self.schedule_from_now,
        )

    # What the site's settings need.
    @property
    def api_url(self) -> str:
        return self.urls.api

    @property
    def ws_url(self) -> str:
        return self.urls.ws + "/"

    @property
    def vod_url(self) -> str:
        return self.urls.vod + "/"

    @property
    def control_url(self) -> str:
        return self.urls.control

    @property
    def media_hosts(self) -> list[str]:
        """Entries for PARTI_MEDIA_HOSTS: the playback, variant, segment, VOD and asset hosts."""
        return [self.http(offset) for offset in range(2, 7)]

    def env(self) -> dict[str, str]:
        return {
            "PARTI_API_URL": self.api_url,
            "PARTI_WS_URL": self.ws_url,
            "PARTI_VOD_URL": self.vod_url,
            "PARTI_MEDIA_HOSTS": ",".join(self.media_hosts),
        }

    def reset(self) -> None:
        """Fresh world from the recordings, clock and counts back to zero, no API faults."""
        self.world = self._new_world()
        self.request_counts.clear()
        self.faults.clear()

    # --- running in the current loop ------------------------------------------------------

    async def start(self) -> None:
        try:
            for offset, (_, make_app) in enumerate(HOSTS):
                runner = web.AppRunner(make_app(self), access_log=None, shutdown_timeout=1)
                await runner.setup()
                self._runners.append(runner)
                await web.TCPSite(runner, self.host, self.base_port + offset).start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        await self.hub.close_all()
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()

    # --- running in a thread (pytest fixtures) --------------------------------------------

    def start_in_thread(self, timeout: float = 10.0) -> None:
        """Start a loop in a daemon thread; return once every port listens (or raise)."""
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # reported to the caller below
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="simulated-parti", daemon=True)
        self._thread.start()
        if not started.wait(timeout):
            raise TimeoutError("the simulated parti did not start")
        if failure:
            self._thread.join()
            raise failure[0]

    def stop_thread(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = self._loop = None
