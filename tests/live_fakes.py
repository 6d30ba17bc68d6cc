"""Fakes for the live tests: a tiny parti WebSocket server (websockets) that records what
clients subscribe to, and helpers to run async tests and listen on channel-layer groups."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from channels.layers import channel_layers, get_channel_layer
from websockets.asyncio.server import serve

from parti_site.live import relay
from parti_site.upstream.models import AssetPrice, ChannelInfo, ChatLine, Creator, LiveChannel


def run(coroutine, timeout: float = 20):
    """Run one async test body in a fresh loop, stopping the relay at the end.

    The loop runs in a thread of its own: the main thread may already run one (sync
    Playwright's, when browser tests share the session)."""

    async def body():
        try:
            return await asyncio.wait_for(coroutine, timeout)
        finally:
            await relay.shutdown()

    with ThreadPoolExecutor(1, thread_name_prefix="live-test") as pool:
        return pool.submit(asyncio.run, body()).result()


async def eventually(check, timeout: float = 3.0, step: float = 0.02):
    give_up = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > give_up:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)


@dataclass(eq=False)
class Client:
    ws: object
    headers: object
    subscriptions: list = field(default_factory=list)
    closed: bool = False

    def topics(self) -> set[str]:
        return {t for s in self.subscriptions for t in s.get("subscribe_options", {})}


class FakeParti:
    """A WebSocket server speaking parti's flat protocol, driven by the test."""

    def __init__(self):
        self.clients: list[Client] = []
        self.server = None
        self.port = None

    async def start(self):
        self.server = await serve(self._handle, "127.0.0.1", 0, max_size=2**20)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self):
        self.server.close()
        await self.server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    async def _handle(self, ws):
        client = Client(ws, ws.request.headers)
        self.clients.append(client)
        try:
            async for message in ws:
                client.subscriptions.append(json.loads(message))
        except Exception:  # noqa: BLE001 - a dropped client
            pass
        finally:
            client.closed = True

    def open_clients(self, topic: str | None = None) -> list[Client]:
        return [c for c in self.clients if not c.closed and (topic is None or topic in c.topics())]

    async def wait_for(self, topic: str, count: int = 1) -> list[Client]:
        return await eventually(
            lambda: len(self.open_clients(topic)) >= count and self.open_clients(topic)
        )  # noqa: E501

    async def send(self, topic: str, frame, raw: bool = False) -> int:
        text = frame if raw else json.dumps(frame)
        clients = self.open_clients(topic)
        for client in clients:
            await client.ws.send(text)
        return len(clients)

    async def drop_all(self):
        for client in self.open_clients():
            await client.ws.close(1012)


class Listener:
    """A channel on the layer that joined some groups; `next()` returns the next payload."""

    def __init__(self, *groups: str):
        self.groups = groups
        self.layer = get_channel_layer()
        self.channel = None

    async def start(self):
        self.channel = await self.layer.new_channel()
        for group in self.groups:
            await self.layer.group_add(group, self.channel)
        return self

    async def next(self, kind: str | None = None, timeout: float = 3.0) -> dict:
        give_up = time.monotonic() + timeout
        while True:
            left = give_up - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind or 'event'} in time")
            message = await asyncio.wait_for(self.layer.receive(self.channel), left)
            event = message.get("event")
            if kind is None or event.get("kind") == kind:
                return event

    async def nothing(self, seconds: float = 0.3) -> None:
        try:
            message = await asyncio.wait_for(self.layer.receive(self.channel), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected event {message}")


# --- payload builders ----------------------------------------------------------------------


def make_golive_frame(**overrides) -> dict:
    frame = {
        "livestream_id": 116272,
        "user_id": 614111,
        "user_name": "ExampleStreamer",
        "user_avatar_id": 4,
        "avatar_link": None,
        "event_id": 83949,
        "event_title": "I'm Live on Parti",
        "event_file": None,
        "category_name": "Other",
        "viewers_count": 0,
        "social_media": "parti",
        "social_username": "ExampleStreamer",
        "channel_arn": "arn:aws:ivs:eu-west-1:455030909228:channel/AbCdEfGh1234",
    }
    frame.update(overrides)
    return frame


def make_price_rows() -> list[dict]:
    return [
        {
            "asset_type": "Crypto",
            "display_symbol": "BTC",
            "ticker": "bitcoin",
            "price": "103510",
            "direction": "up",
            "price_diff": "0.01",
        },  # noqa: E501
        {
            "asset_type": "Stock",
            "display_symbol": "TSLA",
            "ticker": "TSLA",
            "price": "340.34",
            "direction": "down",
            "price_diff": "0.63",
        },  # noqa: E501
    ]


def make_live_channel(user_id: int = 348242, name: str = "Jack", **overrides) -> LiveChannel:
    values = dict(
        creator=Creator(user_id=user_id, name=name),
        event_id=83848,
        title="I'm Live on Parti",
        thumbnail_url=None,
        category="Other",
        viewers=12516,
    )
    values.update(overrides)
    return LiveChannel(**values)


def make_chat_line(chat_id: int = 1, text: str = "hi", **overrides) -> ChatLine:
    values = dict(chat_id=chat_id, user_id=353044, user_name="Owner", content=text, created_at=None)
    values.update(overrides)
    return ChatLine(**values)


class Upstream:
    """Stand-ins for the relay's HTTP fetches, counting calls."""

    def __init__(self):
        self.calls = {"live": 0, "prices": 0, "channel": 0, "chat": 0}
        self.live = [make_live_channel()]
        self.prices = [AssetPrice("Crypto", "BTC", "bitcoin", None, "up", None)]
        self.livestream_id = 7862

    def fetch_live(self):
        self.calls["live"] += 1
        return self.live

    def fetch_prices(self):
        from decimal import Decimal

        self.calls["prices"] += 1
        return [AssetPrice("Crypto", "BTC", "bitcoin", Decimal("100"), "up", Decimal("1"))]

    def fetch_channel(self, user_id):
        self.calls["channel"] += 1
        return ChannelInfo(
            user_id=user_id, is_live=True, livestream_id=self.livestream_id, viewers=470
        )

    def fetch_chat(self, user_id):
        self.calls["chat"] += 1
        return [make_chat_line(2, "second"), make_chat_line(1, "first")]


@pytest.fixture
def upstream(monkeypatch):
    fake = Upstream()
    for name in ("fetch_live", "fetch_prices", "fetch_channel", "fetch_chat"):
        monkeypatch.setattr(relay, name, getattr(fake, name))
    return fake


@pytest.fixture
def live_settings(settings):
    """Fast backoff and interest reports; a fresh in-memory layer for this test's loop."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.REDIS_URL = ""
    settings.LIVE_BACKOFF_BASE = 0.05
    settings.LIVE_BACKOFF_MAX = 0.2
    settings.LIVE_INTEREST_INTERVAL = 0.2
    settings.LIVE_PRICE_REFETCH_GAP = 0.2
    settings.LIVE_RELAY = True
    channel_layers.backends = {}
    yield settings
    channel_layers.backends = {}
