# ruff: noqa: F401, F811  (pytest fixtures imported from tests.live_fakes)
"""The browser sockets through the real ASGI app: Origin checks, group events forwarded as
JSON, chat history first on watch pages, watch interest, slow clients dropped."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from channels.routing import ProtocolTypeRouter
from channels.testing import WebsocketCommunicator

from parti_site.live import consumers, relay, routing, wire
from tests.live_fakes import (
    FakeParti,
    eventually,
    live_settings,
    make_golive_frame,
    make_live_channel,
    run,
    upstream,
)

ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]


def asgi_app():
    """The project's ASGI app (its websocket routes, once asgi.py mounts them)."""
    from parti_site import asgi

    if "websocket" in getattr(asgi.application, "application_mapping", {}):
        return asgi.application
    return ProtocolTypeRouter(
        {"http": asgi.django_asgi_app, "websocket": routing.websocket_application()}
    )


@pytest.fixture
def quiet(live_settings, upstream):
    """No upstream sockets: the relay only counts watchers."""
    live_settings.LIVE_RELAY = False
    return live_settings


async def connect(path, headers=ORIGIN):
    communicator = WebsocketCommunicator(asgi_app(), path, headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"origin", b"null")],
        [(b"origin", b"")],
        [(b"origin", b"http://evil.example")],
        [(b"origin", b"http://127.0.0.1.evil.example")],
        [(b"origin", b"http://127.0.0.1:8000"), (b"origin", b"http://evil.example")],
    ],
)
@pytest.mark.parametrize("path", ["/ws/live", "/ws/watch/353044"])
def test_it_refuses_a_missing_null_or_foreign_origin(quiet, path, headers):
    async def body():
        communicator, connected, _ = await connect(path, headers)
        assert not connected
        await communicator.disconnect()

    run(body())


def test_it_refuses_the_any_host_setting_without_an_origin(quiet):
    quiet.ALLOWED_HOSTS = ["*"]

    async def body():
        communicator = WebsocketCommunicator(routing.websocket_application(), "/ws/live")
        connected, _ = await communicator.connect()
        assert not connected
        await communicator.disconnect()

    run(body())


@pytest.mark.parametrize("path", ["/ws/watch/0", "/ws/watch/abc", "/ws/nothing"])
def test_unknown_paths_are_refused(quiet, path):
    async def body():
        communicator, connected, _ = await connect(path)
        assert not connected
        await communicator.disconnect()

    run(body())


def test_the_live_socket_forwards_grid_and_price_events(quiet):
    async def body():
        communicator, connected, _ = await connect("/ws/live")
        assert connected
        layer = get_channel_layer()
        await layer.group_send(wire.GRID, wire.message(wire.golive(make_live_channel())))
        event = await communicator.receive_json_from()
        assert event["kind"] == "golive" and event["channel"]["name"] == "Jack"
        await layer.group_send(wire.PRICES, wire.message({"kind": "prices", "prices": []}))
        assert (await communicator.receive_json_from())["kind"] == "prices"
        await layer.group_send(wire.watch_group(1), wire.message({"kind": "chat"}))
        assert await communicator.receive_nothing(0.2)
        await communicator.send_json_to({"kind": "anything"})  # ignored
        assert await communicator.receive_nothing(0.1)
        await communicator.disconnect()

    run(body())


def test_the_watch_socket_sends_history_then_chat_and_counts_its_viewer(quiet, upstream):
    async def body():
        communicator, connected, _ = await connect("/ws/watch/353044")
        assert connected
        history = await communicator.receive_json_from()
        assert history["kind"] == "chat_history" and history["unavailable"] is False
        assert [line["text"] for line in history["lines"]] == ["first", "second"]
        assert relay.current().local[353044] == 1
        second, _, _ = await connect("/ws/watch/353044")
        await second.receive_json_from()
        assert relay.current().local[353044] == 2
        layer = get_channel_layer()
        await layer.group_send(wire.watch_group(353044), wire.message(wire.viewers(353044, 7)))
        assert (await communicator.receive_json_from())["viewers"] == 7
        await layer.group_send(wire.watch_group(99), wire.message(wire.viewers(99, 7)))
        await layer.group_send(wire.GRID, wire.message(wire.viewers(99, 7)))
        assert await communicator.receive_nothing(0.2)
        await second.disconnect()
        await communicator.disconnect()
        assert 353044 not in relay.current().local

    run(body())


def test_chat_history_unavailable_still_opens_the_socket(quiet, upstream, monkeypatch):
    from parti_site.upstream.errors import Kind, UpstreamError

    def failing(user_id):
        raise UpstreamError(Kind.TIMEOUT, "slow")

    monkeypatch.setattr(relay, "fetch_chat", failing)

    async def body():
        communicator, connected, _ = await connect("/ws/watch/353044")
        assert connected
        history = await communicator.receive_json_from()
        assert history == {
            "kind": "chat_history",
            "user_id": 353044,
            "lines": [],
            "unavailable": True,
        }  # noqa: E501
        await communicator.disconnect()

    run(body())


def test_a_client_that_falls_behind_is_closed(quiet, monkeypatch):
    quiet.LIVE_CLIENT_QUEUE = 3
    stuck = asyncio.Event()
    original = consumers.LiveConsumer.send_json

    async def slow_send(self, content, close=False):
        await stuck.wait()  # the client is not reading
        await original(self, content, close)

    monkeypatch.setattr(consumers.LiveConsumer, "send_json", slow_send)

    async def body():
        communicator, connected, _ = await connect("/ws/live")
        assert connected
        layer = get_channel_layer()
        for n in range(6):
            await layer.group_send(wire.PRICES, wire.message({"kind": "prices", "n": n}))
        closed = await communicator.receive_output(2)
        assert closed == {"type": "websocket.close", "code": consumers.CLOSE_TOO_SLOW}
        await communicator.disconnect()

    run(body())


def test_end_to_end_a_go_live_upstream_reaches_the_browser(live_settings, upstream):
    async def body():
        parti = await FakeParti().start()
        live_settings.PARTI_WS_URL = parti.url
        communicator, connected, _ = await connect("/ws/live")
        assert connected
        await parti.wait_for("NewChannelLiveNotify")
        assert (await communicator.receive_json_from(2))["kind"] in ("live_list", "prices")
        await eventually(lambda: upstream.calls["live"] and upstream.calls["prices"])
        await asyncio.sleep(0.1)
        while not await communicator.receive_nothing(0.1):
            await communicator.receive_json_from()
        await parti.send("NewChannelLiveNotify", make_golive_frame())
        event = await communicator.receive_json_from(2)
        assert event["kind"] == "golive" and event["channel"]["user_id"] == 614111
        watcher, _, _ = await connect("/ws/watch/353044")
        await watcher.receive_json_from()
        chat = (await parti.wait_for("ChatPublic"))[0]
        await watcher.disconnect()
        await eventually(lambda: chat.closed)
        await communicator.disconnect()
        await parti.stop()

    run(body())


def test_events_reach_browsers_without_a_hop_through_the_sync_thread(quiet, monkeypatch):
    """Channels' dispatch runs close_old_connections in the one sync thread before every
    message; ours skips it, so a broadcast to N browsers is not N thread hops."""
    import channels.consumer

    hops = []

    async def counted():
        hops.append(1)

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)

    async def body():
        communicator, connected, _ = await connect("/ws/live")
        assert connected
        layer = get_channel_layer()
        for _ in range(3):
            await layer.group_send(wire.GRID, wire.message(wire.viewers(1, 2)))
            assert (await communicator.receive_json_from())["kind"] == "viewers"
        await communicator.disconnect()

    run(body())
    assert hops == []
