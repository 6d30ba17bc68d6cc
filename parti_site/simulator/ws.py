"""The WebSocket host `ws-backend.parti.com` (facts §2): flat JSON frames, no envelope, no
acknowledgement (none is documented), no application ping (aiohttp answers protocol pings).

Clients send `{"subscribe_options": {Topic: {...}}}` (an optional "jwt" key is ignored) and
from then on get that topic's frames:

- NewChannelLiveNotify: the §2.3 object (CONFIRMED field set) when a channel goes live.
- AssetPriceRefreshNotify: the assets_prices array with small random moves (shape UNKNOWN;
  INFERRED as the `assets_prices/info` array).
- ChatPublic {user_id}: one public-chat row (UNKNOWN; INFERRED as a `user_profile_chat` row).
- LivestreamLiveViewersUpdate {livestream_id}: {"livestream_id", "viewers_count"} (UNKNOWN).
  Unsubscribe is UNKNOWN, so there is none: clients close the socket.

Prices, chat and viewers go out every `interval` seconds, a go-live every `golive_every`
seconds (0: only on demand). The control routes (`control_routes()`) let tests trigger
events, push raw frames, drop every connection and read connection counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from . import recorded
from .common import new_app
from .faults import SocketFaults

log = logging.getLogger("parti_site.simulator")

TOPICS = (
    "NewChannelLiveNotify",
    "AssetPriceRefreshNotify",
    "ChatPublic",
    "LivestreamLiveViewersUpdate",
    "Inbox",
    "LivestreamLive",
)
# Keys of a NewChannelLiveNotify frame (facts §2.3), in that order.
GOLIVE_KEYS = (
    "livestream_id user_id user_name user_avatar_id avatar_link event_id event_title "
    "event_file category_name viewers_count social_media social_username channel_arn"
).split()
# The four channels recorded live (home-routes.md), for a simulator without a world.
RECORDED_LIVE = [
    (348242, "Jack Doherty", 5, "Other", "twitter", "dohertyjackk", "mvTHShbrmxS2"),
    (465731, "worldoftshirts2001", 3, "Other", "parti", "worldoftshirts2001", "he8vhFE098Ge"),
    (351819, "officialsupercal", 7, "Other", "parti", "officialsupercal", "pQPooedoDjgV"),
    (593563, "Oldies_Hits_Radio", 6, "Music", "parti", "Oldies_Hits_Radio", "9cNb4PD2VWYH"),
]
CHAT_TEXTS = ["hi chat 👋", "lol", "this song 🔥", "first time here", "gg", "<b>not bold</b>"]
CATEGORIES = ["Other", "Gaming", "Music", "IRL", "Creative"]


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    number: int
    origin: str | None
    user_agent: str | None
    transport: Any = None
    opened_at: float = field(default_factory=time.time)
    subscriptions: list[tuple[str, dict]] = field(default_factory=list)

    def wants(self, topic: str, **params: Any) -> bool:
        return any(
            t == topic and all(p.get(k) == v for k, v in params.items())
            for t, p in self.subscriptions
        )

    def describe(self) -> dict:
        return {
            "number": self.number,
            "origin": self.origin,
            "user_agent": self.user_agent,
            "opened_at": self.opened_at,
            "subscriptions": [{t: p} for t, p in self.subscriptions],
        }


def recorded_prices() -> list[dict]:
    for entry in recorded.entries():
        if entry["path"].endswith("/assets_prices/info"):
            return entry["response"]
    raise LookupError("recorded.json has no assets_prices answer")


class Hub:
    """The simulated WebSocket host's state: connections, their subscriptions, the timer.

    The world (simulator.world.World) comes from the SimulatedParti it is attached to (read
    at each event, so a reset world is used at once) or is given directly; without one the
    hub still works, with the four recorded live channels. With a world, go-live events
    pick channels that are not live and mark them live in it."""

    def __init__(self, world=None, *, interval: float = 3.0, golive_every: float = 45.0, seed=None):
        self._world = world
        self._sim = None
        self.interval = interval
        self.golive_every = golive_every
        self.rng = random.Random(seed)
        self.connections: set[Connection] = set()
        self.opened = 0  # connections ever opened
        self.sent: dict[str, int] = {}
        self._numbers = itertools.count(1)
        self._chat_ids = itertools.count(5_000_000)
        self._event_ids = itertools.count(90_000)
        self._next_golive = time.monotonic() + golive_every
        self._viewers: dict[int, int] = {}  # livestream_id -> count (no world)
        self.faults = SocketFaults(self)  # refuse, drop, silent, junk (faults.py)
        # The recorded assets_prices answer (home-routes.md §11), moved by `move_prices`.
        self._prices = recorded_prices()

    def attach(self, sim) -> None:
        self._sim = sim

    @property
    def world(self):
        return self._sim.world if self._sim is not None else self._world

    def subscribers(self, topic: str, **params: Any) -> list[Connection]:
        return [c for c in self.connections if c.wants(topic, **params)]

    async def close_all(self) -> int:
        return await self.drop_all()

    # --- the socket ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if (refused := self.faults.refusal(request)) is not None:
            return refused
        ws = web.WebSocketResponse(autoping=True, max_msg_size=64 * 1024)
        await ws.prepare(request)
        connection = Connection(
            ws,
            next(self._numbers),
            request.headers.get("Origin"),
            request.headers.get("User-Agent"),
            request.transport,
        )
        self.connections.add(connection)
        self.opened += 1
        self.faults.opened(connection)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._subscribe(connection, message.data)
        finally:
            self.connections.discard(connection)
        return ws

    def _subscribe(self, connection: Connection, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            return  # UNKNOWN what parti does; ignore
        options = data.get("subscribe_options") if isinstance(data, dict) else None
        if not isinstance(options, dict):
            return
        for topic, params in options.items():
            if topic in TOPICS and isinstance(params, dict):
                connection.subscriptions.append((topic, params))

    async def broadcast(self, frame: Any, topic: str | None = None, **params: Any) -> int:
        """Send one frame (JSON-encoded unless already text) to the topic's subscribers, or
        to every connection when topic is None. Returns how many got it."""
        text = frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
        count = 0
        if self.faults.silenced:
            return 0
        for connection in list(self.connections):
            if topic is not None and not connection.wants(topic, **params):
                continue
            with contextlib.suppress(ConnectionError, RuntimeError):
                await connection.ws.send_str(text)
                count += 1
        self.sent[topic or "raw"] = self.sent.get(topic or "raw", 0) + count
        return count

    async def drop_all(self, abort: bool = False) -> int:
        dropped = list(self.connections)
        for connection in dropped:
            if abort and connection.transport is not None:
                connection.transport.abort()
            else:
                await connection.ws.close(code=1012, message=b"service restart")
        return len(dropped)

    # --- events ----------------------------------------------------------------------------

    def golive_frame(self, overrides: dict | None = None) -> dict:
        # A test naming a known creator gets that creator's frame, not another's with its id.
        wanted = (overrides or {}).get("user_id")
        frame = self._world_golive(wanted) if self.world is not None else None
        if frame is None:
            uid, name, avatar_id, category, service, username, channel_id = self.rng.choice(
                RECORDED_LIVE
            )
            frame = {
                "livestream_id": 7000 + uid % 1000,
                "user_id": uid,
                "user_name": name,
                "user_avatar_id": avatar_id,
                "avatar_link": None,
                "event_id": next(self._event_ids),
                "event_title": "I'm Live on Parti",
                "event_file": None,
                "category_name": category,
                "viewers_count": 0,
                "social_media": service,
                "social_username": username,
                "channel_arn": f"arn:aws:ivs:eu-west-1:455030909228:channel/{channel_id}",
            }
        frame.update(overrides or {})
        if self.world is not None:
            self._mark_live(frame)
        return frame

    def _world_golive(self, user_id: int | None = None) -> dict | None:
        w = self.world
        if user_id in w.channels:
            channel = w.channels[user_id]
        else:
            candidates = [c for uid, c in sorted(w.channels.items()) if not c.live]
            if not candidates:
                return None
            channel = self.rng.choice(candidates)
        profile = w.profile(channel.user_id) or {}
        event_id = next(self._event_ids)
        return {
            "livestream_id": channel.livestream_id,
            "user_id": channel.user_id,
            "user_name": profile.get("user_name") or f"user{channel.user_id}",
            "user_avatar_id": profile.get("user_avatar_id"),
            "avatar_link": profile.get("avatar_link"),
            "event_id": event_id,
            "event_title": "I'm Live on Parti",
            "event_file": w.asset_url(channel.user_id, f"event-{event_id}"),
            "category_name": self.rng.choice(CATEGORIES),
            "viewers_count": 0,
            "social_media": profile.get("social_media", "parti"),
            "social_username": profile.get("social_username") or f"user{channel.user_id}",
            "channel_arn": channel.arn,
        }

    def _mark_live(self, frame: dict) -> None:
        """Make the world agree: the channel is live, and listed on /live (non-recorded
        queries). The recorded `/live?limit=30&offset=0` answer stays as recorded."""
        w = self.world
        channel = w.channels.get(frame.get("user_id"))
        if channel is None or channel.live:
            return
        channel.live = True
        channel.event_id = frame.get("event_id")
        channel.event_title = str(frame.get("event_title") or "")
        channel.viewers = frame.get("viewers_count") or 0
        channel.started_at = w.now()
        channel.preview_file = w.asset_url(channel.user_id, "preview")
        row = {key: frame.get(key) for key in GOLIVE_KEYS if key != "livestream_id"}
        row.update(
            discord_discriminator=(w.profile(channel.user_id) or {}).get("discord_discriminator"),
            playback_url=w.playback_url(channel.channel_id),
            playback_auth_token=w.make_token(channel.channel_id),
        )
        w.live_rows.append(row)

    async def golive(self, overrides: dict | None = None) -> dict:
        frame = self.golive_frame(overrides)
        await self.broadcast(frame, "NewChannelLiveNotify")
        return frame

    def _price_rows(self) -> list[dict]:
        return self.world.prices if self.world is not None else self._prices

    def move_prices(self) -> list[dict]:
        """Every price moves by up to ±0.5 %, keeping its decimal places (strings)."""
        for row in self._price_rows():
            try:
                old = Decimal(row["price"])
            except (KeyError, ArithmeticError, TypeError, ValueError):
                continue
            drift = self.rng.uniform(-0.005, 0.005)
            change = Decimal(str(round(drift, 5)))
            places = -old.as_tuple().exponent if old.as_tuple().exponent < 0 else 0
            step = Decimal(1).scaleb(-places)
            new = (old * (1 + change)).quantize(step)
            if new == old:  # too small to show: one step, the way it was going
                new = old - step if drift < 0 and old > step else old + step
            row["price"] = str(new)
            # Direction and difference (percent) of the move actually made.
            row["direction"] = "up" if new > old else "down"
            row["price_diff"] = f"{abs(new - old) / old * 100:.2f}" if old else "0.00"
        return self._price_rows()

    async def push_prices(self) -> list[dict]:
        rows = self.move_prices()
        await self.broadcast(rows, "AssetPriceRefreshNotify")
        return rows

    def _subscribed(self, topic: str, key: str) -> set[int]:
        return {
            p[key]
            for c in self.connections
            for t, p in c.subscriptions
            if t == topic and isinstance(p.get(key), int)
        }

    def chat_frame(self, user_id: int) -> dict:
        users = self.world.users if self.world is not None else {}
        others = [u for u in sorted(users) if u != user_id] or [457001]
        speaker = self.rng.choice(others)
        name = users.get(speaker, {}).get("user_name", f"viewer{speaker % 1000}")
        roll = self.rng.random()
        text = self.rng.choice(CHAT_TEXTS)
        if roll < 0.1:  # a system line: JSON in post_content (facts §1.9)
            owner = users.get(user_id, {}).get("user_name", f"user{user_id}")
            text = json.dumps({"channel_from_name": name, "channel_to_name": owner})
        elif roll < 0.2:
            speaker, name = 457269, "BabbleChat"
            text = "Thanks for the follow!"
        return {
            "chat_id": next(self._chat_ids),
            "user_id": speaker,
            "user_name": name,
            "post_content": text,
            "created_at": int(time.time()),
        }

    async def push_chat(self, user_id: int, frame: dict | None = None) -> dict:
        frame = frame or self.chat_frame(user_id)
        await self.broadcast(frame, "ChatPublic", user_id=user_id)
        return frame

    def viewers_frame(self, livestream_id: int, count: int | None = None) -> dict:
        channel = None
        if self.world is not None:
            channel = next(
                (c for c in self.world.channels.values() if c.livestream_id == livestream_id),
                None,
            )
        current = channel.viewers if channel is not None else self._viewers.get(livestream_id, 40)
        if count is None:
            count = max(0, current + self.rng.randint(-3, 5))
        if channel is not None:
            channel.viewers = count
        self._viewers[livestream_id] = count
        return {"livestream_id": livestream_id, "viewers_count": count}

    async def push_viewers(self, livestream_id: int, count: int | None = None) -> dict:
        frame = self.viewers_frame(livestream_id, count)
        await self.broadcast(frame, "LivestreamLiveViewersUpdate", livestream_id=livestream_id)
        return frame

    async def tick(self) -> None:
        if any(c.wants("AssetPriceRefreshNotify") for c in self.connections):
            await self.push_prices()
        for user_id in self._subscribed("ChatPublic", "user_id"):
            await self.push_chat(user_id)
        for livestream_id in self._subscribed("LivestreamLiveViewersUpdate", "livestream_id"):
            await self.push_viewers(livestream_id)
        if self.golive_every and time.monotonic() >= self._next_golive:
            self._next_golive = time.monotonic() + self.golive_every
            if any(c.wants("NewChannelLiveNotify") for c in self.connections):
                await self.golive()

    async def run_timer(self) -> None:
        while True:
            await asyncio.sleep(self.interval if self.interval > 0 else 1.0)
            if self.interval > 0:
                try:
                    await self.tick()
                except Exception:  # noqa: BLE001 - the timer must keep going
                    log.exception("simulated ws: tick failed")

    async def running(self, app: web.Application):
        """aiohttp cleanup context: the timer runs while the app does."""
        task = asyncio.create_task(self.run_timer())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await self.drop_all()

    def state(self) -> dict:
        connections = sorted(self.connections, key=lambda c: c.number)
        topics: dict[str, int] = {}
        for c in connections:
            for t, _ in c.subscriptions:
                topics[t] = topics.get(t, 0) + 1
        return {
            "connections": len(connections),
            "opened": self.opened,
            "topics": topics,
            "sent": dict(self.sent),
            "interval": self.interval,
            "golive_every": self.golive_every,
            "details": [c.describe() for c in connections],
        }

    # --- control plane ---------------------------------------------------------------------

    def control_routes(self, prefix: str = "/_sim/ws") -> list[web.RouteDef]:
        return [
            web.get(prefix, self._get_state),
            web.post(prefix + "/golive", self._post_golive),
            web.post(prefix + "/prices", self._post_prices),
            web.post(prefix + "/chat", self._post_chat),
            web.post(prefix + "/viewers", self._post_viewers),
            web.post(prefix + "/raw", self._post_raw),
            web.post(prefix + "/drop", self._post_drop),
            web.post(prefix + "/config", self._post_config),
        ]

    async def _get_state(self, request):
        return web.json_response(self.state())

    async def _body(self, request) -> dict:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(reason="body is not JSON") from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(reason="body must be a JSON object")
        return data

    async def _post_golive(self, request):
        """Body: optional overrides of the §2.3 fields, e.g. {"event_title": "Hi"}."""
        frame = await self.golive(await self._body(request))
        return web.json_response(
            {"frame": frame, "delivered": self.sent.get("NewChannelLiveNotify", 0)}
        )  # noqa: E501

    async def _post_prices(self, request):
        body = await self._body(request)
        if "frame" in body:  # push exactly this (e.g. [] or {} for "refresh, no prices")
            count = await self.broadcast(body["frame"], "AssetPriceRefreshNotify")
            return web.json_response({"frame": body["frame"], "delivered": count})
        return web.json_response({"frame": await self.push_prices()})

    async def _post_chat(self, request):
        """Body: {"user_id": N, optional "frame": {...} or "text": "..."}."""
        body = await self._body(request)
        user_id = body.get("user_id")
        if not isinstance(user_id, int):
            raise web.HTTPBadRequest(reason="user_id (int) is required")
        frame = body.get("frame")
        if frame is None:
            frame = self.chat_frame(user_id)
            if isinstance(body.get("text"), str):
                frame["post_content"] = body["text"]
        return web.json_response({"frame": await self.push_chat(user_id, frame)})

    async def _post_viewers(self, request):
        """Body: {"livestream_id": L, optional "viewers": N}."""
        body = await self._body(request)
        livestream_id = body.get("livestream_id")
        if not isinstance(livestream_id, int):
            raise web.HTTPBadRequest(reason="livestream_id (int) is required")
        count = body.get("viewers")
        frame = await self.push_viewers(livestream_id, count if isinstance(count, int) else None)
        return web.json_response({"frame": frame})

    async def _post_raw(self, request):
        """Body: {"text": "...", optional "topic": ..., "size": N (pad to N chars)}."""
        body = await self._body(request)
        text = body.get("text", "")
        if isinstance(body.get("size"), int):
            text = text + " " * max(0, body["size"] - len(text))
        count = await self.broadcast(str(text), body.get("topic"))
        return web.json_response({"delivered": count})

    async def _post_drop(self, request):
        """Body: optional {"abort": true} to cut TCP without a close frame."""
        body = await self._body(request)
        return web.json_response({"dropped": await self.drop_all(bool(body.get("abort")))})

    async def _post_config(self, request):
        """Body: {"interval": seconds (0 stops the timer), "golive_every": seconds}."""
        body = await self._body(request)
        if isinstance(body.get("interval"), (int, float)):
            self.interval = float(body["interval"])
        if isinstance(body.get("golive_every"), (int, float)):
            self.golive_every = float(body["golive_every"])
            self._next_golive = time.monotonic() + self.golive_every
        return web.json_response(self.state())


def make_app(sim) -> web.Application:
    """The app for the WebSocket port (a SimulatedParti with a `hub`, or a bare Hub): the
    socket at "/" (facts §2.1: trailing slash)."""
    if isinstance(sim, Hub):
        hub, app = sim, web.Application()
    else:
        hub = sim.hub
        hub.attach(sim)
        app = new_app(sim, "ws")
    app.router.add_get("/", hub.handle)
    app.cleanup_ctx.append(hub.running)
    return app


SimulatedSocket = Hub
