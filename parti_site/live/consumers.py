"""Browser sockets. They only join groups, leave them and forward events (wire.py formats);
the relay does the upstream work.

Each client has a bounded outbox: a client that falls behind by more than
LIVE_CLIENT_QUEUE events is closed (code 4008) rather than buffered for. It reconnects and
gets fresh state with the next page load or resync.

While the channel layer fails (Redis down or restarting), a socket is refused at the
handshake, or closed with 4013 if it was open, with a one-line warning instead of a server
error and a traceback; live.js opens it again, backing off while it is refused. A fresh
socket joins its groups afresh (a restarted Redis has lost them).
"""

from __future__ import annotations

import asyncio
import logging
import time

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from parti_site.instance.store import current
from parti_site.upstream.errors import UpstreamError

from . import relay, wire

log = logging.getLogger("parti_site.live")

CLOSE_TOO_SLOW = 4008
CLOSE_LAYER_DOWN = 4013  # "try again later" (1013 is not a code Daphne may send)
CHAT_KINDS = frozenset({"chat", "chat_history"})
# An open watch socket sees the operator's public-chat switch change within this long.
SWITCH_RECHECK_SECONDS = 2.0
# Channels forgets a group member after the layer's group_expiry (a day by default), so a
# tab left open longer would stop getting pushes. Joining again renews the membership.
REJOIN_SECONDS = 3600.0


class LayerWarnings:
    """While Redis is away every open socket fails at once: one warning per
    LAYER_WARNING_SECONDS per process, counting the sockets closed or refused since."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.last = float("-inf")
        self.quiet = 0  # sockets not warned about since the last line

    def note(self, error: Exception) -> None:
        now = self.clock()
        if now - self.last < LAYER_WARNING_SECONDS:
            self.quiet += 1
            return
        also = f", and {self.quiet} more sockets since the last warning" if self.quiet else ""
        log.warning("live: channel layer unavailable (%s); closing a socket%s", error, also)
        self.last, self.quiet = now, 0


LAYER_WARNING_SECONDS = 10.0
_layer_warnings = LayerWarnings()


async def _detached_on_cancel(receive):
    """Await the layer's receive; when the socket ends, cancel it without waiting for it.

    channels_redis's receive, cancelled in the middle of its BZPOPMIN, now and then takes
    longer than Daphne's 10 s to give up (cf. redis-py#2579), and Daphne then kills the
    whole consumer with a warning. The cancelled receive finishes on its own instead."""
    task = asyncio.ensure_future(receive)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.cancel()
        task.add_done_callback(_forget)
        raise


def _forget(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not report it at exit


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """/ws/live: go-live, live list, viewer counts and prices."""

    accepted = False
    layer_down = False

    def live_groups(self) -> list[str]:
        return [wire.GRID, wire.PRICES]

    # Channels sets channel_receive in __call__ to the layer's receive for this socket, and
    # a failure there would end the consumer with a traceback (500 or 1011): wrapped here.
    @property
    def channel_receive(self):
        return self.receive_from_layer

    @channel_receive.setter
    def channel_receive(self, receive) -> None:
        self.layer_receive = receive

    async def receive_from_layer(self):
        try:
            return await _detached_on_cancel(self.layer_receive())
        except Exception as error:  # noqa: BLE001 - Redis away: close, the browser retries
            self.note_layer_down(error)
            if self.accepted:
                await self.close(code=CLOSE_LAYER_DOWN)
            # else open_socket() refuses. The disconnect that follows ends the consumer.
            await asyncio.Event().wait()

    def note_layer_down(self, error: Exception) -> None:
        if not self.layer_down:
            self.layer_down = True
            _layer_warnings.note(error)

    async def connect(self):
        await self.open_socket()

    async def open_socket(self) -> bool:
        """Join the groups and accept; False when the socket was refused instead."""
        self.outbox: asyncio.Queue = asyncio.Queue(getattr(settings, "LIVE_CLIENT_QUEUE", 100))
        self.dropped = False
        self.joined: list[str] = []
        self.sender: asyncio.Task | None = None
        self.renewer: asyncio.Task | None = None
        self.relay = relay.ensure_started()
        try:
            for group in self.live_groups():
                await self.channel_layer.group_add(group, self.channel_name)
                self.joined.append(group)
        except Exception as error:  # noqa: BLE001 - Redis away: refuse, the browser retries
            self.note_layer_down(error)
        if self.layer_down:
            await self.leave_groups()
            await self.close(reason="channel layer unavailable")  # before accept: refused
            return False
        self.accepted = True  # before the await: a failing receive then closes it after
        await self.accept()
        self.sender = asyncio.create_task(self.send_loop())
        self.renewer = asyncio.create_task(self.renew_membership())
        return True

    async def disconnect(self, code):
        await self.leave_groups()
        await self.stop_sending()

    async def leave_groups(self) -> None:
        joined, self.joined = getattr(self, "joined", []), []
        try:
            for group in joined:
                await self.channel_layer.group_discard(group, self.channel_name)
        except Exception as error:  # noqa: BLE001 - Redis away: the memberships expire
            log.warning("live: could not leave a socket's groups (%s)", error)

    async def stop_sending(self) -> None:
        tasks = [getattr(self, name, None) for name in ("sender", "renewer")]
        tasks = [task for task in tasks if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def renew_membership(self) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            try:
                for group in list(self.joined):
                    await self.channel_layer.group_add(group, self.channel_name)
            except Exception as error:  # noqa: BLE001 - Redis away: try again next time
                log.warning("live: could not renew a socket's groups (%s)", error)

    async def __call__(self, scope, receive, send):
        """Daphne cancels every connection's application when it stops, without a
        disconnect: end the send loop too, so no task is left pending at exit."""
        try:
            return await super().__call__(scope, receive, send)
        finally:
            await self.stop_sending()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Browsers have nothing to say; whatever they send is ignored, and not decoded
        (junk text would end the consumer with a JSONDecodeError and a traceback)."""

    async def dispatch(self, message):
        """Channels' dispatch without its `aclose_old_connections()` before every message:
        that is a hop through the one thread-sensitive sync thread, so a broadcast to N
        browsers queued N hops (bench/broadcast.py). These handlers use no database; code
        that does goes through `database_sync_to_async`, which closes old connections."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def live_event(self, message):
        self.enqueue(message.get("event"))

    def enqueue(self, payload) -> None:
        if self.dropped or not isinstance(payload, dict):
            return
        try:
            self.outbox.put_nowait(payload)
        except asyncio.QueueFull:
            self.dropped = True
            log.info("live: closing a client that fell %d events behind", self.outbox.maxsize)
            asyncio.create_task(self.close(code=CLOSE_TOO_SLOW))

    async def before_sending(self) -> None:
        """Hook for the watch page: chat history goes first."""

    async def send_loop(self) -> None:
        await self.before_sending()
        while True:
            payload = await self.outbox.get()
            if self.dropped:
                return
            await self.send_json(payload)


class WatchConsumer(LiveConsumer):
    """/ws/watch/<user_id>: that channel's chat and viewer count, plus prices."""

    def live_groups(self) -> list[str]:
        return [wire.watch_group(self.user_id), wire.PRICES]

    async def connect(self):
        self.user_id = int(self.scope["url_route"]["kwargs"]["user_id"])
        self.watching = False
        self.chat_checked_at = float("-inf")
        self.chat_on = True
        # Asked before anything else (cached), so a made-up id costs one call and no relay
        # slot: unknown channels are refused, offline ones get no upstream subscription.
        try:
            info = await asyncio.to_thread(relay.fetch_channel, self.user_id)
        except UpstreamError as error:
            if error.is_not_found:
                await self.close()  # before accept(): the handshake is refused
                return
            info = None  # parti is failing: watch anyway, the relay copes (chat only)
        if not await self.open_socket():
            return
        if info is None or info.is_live:
            self.relay.watch(self.user_id)
            self.watching = True

    async def disconnect(self, code):
        if getattr(self, "watching", False):
            self.relay.unwatch(self.user_id)
            self.watching = False
        await super().disconnect(code)

    def public_chat(self) -> bool:
        """The operator's public-chat switch, read at most every couple of seconds."""
        now = asyncio.get_running_loop().time()
        if now - self.chat_checked_at >= SWITCH_RECHECK_SECONDS:
            self.chat_on = current().public_chat
            self.chat_checked_at = now
        return self.chat_on

    async def live_event(self, message):
        event = message.get("event")
        if isinstance(event, dict) and event.get("kind") in CHAT_KINDS and not self.public_chat():
            return
        self.enqueue(event)

    async def before_sending(self) -> None:
        if not self.public_chat():
            return
        try:
            lines = await asyncio.to_thread(relay.fetch_chat, self.user_id)
        except UpstreamError as error:
            log.info("live: chat history of %s unavailable: %s", self.user_id, error)
            lines = None
        await self.send_json(wire.chat_history(self.user_id, lines))
