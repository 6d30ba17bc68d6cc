# ruff: noqa: F401, F811  (pytest fixtures imported from tests.live_fakes)
"""The browser sockets through the real ASGI app: Origin checks, group events forwarded as
JSON, chat history first on watch pages, watch interest, slow clients dropped."""

import asyncio
import logging

import pytest
from channels.layers import get_channel_layer
from channels.routing import ProtocolTypeRouter
from channels.testing import WebsocketCommunicator

# Imported here, not in a test: its django.setup() configures logging again, which would
# drop the handler of a test using caplog.
from parti_site import asgi
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

HOST = (b"host", b"127.0.0.1:8000")
ORIGIN = [(b"origin", b"http://127.0.0.1:8000"), HOST]


def asgi_app():
    """The project's ASGI app (its websocket routes, once asgi.py mounts them)."""
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
        [HOST],
        [(b"origin", b"null"), HOST],
        [(b"origin", b""), HOST],
        [(b"origin", b"http://evil.example"), HOST],
        [(b"origin", b"http://127.0.0.1.evil.example"), HOST],
        [(b"origin", b"http://127.0.0.1:8000"), (b"origin", b"http://evil.example"), HOST],
        [(b"origin", b"http://127.0.0.1:8000")],  # no Host header
        [(b"origin", b"http://127.0.0.1:9999"), HOST],  # another site on our host name
        [(b"origin", b"http://127.0.0.1"), HOST],
        [(b"origin", b"https://127.0.0.1:8000"), (b"host", b"127.0.0.1")],
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


@pytest.mark.parametrize(
    "origin, host",
    [
        (b"http://127.0.0.1:8000", b"127.0.0.1:8000"),
        (b"http://LOCALHOST:8000", b"localhost:8000"),
        (b"http://localhost", b"localhost:80"),
        (b"https://localhost", b"localhost"),
    ],
)
def test_it_accepts_the_origin_of_the_site_itself(quiet, origin, host):
    async def body():
        communicator, connected, _ = await connect(
            "/ws/live", [(b"origin", origin), (b"host", host)]
        )
        assert connected
        await communicator.disconnect()

    run(body())


@pytest.mark.parametrize(
    "origin, accepted",
    [(b"https://parti.example.org", True), (b"http://parti.example.org", False)],
)
def test_with_a_public_url_the_origin_must_be_that_one(quiet, origin, accepted):
    quiet.PUBLIC_URL = "https://parti.example.org"
    quiet.ALLOWED_HOSTS = ["parti.example.org", "127.0.0.1"]

    async def body():
        # Behind a proxy that rewrites Host: PUBLIC_URL is what visitors' browsers name.
        headers = [(b"origin", origin), HOST]
        app = routing.websocket_application()  # reads ALLOWED_HOSTS when it is made
        communicator = WebsocketCommunicator(app, "/ws/live", headers=headers)
        connected, _ = await communicator.connect()
        assert connected is accepted
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


def test_a_socket_open_past_the_group_expiry_still_gets_pushes(quiet, monkeypatch):
    quiet.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"group_expiry": 1},  # Channels' default is a day
        }
    }
    monkeypatch.setattr(consumers, "REJOIN_SECONDS", 0.3)

    async def body():
        communicator, connected, _ = await connect("/ws/live")
        assert connected
        await asyncio.sleep(2.5)  # past the expiry of the first join (whole seconds)
        layer = get_channel_layer()
        await layer.group_send(wire.PRICES, wire.message({"kind": "prices", "prices": []}))
        assert (await communicator.receive_json_from())["kind"] == "prices"
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


# --- abuse: made-up channels, many sockets ---------------------------------------------------

REAL, OFFLINE = 353044, 400000


def from_address(address: str):
    """The ASGI app as a client at `address` sees it (Daphne fills scope["client"])."""
    app = asgi_app()

    async def application(scope, receive, send):
        return await app({**scope, "client": [address, 50000]}, receive, send)

    return application


async def connect_from(address: str, path: str):
    communicator = WebsocketCommunicator(from_address(address), path, headers=ORIGIN)
    connected, _ = await communicator.connect()
    return communicator, connected


@pytest.fixture
def only_real_channel(upstream, monkeypatch):
    """parti knows channel REAL (live) and OFFLINE; any other id is a 404."""
    from parti_site.upstream.errors import Kind, UpstreamError
    from parti_site.upstream.models import ChannelInfo

    known = upstream.fetch_channel

    def fetch_channel(user_id):
        if user_id == REAL:
            return known(user_id)
        upstream.calls["channel"] += 1
        if user_id == OFFLINE:
            return ChannelInfo(user_id=OFFLINE, is_live=False)
        raise UpstreamError(Kind.HTTP_STATUS, "HTTP 404", status=404)

    monkeypatch.setattr(relay, "fetch_channel", fetch_channel)
    return upstream


def test_sockets_to_made_up_channels_do_not_starve_a_real_one(live_settings, only_real_channel):
    async def body():
        parti = await FakeParti().start()
        live_settings.PARTI_WS_URL = parti.url
        bogus = []
        for n in range(1, 102):  # ids below the real one: the old relay took them first
            communicator, connected = await connect_from(
                f"10.0.{n // 200}.{n % 200}", f"/ws/watch/{n}"
            )
            assert not connected  # parti has no such channel
            bogus.append(communicator)
        assert only_real_channel.calls["chat"] == 0  # refused before any chat history call
        assert only_real_channel.calls["channel"] == 101
        viewer, connected = await connect_from("192.0.2.1", f"/ws/watch/{REAL}")
        assert connected
        assert (await viewer.receive_json_from(2))["kind"] == "chat_history"
        await parti.wait_for("ChatPublic")
        await parti.wait_for("LivestreamLiveViewersUpdate")
        assert relay.current().state()["watched"] == [REAL]
        frame = {"chat_id": 9, "user_id": 1, "user_name": "Bo", "post_content": "hi"}
        await parti.send("ChatPublic", frame)
        await parti.send("LivestreamLiveViewersUpdate", {"livestream_id": 7862, "viewer_count": 5})
        kinds = {}
        while not {"chat", "viewers"} <= kinds.keys():  # prices may come in between
            event = await viewer.receive_json_from(2)
            kinds[event["kind"]] = event
        assert kinds["chat"]["lines"][0]["text"] == "hi" and kinds["viewers"]["viewers"] == 5
        await viewer.disconnect()
        for communicator in bogus:
            await communicator.disconnect()
        await parti.stop()

    run(body())


def test_an_offline_channel_gets_chat_history_but_no_upstream_subscription(
    quiet, only_real_channel
):
    async def body():
        communicator, connected = await connect_from("192.0.2.1", f"/ws/watch/{OFFLINE}")
        assert connected
        assert (await communicator.receive_json_from())["kind"] == "chat_history"
        assert OFFLINE not in relay.current().local
        await communicator.disconnect()

    run(body())


def test_one_client_may_hold_only_a_few_sockets(quiet, upstream):
    quiet.LIVE_MAX_SOCKETS_PER_CLIENT = 3

    async def body():
        held = [await connect_from("203.0.113.7", "/ws/live") for _ in range(3)]
        assert all(connected for _, connected in held)
        refused, connected = await connect_from("203.0.113.7", f"/ws/watch/{REAL}")
        assert not connected
        await refused.disconnect()
        same_64, connected = await connect_from("2001:db8::1", "/ws/live")
        assert connected  # another client
        for n in range(2, 4):
            others, connected = await connect_from(f"2001:db8::{n}", "/ws/live")
            assert connected
        neighbour, connected = await connect_from("2001:db8::ff", "/ws/live")
        assert not connected  # one /64 is one client
        await held[0][0].disconnect()
        again, connected = await connect_from("203.0.113.7", "/ws/live")
        assert connected  # a closed socket frees its place
        for communicator in [again, *(c for c, _ in held[1:])]:
            await communicator.disconnect()

    run(body())


def test_the_client_limit_reads_forwarded_for_only_from_our_proxies(quiet, upstream):
    quiet.LIVE_MAX_SOCKETS_PER_CLIENT = 1
    quiet.TRUSTED_PROXIES = ["127.0.0.1/32"]

    async def body():
        opened = []
        for client in ("198.51.100.1", "198.51.100.2"):
            headers = [*ORIGIN, (b"x-forwarded-for", client.encode())]
            app = from_address("127.0.0.1")
            communicator = WebsocketCommunicator(app, "/ws/live", headers=headers)
            connected, _ = await communicator.connect()
            assert connected  # two clients behind our nginx
            opened.append(communicator)
        spoofed = [*ORIGIN, (b"x-forwarded-for", b"198.51.100.9")]
        communicator = WebsocketCommunicator(
            from_address("203.0.113.7"), "/ws/live", headers=spoofed
        )
        assert (await communicator.connect())[0]
        second = WebsocketCommunicator(from_address("203.0.113.7"), "/ws/live", headers=ORIGIN)
        assert not (await second.connect())[0]  # the header did not make it another client
        for each in [*opened, communicator]:
            await each.disconnect()

    run(body())


# --- Redis away --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_layer_warnings(monkeypatch):
    monkeypatch.setattr(consumers, "_layer_warnings", consumers.LayerWarnings())


def test_a_thousand_sockets_failing_at_once_make_one_warning_then_a_count(caplog):
    now = {"t": 100.0}
    warnings = consumers.LayerWarnings(clock=lambda: now["t"])
    caplog.set_level(logging.WARNING)
    for _ in range(1000):
        warnings.note(ConnectionError("Connection closed by server."))
    now["t"] += consumers.LAYER_WARNING_SECONDS
    warnings.note(ConnectionError("Connection refused"))
    assert [r.getMessage() for r in caplog.records] == [
        "live: channel layer unavailable (Connection closed by server.); closing a socket",
        "live: channel layer unavailable (Connection refused); closing a socket,"
        " and 999 more sockets since the last warning",
    ]


@pytest.mark.parametrize("path", ["/ws/live", f"/ws/watch/{REAL}"])
def test_with_the_channel_layer_down_a_socket_is_refused_with_one_warning(
    quiet, upstream, path, caplog
):
    """No server error and no traceback: the handshake is refused and live.js tries again,
    backing off, as for any socket that does not open."""
    from tests.live_site import free_port_block

    dead = f"redis://127.0.0.1:{free_port_block(1)}/0"  # nothing listens there
    quiet.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": dead, "socket_connect_timeout": 1}]},
        }
    }
    caplog.set_level(logging.INFO)

    async def body():
        communicator, connected = await connect_from("203.0.113.7", path)
        assert not connected
        await communicator.disconnect()
        assert relay.current().state()["watched"] == []  # no upstream subscription either

    run(body())
    (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.getMessage().startswith("live: channel layer unavailable (")
    assert warning.exc_info is None
    assert f"WS {path} refused 403 (channel layer unavailable)" in [
        r.getMessage() for r in caplog.records if r.name == "parti_site.request"
    ]


def test_a_closing_socket_does_not_wait_for_a_slow_to_cancel_layer_receive(quiet, monkeypatch):
    """channels_redis's receive sometimes takes longer to cancel than Daphne allows a
    closing consumer (10 s); the consumer ends at once and leaves it to finish."""
    from channels.layers import InMemoryChannelLayer

    finished = asyncio.Event()

    async def receive(self, channel):
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(4)  # stands for a BZPOPMIN that will not let go
            finished.set()
            raise

    monkeypatch.setattr(InMemoryChannelLayer, "receive", receive)

    async def body():
        communicator, connected, _ = await connect("/ws/live")
        assert connected
        await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await communicator.wait(timeout=2)  # the consumer is done, the receive is not
        assert not finished.is_set()
        await asyncio.wait_for(finished.wait(), 6)  # and it still finishes by itself

    run(body())


def test_an_open_socket_is_closed_when_the_channel_layer_fails(quiet, monkeypatch, caplog):
    """Redis restarted under an open socket: its groups are gone, so it is closed (4013) for
    live.js to open a fresh one, rather than left open and deaf or ended by a traceback."""
    from channels.layers import InMemoryChannelLayer
    from redis.exceptions import ConnectionError as RedisConnectionError

    restarted = asyncio.Event()

    async def receive(self, channel):
        await restarted.wait()
        raise RedisConnectionError("Connection closed by server.")

    monkeypatch.setattr(InMemoryChannelLayer, "receive", receive)
    caplog.set_level(logging.WARNING)

    async def body():
        communicator, connected, _ = await connect("/ws/live")
        assert connected
        restarted.set()
        closed = await communicator.receive_output(2)
        assert closed == {"type": "websocket.close", "code": consumers.CLOSE_LAYER_DOWN}
        await communicator.disconnect()

    run(body())
    (warning,) = caplog.records
    assert warning.getMessage() == (
        "live: channel layer unavailable (Connection closed by server.); closing a socket"
    )
    assert warning.exc_info is None
