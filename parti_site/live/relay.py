"""The relay: the deployment's upstream WebSockets to parti, fanned out to browsers through
channel-layer groups (wire.py names them).

- Started lazily by the first browser socket of a Daphne process (`ensure_started()`), then
  kept running in that process's event loop. Daphne has no ASGI lifespan, and starting from
  AppConfig.ready would also start it in every management command.
- With the in-memory channel layer (no REDIS_URL) the process is the holder. With Redis,
  every started process is a candidate and only the lease holder (lease.py) opens upstream
  sockets; it publishes to groups, so browsers on every process get every event.
- One socket per topic, because frames carry no topic field (facts.md §2.3): the socket
  tells us what a frame is, and a price-refresh frame that carries no prices can be told
  apart from junk. Two sockets always (NewChannelLiveNotify, AssetPriceRefreshNotify), and
  while anyone watches channel N two more (ChatPublic N, LivestreamLiveViewersUpdate of its
  livestream_id), closed when the last viewer anywhere leaves: parti has no documented
  unsubscribe message (§2.2), so closing the socket is the faithful way to stop.
- Watch interest crosses processes: each process's relay sends the set of channels its
  browsers watch to the RELAY group every couple of seconds (and at once on a change); the
  holder subscribes the union and forgets a process that stopped reporting.
- After every (re)connect of the shared sockets it resyncs: fresh live list and prices.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from functools import partial
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from parti_site.instance import store
from parti_site.upstream import api, client, history, parse
from parti_site.upstream.errors import UpstreamError
from parti_site.web.shutdown import at_shutdown

from . import wire
from .lease import LocalLease, RedisLease
from .upstream_socket import Options, UpstreamSocket

log = logging.getLogger("parti_site.live")

LIVE_LIST_SIZE = 30  # as many as the home and /live pages show
WATCH_RETRY_SECONDS = 60.0  # a channel whose sockets ended (e.g. unknown) is retried after

SUBSCRIBE_GOLIVE = {"subscribe_options": {"NewChannelLiveNotify": {}}}
SUBSCRIBE_PRICES = {"subscribe_options": {"AssetPriceRefreshNotify": {}}}


def chat_enabled() -> bool:
    """The admin's public chat switch (instance settings; defaults when unreadable)."""
    return store.current().public_chat


def subscribe_chat(user_id: int) -> dict:
    return {"subscribe_options": {"ChatPublic": {"user_id": user_id}}}


def subscribe_viewers(livestream_id: int) -> dict:
    # The browser sends "jwt": null when logged out (facts.md §2.2).
    return {
        "jwt": None,
        "subscribe_options": {"LivestreamLiveViewersUpdate": {"livestream_id": livestream_id}},
    }  # noqa: E501


# --- what the relay fetches over HTTP (upstream does the talking; tests patch these) --------


def fetch_live() -> list:
    """The live list as parti has it now (not the page cache: a resync wants fresh data)."""
    rows = parse.rows(client.live_channels(limit=LIVE_LIST_SIZE), "live", parse.live_channel)
    history.live_snapshot(rows)  # the go-live feed's log (upstream/history.py)
    return rows


def fetch_prices() -> list:
    rows = parse.rows(client.asset_prices(), "prices", parse.asset_price)
    history.saw_prices(rows)  # the ticker's sparklines
    return rows


def fetch_channel(user_id: int):
    return api.channel(user_id).data


def fetch_chat(user_id: int) -> list:
    return api.public_chat(user_id).data


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


class Relay:
    def __init__(self, *, lease=None, options: Options | None = None):
        self.options = options or Options(
            url=settings.PARTI_WS_URL,
            backoff_base=setting("LIVE_BACKOFF_BASE", 0.5),
            backoff_max=setting("LIVE_BACKOFF_MAX", 30.0),
            ping_interval=setting("LIVE_PING_INTERVAL", 20.0),
            ping_timeout=setting("LIVE_PING_INTERVAL", 20.0),
            frame_limit=setting("LIVE_FRAME_LIMIT", 256 * 1024),
        )
        if lease is None:
            redis_url = setting("REDIS_URL", "")
            ttl = setting("LIVE_LEASE_TTL", 5.0)
            lease = (
                RedisLease(redis_url, "parti-site:live:relay-lease", ttl)
                if redis_url
                else LocalLease()
            )
        self.lease = lease
        self.shared = isinstance(lease, RedisLease)  # several processes
        self.interest_interval = setting("LIVE_INTEREST_INTERVAL", 2.0)
        self.max_watched = setting("LIVE_MAX_WATCHED", 100)
        self.price_refetch_gap = setting("LIVE_PRICE_REFETCH_GAP", 5.0)
        self.process = secrets.token_hex(6)
        self.layer = get_channel_layer()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.holder = False
        self.local: Counter[int] = Counter()  # channel -> this process's watch sockets
        self.remote: dict[str, tuple[frozenset[int], float]] = {}  # process -> (ids, seen)
        self.sockets: dict[str, UpstreamSocket] = {}
        self.watched: dict[int, asyncio.Task] = {}
        self.ended: dict[int, float] = {}  # channel -> when to try again (monotonic)
        self._holding: list[asyncio.Task] = []
        self._background: set[asyncio.Task] = set()
        self._changed: asyncio.Event | None = None
        self._relay_channel: str | None = None
        self._price_task: asyncio.Task | None = None
        self._price_last = 0.0
        self.started_at = time.time()

    # --- what consumers call -------------------------------------------------------------

    def watch(self, user_id: int) -> None:
        self.local[user_id] += 1
        if self.local[user_id] == 1:
            self._poke()

    def unwatch(self, user_id: int) -> None:
        if self.local[user_id] > 0:
            self.local[user_id] -= 1
        if self.local[user_id] == 0:
            del self.local[user_id]
            self._poke()

    def _poke(self) -> None:
        if self._changed is not None:
            self._changed.set()

    # --- life cycle ----------------------------------------------------------------------

    async def run(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        log.info(
            "live relay %s starting (%s)", self.process, "redis lease" if self.shared else "local"
        )
        tasks = [
            asyncio.create_task(self._lease_loop()),
            asyncio.create_task(self._interest_loop()),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._stop_holding()
            try:
                await self.lease.release()
                await self.lease.close()
            except Exception as error:  # noqa: BLE001
                log.warning("live relay: releasing the lease failed: %s", error)

    async def _lease_loop(self) -> None:
        while True:
            try:
                if self.holder:
                    if not await self.lease.renew():
                        log.warning("live relay %s: lost the lease", self.process)
                        await self._stop_holding()
                elif await self.lease.acquire():
                    log.info("live relay %s: holds the lease", self.process)
                    await self._start_holding()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis down: be safe, hold nothing
                log.warning("live relay %s: lease check failed: %s", self.process, error)
                if self.holder:
                    await self._stop_holding()
            await asyncio.sleep(self.lease.ttl / 3)

    async def _start_holding(self) -> None:
        self.holder = True
        self.remote.clear()
        self._relay_channel = await self.layer.new_channel()
        await self.layer.group_add(wire.RELAY, self._relay_channel)
        golive = UpstreamSocket(
            "golive", [SUBSCRIBE_GOLIVE], self._on_golive, self.options, self._golive_open
        )
        prices = UpstreamSocket(
            "prices", [SUBSCRIBE_PRICES], self._on_prices, self.options, self._prices_open
        )
        self.sockets.update(golive=golive, prices=prices)
        self._holding = [
            asyncio.create_task(golive.run()),
            asyncio.create_task(prices.run()),
            asyncio.create_task(self._receive_interest()),
        ]
        self._reconcile()

    async def _stop_holding(self) -> None:
        if not self.holder:
            return
        self.holder = False
        tasks = [*self._holding, *self.watched.values(), *self._background]
        if self._price_task is not None:
            tasks.append(self._price_task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._holding, self.watched, self._background, self._price_task = [], {}, set(), None
        self.ended.clear()
        self.sockets.clear()
        self.remote.clear()
        if self._relay_channel is not None:
            try:
                await self.layer.group_discard(wire.RELAY, self._relay_channel)
            except Exception as error:  # noqa: BLE001
                log.warning("live relay: leaving %s failed: %s", wire.RELAY, error)
            self._relay_channel = None

    # --- watch interest --------------------------------------------------------------------

    def _local_ids(self) -> frozenset[int]:
        return frozenset(uid for uid, count in self.local.items() if count > 0)

    async def _interest_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=self.interest_interval)
            except TimeoutError:
                pass
            self._changed.clear()
            if self.holder:
                self._reconcile()
            elif self.shared:
                report = {
                    "type": wire.INTEREST,
                    "process": self.process,
                    "user_ids": sorted(self._local_ids()),
                }
                try:
                    await self.layer.group_send(wire.RELAY, report)
                except Exception as error:  # noqa: BLE001
                    log.warning("live relay: reporting watch interest failed: %s", error)

    async def _receive_interest(self) -> None:
        while True:
            message = await self.layer.receive(self._relay_channel)
            if message.get("type") != wire.INTEREST or not isinstance(message.get("process"), str):
                continue
            ids = message.get("user_ids")
            if not isinstance(ids, list):
                continue
            valid = frozenset(i for i in ids if isinstance(i, int) and i > 0)
            if message["process"] != self.process:
                self.remote[message["process"]] = (valid, time.monotonic())
                self._reconcile()

    def _reconcile(self) -> None:
        """Open sockets for newly watched channels, close those nobody watches any more."""
        if not self.holder:
            return
        horizon = time.monotonic() - 3 * self.interest_interval - self.lease.ttl
        for process, (_, seen) in list(self.remote.items()):
            if seen < horizon:
                del self.remote[process]
        # Watchers per channel: this process's sockets, and at least one per other process.
        watchers = Counter({uid: count for uid, count in self.local.items() if count > 0})
        for ids, _ in self.remote.values():
            watchers.update(ids)
        now = time.monotonic()
        for uid, retry_at in list(self.ended.items()):
            if uid not in watchers or retry_at <= now:
                del self.ended[uid]
        # Over the limit, the most watched channels win (ties: those subscribed already), so
        # sockets to channels nobody else watches cannot crowd out a popular one.
        ranked = sorted(
            watchers.keys() - self.ended.keys(),
            key=lambda uid: (-watchers[uid], uid not in self.watched, uid),
        )
        chosen = set(ranked[: self.max_watched])
        for uid in list(self.watched):
            if uid not in chosen:
                self.watched.pop(uid).cancel()
                log.info("live relay: not watching %s any more; closing its sockets", uid)
        if len(ranked) > self.max_watched:
            log.warning(
                "live relay: %d channels watched; not subscribing %d of them",
                len(ranked),
                len(ranked) - self.max_watched,
            )
        for uid in sorted(chosen - self.watched.keys()):
            task = asyncio.create_task(self._watch_channel(uid))
            task.add_done_callback(partial(self._watch_ended, uid))
            self.watched[uid] = task

    def _watch_ended(self, uid: int, task: asyncio.Task) -> None:
        """A channel's sockets ended on their own (unknown channel, a bug): free its slot,
        and try again only after a while, not at every reconcile."""
        if task.cancelled() or self.watched.get(uid) is not task:
            return
        del self.watched[uid]
        self.ended[uid] = time.monotonic() + WATCH_RETRY_SECONDS
        if task.exception() is not None:
            log.error("live relay: watching %s failed: %r", uid, task.exception())

    async def _watch_channel(self, uid: int) -> None:
        names: list[str] = []
        try:
            livestream_id = None
            try:
                info = await asyncio.to_thread(fetch_channel, uid)
                livestream_id = info.livestream_id
            except UpstreamError as error:
                if error.is_not_found:
                    log.info("live relay: no channel %s; not subscribing", uid)
                    return
                log.warning("live relay: channel %s unavailable (%s); chat only", uid, error)
            runs = []
            # With public chat switched off (admin), parti's chat socket is not even opened.
            if await asyncio.to_thread(chat_enabled):
                names.append(f"chat:{uid}")
                runs.append(
                    self._socket(
                        names[-1], [subscribe_chat(uid)], uid, self._on_chat, self._chat_open
                    )
                )
            if livestream_id is not None:
                names.append(f"viewers:{uid}")
                on_frame = partial(self._on_viewers, livestream_id=livestream_id)
                runs.append(
                    self._socket(
                        names[-1],
                        [subscribe_viewers(livestream_id)],
                        uid,
                        on_frame,
                        self._viewers_open,
                    )  # noqa: E501
                )
            await asyncio.gather(*(socket.run() for socket in runs))
        finally:
            for name in names:
                self.sockets.pop(name, None)

    def _socket(self, name, messages, uid, on_frame, on_open) -> UpstreamSocket:
        socket = UpstreamSocket(
            name, messages, partial(on_frame, uid), self.options, partial(on_open, uid)
        )
        self.sockets[name] = socket
        return socket

    # --- frames ----------------------------------------------------------------------------

    async def publish(self, group: str, payload: dict) -> None:
        try:
            await self.layer.group_send(group, wire.message(payload))
        except Exception as error:  # noqa: BLE001 - a layer hiccup must not end the socket
            log.warning("live relay: sending to %s failed: %s", group, error)

    def _drop(self, socket: str, data: Any) -> None:
        upstream = self.sockets.get(socket)
        if upstream is not None:
            upstream.drop("frame of unknown shape", len(repr(data)), repr(data)[:60])

    async def _on_golive(self, data: Any) -> None:
        found = wire.read_golive(data)
        if not found:
            return self._drop("golive", data)
        await self._record(history.went_live, found)
        for live in found:
            log.info("live relay: %s went live", live.creator.user_id)
            await self.publish(wire.GRID, wire.golive(live))

    async def _record(self, function, *args) -> None:
        """Write to the go-live log (the cache: Redis I/O) off the event loop; a failure
        costs a log entry, never the push."""
        try:
            await asyncio.to_thread(function, *args)
        except Exception as error:  # noqa: BLE001
            log.warning("live relay: recording history failed: %s", error)

    async def _on_prices(self, data: Any) -> None:
        rows = wire.read_prices(data)
        if rows:
            history.saw_prices(rows)  # in memory: cheap enough for the loop
            await self.publish(wire.PRICES, wire.prices(rows))
        else:
            # A refresh notice without prices (or junk): fetch them, once for a burst.
            self._refetch_prices()

    async def _on_chat(self, uid: int, data: Any) -> None:
        lines = wire.read_chat(data)
        if not lines:
            return self._drop(f"chat:{uid}", data)
        await self.publish(wire.watch_group(uid), wire.chat(uid, lines))

    async def _on_viewers(self, uid: int, data: Any, livestream_id: int) -> None:
        count = wire.read_viewers(data, livestream_id)
        if count is None:
            return self._drop(f"viewers:{uid}", data)
        await self._publish_viewers(uid, count)

    async def _publish_viewers(self, uid: int, count: int) -> None:
        payload = wire.viewers(uid, count)
        await self.publish(wire.watch_group(uid), payload)
        await self.publish(wire.GRID, payload)

    # --- resyncs ---------------------------------------------------------------------------

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _fetch(self, what: str, function, *args):
        try:
            return await asyncio.to_thread(function, *args)
        except UpstreamError as error:
            log.warning("live relay: could not fetch %s: %s", what, error)
            return None

    async def _golive_open(self, reconnected: bool) -> None:
        self._spawn(self._resync_live())

    async def _resync_live(self) -> None:
        channels = await self._fetch("live list", fetch_live)
        if channels is not None:
            await self.publish(wire.GRID, wire.live_list(channels))

    async def _prices_open(self, reconnected: bool) -> None:
        self._refetch_prices(now=True)

    def _refetch_prices(self, now: bool = False) -> None:
        if self._price_task is not None and not self._price_task.done():
            return  # coalesced into the fetch already under way
        self._price_task = asyncio.create_task(self._fetch_and_push_prices(now))

    async def _fetch_and_push_prices(self, now: bool) -> None:
        wait = self._price_last + self.price_refetch_gap - time.monotonic()
        if not now and wait > 0:
            await asyncio.sleep(wait)
        self._price_last = time.monotonic()
        rows = await self._fetch("prices", fetch_prices)
        if rows:
            await self.publish(wire.PRICES, wire.prices(rows))

    async def _chat_open(self, uid: int, reconnected: bool) -> None:
        if reconnected:  # consumers sent history on connect; fill what the drop missed
            self._spawn(self._resync_chat(uid))

    async def _resync_chat(self, uid: int) -> None:
        lines = await self._fetch("chat history", fetch_chat, uid)
        if lines is not None:
            await self.publish(wire.watch_group(uid), wire.chat_history(uid, lines))

    async def _viewers_open(self, uid: int, reconnected: bool) -> None:
        if reconnected:
            self._spawn(self._resync_viewers(uid))

    async def _resync_viewers(self, uid: int) -> None:
        info = await self._fetch("channel", fetch_channel, uid)
        if info is not None and info.viewers is not None:
            await self._publish_viewers(uid, info.viewers)

    # --- health ----------------------------------------------------------------------------

    def state(self) -> dict:
        shared = [s.state for name, s in self.sockets.items() if name in ("golive", "prices")]
        golive = self.sockets.get("golive")
        frames = [s.last_frame_at for s in shared if s.last_frame_at]
        return {
            "holder": self.holder,
            "mode": "redis-lease" if self.shared else "single-process",
            "process": self.process,
            "started_at": self.started_at,
            "connected_since": golive.state.connected_since if golive else None,
            "last_frame_at": max(frames) if frames else None,
            "reconnects": sum(s.reconnects for s in shared),
            "sockets": {name: s.state.snapshot() for name, s in sorted(self.sockets.items())},
            "watched": sorted(self.watched),
            "local_watchers": dict(sorted(self.local.items())),
        }


# --- the process's relay -------------------------------------------------------------------

_relay: Relay | None = None
_task: asyncio.Task | None = None


def ensure_started() -> Relay:
    """The process's relay, started in the running loop on first use (and restarted if it
    ever stopped). Call from async code, e.g. a consumer's connect()."""
    global _relay, _task
    loop = asyncio.get_running_loop()
    if _relay is not None and _relay.loop not in (None, loop):
        _relay, _task = None, None  # a new loop (tests): start afresh
    if _relay is None:
        _relay = Relay()
    if setting("LIVE_RELAY", True) and (_task is None or _task.done()):
        if _task is not None and not _task.cancelled() and _task.exception() is not None:
            log.error("live relay stopped: %r; restarting", _task.exception())
        _relay.loop = loop
        _task = loop.create_task(_relay.run())
        at_shutdown(shutdown)  # under Daphne: stop cleanly, releasing the lease at once
    return _relay


async def shutdown() -> None:
    """Stop the relay (tests, and Daphne stopping: web/shutdown.py)."""
    global _relay, _task
    task, _relay, _task = _task, None, None
    if task is not None and not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def current() -> Relay | None:
    return _relay


def state() -> dict | None:
    """For the health page: this process's relay, or None before the first browser socket."""
    return _relay.state() if _relay is not None else None
