"""One upstream WebSocket to parti that stays connected: subscribe, read frames, reconnect.

parti's frames carry no topic field (facts.md §2.3), so each socket subscribes to one topic
and its frames are that topic's. Liveness is protocol pings (parti can be silent for long
stretches, §2.1), reconnects use jittered exponential backoff, and every frame is untrusted:
binary, oversized or invalid JSON frames are logged and dropped, never fatal.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import connect

log = logging.getLogger("parti_site.live")

ORIGIN = "https://parti.com"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/136.0.0.0 Safari/537.36"
)


@dataclass
class Options:
    url: str
    # Frames above frame_limit are dropped; above max_size websockets closes the socket
    # (1009) and we reconnect, so a hostile upstream cannot make us buffer without bound.
    frame_limit: int = 256 * 1024
    max_size: int = 4 * 1024 * 1024
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    open_timeout: float = 10.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    # A connection that lasted this long resets the backoff.
    stable_after: float = 10.0


@dataclass
class SocketState:
    connected_since: float | None = None  # Unix seconds, None while disconnected
    last_frame_at: float | None = None
    reconnects: int = 0
    frames: int = 0
    dropped: int = 0
    last_error: str = ""

    def snapshot(self) -> dict:
        return dict(vars(self))


def backoff_delay(attempt: int, base: float, cap: float, rng=random) -> float:
    """Exponential backoff with "equal jitter": between half and all of base * 2^attempt."""
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    return ceiling / 2 + rng.random() * ceiling / 2


Handler = Callable[[Any], Awaitable[None]]


@dataclass
class UpstreamSocket:
    """`run()` until cancelled. `on_frame(data)` gets each decoded JSON frame;
    `on_open(reconnected)` runs after every successful subscribe (for resyncs)."""

    name: str
    subscribe: list[dict]
    on_frame: Handler
    options: Options
    on_open: Callable[[bool], Awaitable[None]] | None = None
    state: SocketState = field(default_factory=SocketState)
    _last_drop_log: float = 0.0

    async def run(self) -> None:
        attempt = 0
        opened_before = False
        while True:
            started = time.monotonic()
            try:
                await self._session(opened_before)
            except asyncio.CancelledError:
                raise
            except websockets.ConnectionClosed as closed:
                self.state.last_error = f"closed: {closed}"
                log.warning("live %s: upstream socket closed (%s)", self.name, closed)
            except (OSError, TimeoutError, websockets.InvalidHandshake, websockets.InvalidURI) as e:
                self.state.last_error = f"{type(e).__name__}: {e}"[:200]
                log.warning("live %s: cannot connect: %s", self.name, self.state.last_error)
            except Exception as e:  # noqa: BLE001 - a bug in a handler must not end the relay
                self.state.last_error = f"{type(e).__name__}: {e}"[:200]
                log.exception("live %s: socket failed", self.name)
            finally:
                if self.state.connected_since is not None:
                    opened_before = True
                self.state.connected_since = None
            if time.monotonic() - started >= self.options.stable_after:
                attempt = 0
            delay = backoff_delay(attempt, self.options.backoff_base, self.options.backoff_max)
            attempt += 1
            self.state.reconnects += 1
            log.info("live %s: reconnecting in %.1f s", self.name, delay)
            await asyncio.sleep(delay)

    async def _session(self, reconnected: bool) -> None:
        opts = self.options
        async with connect(
            opts.url,
            origin=ORIGIN,
            user_agent_header=USER_AGENT,
            open_timeout=opts.open_timeout,
            ping_interval=opts.ping_interval,
            ping_timeout=opts.ping_timeout,
            max_size=opts.max_size,
            close_timeout=2,
        ) as ws:
            for text in self.subscribe:
                await ws.send(json.dumps(text, separators=(",", ":")))
            self.state.connected_since = time.time()
            log.info("live %s: subscribed on %s", self.name, opts.url)
            if self.on_open is not None:
                await self.on_open(reconnected)
            async for raw in ws:
                self.state.last_frame_at = time.time()
                self.state.frames += 1
                data = self._decode(raw)
                if data is not None:
                    await self.on_frame(data)

    def _decode(self, raw: str | bytes) -> Any:
        if isinstance(raw, bytes):
            return self.drop("binary frame", len(raw))
        if len(raw) > self.options.frame_limit:
            return self.drop("frame too large", len(raw))
        try:
            return json.loads(raw)
        except ValueError:
            return self.drop("frame is not JSON", len(raw), raw[:60])

    def drop(self, why: str, size: int, preview: str = "") -> None:
        """Count and log a dropped frame (warnings at most every 10 s per socket)."""
        self.state.dropped += 1
        now = time.monotonic()
        level = logging.DEBUG
        if now - self._last_drop_log >= 10:
            self._last_drop_log, level = now, logging.WARNING
        log.log(
            level,
            "live %s: dropped %s (%d chars%s; %d dropped so far)",
            self.name,
            why,
            size,
            f", starts {preview!r}" if preview else "",
            self.state.dropped,
        )
        return None
