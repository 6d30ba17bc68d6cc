# ruff: noqa: F401, F811  (pytest fixtures imported from tests.live_fakes)
"""The relay against a fake parti WebSocket server: subscriptions, fan-out to groups,
reconnects with backoff, resyncs, untrusted frames, per-channel sockets, the Redis lease."""

import asyncio
import random

import pytest

from parti_site.live import relay, wire
from parti_site.live.lease import RedisLease
from parti_site.live.upstream_socket import USER_AGENT, backoff_delay
from tests.live_fakes import (
    FakeParti,
    Listener,
    eventually,
    live_settings,
    make_golive_frame,
    make_price_rows,
    run,
    upstream,
)
from tests.services import redis_url

GOLIVE, PRICES = "NewChannelLiveNotify", "AssetPriceRefreshNotify"


@pytest.fixture
def fake(live_settings):
    """Pointed at by PARTI_WS_URL; started inside each test's loop."""
    parti = FakeParti()
    live_settings.PARTI_WS_URL = "ws://placeholder/"
    return parti


async def start(parti, settings):
    await parti.start()
    settings.PARTI_WS_URL = parti.url
    listener = await Listener(wire.GRID, wire.PRICES).start()
    started = relay.ensure_started()
    await parti.wait_for(GOLIVE)
    await parti.wait_for(PRICES)
    return started, listener


def test_it_opens_one_socket_per_topic_like_a_browser(fake, live_settings, upstream):
    async def body():
        await start(fake, live_settings)
        assert len(fake.open_clients()) == 2
        golive, prices = fake.open_clients(GOLIVE)[0], fake.open_clients(PRICES)[0]
        assert golive.subscriptions == [{"subscribe_options": {GOLIVE: {}}}]
        assert prices.subscriptions == [{"subscribe_options": {PRICES: {}}}]
        assert golive.headers["Origin"] == "https://parti.com"
        assert golive.headers["User-Agent"] == USER_AGENT

    run(body())


def test_a_go_live_frame_reaches_the_grid_group(fake, live_settings, upstream):
    async def body():
        _, listener = await start(fake, live_settings)
        await listener.next("live_list")  # the resync on connect
        await fake.send(GOLIVE, make_golive_frame(event_title="Hello <b>world</b>"))
        event = await listener.next("golive")
        assert event["channel"]["user_id"] == 614111
        assert event["channel"]["title"] == "Hello <b>world</b>"  # data, escaped by the JS
        assert event["channel"]["watch_url"] == "/watch/614111"

    run(body())


def test_it_resyncs_after_every_connect(fake, live_settings, upstream):
    async def body():
        started, listener = await start(fake, live_settings)
        listing = await listener.next("live_list")
        assert [c["user_id"] for c in listing["channels"]] == [348242]
        await listener.next("prices")
        await fake.drop_all()
        await eventually(lambda: upstream.calls["live"] == 2 and upstream.calls["prices"] == 2)
        await listener.next("live_list")
        assert started.state()["reconnects"] == 2  # one per socket
        assert started.state()["connected_since"] is not None

    run(body())


def test_it_reconnects_with_growing_jittered_delays():
    rng = random.Random(1)
    delays = [backoff_delay(attempt, 0.5, 30, rng) for attempt in range(8)]
    for attempt, delay in enumerate(delays):
        ceiling = min(30, 0.5 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert delays[-1] > delays[0] * 10
    assert len(set(delays)) == len(delays)


def test_it_waits_before_reconnecting(fake, live_settings, upstream):
    live_settings.LIVE_BACKOFF_BASE = 0.4
    live_settings.LIVE_BACKOFF_MAX = 0.4

    async def body():
        await start(fake, live_settings)
        await fake.drop_all()
        await asyncio.sleep(0.1)
        assert fake.open_clients() == []  # not straight back
        await fake.wait_for(GOLIVE)

    run(body())


def test_it_survives_the_upstream_going_away(live_settings, upstream):
    async def body():
        parti = await FakeParti().start()
        port = parti.port
        live_settings.PARTI_WS_URL = parti.url
        started = relay.ensure_started()
        await parti.wait_for(GOLIVE)
        await parti.stop()
        await eventually(lambda: started.state()["connected_since"] is None)
        await asyncio.sleep(0.5)  # a few refused connects
        assert started.state()["sockets"]["golive"]["last_error"]
        again = FakeParti()
        from websockets.asyncio.server import serve

        again.server = await serve(again._handle, "127.0.0.1", port)
        again.port = port
        await again.wait_for(GOLIVE, 1)
        await again.stop()

    run(body())


def test_prices_frames_are_pushed_and_empty_refreshes_refetch_once(
    fake,
    live_settings,
    upstream,
):
    async def body():
        _, listener = await start(fake, live_settings)
        await eventually(lambda: upstream.calls["prices"] == 1)  # resync on connect
        await listener.next("prices")
        await fake.send(PRICES, make_price_rows())
        event = await listener.next("prices")
        assert event["prices"][0] == {
            "symbol": "BTC",
            "ticker": "bitcoin",
            "asset_type": "Crypto",
            "price": "103510",
            "direction": "up",
            "price_diff": "0.01",
        }
        await fake.send(PRICES, make_price_rows()[1])  # one row
        assert [p["symbol"] for p in (await listener.next("prices"))["prices"]] == ["TSLA"]
        for frame in ({}, [], {"refresh": True}):  # notices without prices: one refetch
            await fake.send(PRICES, frame)
        event = await listener.next("prices")
        assert event["prices"][0]["price"] == "100"
        await asyncio.sleep(0.4)
        assert upstream.calls["prices"] == 2

    run(body())


def test_bad_frames_are_dropped_and_the_socket_stays(fake, live_settings, upstream):
    async def body():
        started, listener = await start(fake, live_settings)
        await listener.next("live_list")
        for text in ("not json", "{", '"a string"', "[1, 2]", '{"topic": "x"}', "{}"):
            await fake.send(GOLIVE, text, raw=True)
        await fake.send(GOLIVE, make_golive_frame(user_id="abc"), raw=False)  # no usable id
        await fake.send(GOLIVE, '{"a": "' + "x" * 300_000 + '"}', raw=True)  # over frame_limit
        for client in fake.open_clients(GOLIVE):
            await client.ws.send(b"\x00binary")
        await fake.send(GOLIVE, make_golive_frame())
        event = await listener.next("golive")
        assert event["channel"]["user_id"] == 614111
        state = started.state()["sockets"]["golive"]
        assert state["dropped"] == 9
        assert started.state()["reconnects"] == 0

    run(body())


def test_a_frame_over_max_size_costs_a_reconnect_not_the_relay(
    fake,
    live_settings,
    upstream,
):
    async def body():
        started, listener = await start(fake, live_settings)
        started.options.max_size = 100_000
        started.options.frame_limit = 50_000
        await fake.drop_all()  # reconnect with the smaller limit
        await eventually(lambda: started.state()["reconnects"] >= 1)
        await fake.wait_for(GOLIVE)
        await fake.send(GOLIVE, "[" + "1," * 100_000 + "1]", raw=True)
        await eventually(lambda: started.state()["sockets"]["golive"]["reconnects"] >= 2)
        await fake.wait_for(GOLIVE)
        await asyncio.sleep(0.1)
        await fake.send(GOLIVE, make_golive_frame())
        assert (await listener.next("golive"))["channel"]["user_id"] == 614111

    run(body())


def test_with_public_chat_off_no_chat_socket_is_opened(fake, live_settings, upstream, monkeypatch):
    monkeypatch.setattr(relay, "chat_enabled", lambda: False)

    async def body():
        started, grid = await start(fake, live_settings)
        started.watch(353044)
        await fake.wait_for("LivestreamLiveViewersUpdate")
        await asyncio.sleep(0.3)
        assert fake.open_clients("ChatPublic") == []

    run(body())


def test_first_viewer_opens_chat_and_viewer_sockets_last_closes_them(
    fake,
    live_settings,
    upstream,
):
    async def body():
        started, grid = await start(fake, live_settings)
        watch = await Listener(wire.watch_group(353044)).start()
        started.watch(353044)
        started.watch(353044)  # a second viewer: no new sockets
        chat = (await fake.wait_for("ChatPublic"))[0]
        viewers = (await fake.wait_for("LivestreamLiveViewersUpdate"))[0]
        assert chat.subscriptions == [{"subscribe_options": {"ChatPublic": {"user_id": 353044}}}]
        assert viewers.subscriptions == [
            {
                "jwt": None,
                "subscribe_options": {"LivestreamLiveViewersUpdate": {"livestream_id": 7862}},
            }
        ]
        await fake.send(
            "ChatPublic",
            {
                "chat_id": 9,
                "user_id": 1,
                "user_name": "Bo",
                "post_content": "<i>hi</i>",
                "created_at": 1747444386,
            },
        )  # noqa: E501
        event = await watch.next("chat")
        assert event["lines"][0]["text"] == "<i>hi</i>" and event["lines"][0]["notice"] is False
        await fake.send(
            "ChatPublic",
            {
                "chat_id": 10,
                "user_id": 1,
                "user_name": "Bo",
                "post_content": '{"channel_from_name":"A","channel_to_name":"B"}',
            },
        )  # noqa: E501
        event = await watch.next("chat")
        assert event["lines"][0] == {
            "chat_id": 10,
            "user_id": 1,
            "user_name": "Bo",
            "text": "A → B",
            "time": None,
            "notice": True,
        }
        await fake.send("LivestreamLiveViewersUpdate", {"livestream_id": 7862, "viewer_count": 5})
        assert (await watch.next("viewers")) == {"kind": "viewers", "user_id": 353044, "viewers": 5}  # noqa: E501
        assert (await grid.next("viewers"))["viewers"] == 5  # the grid's cards too
        await fake.send("LivestreamLiveViewersUpdate", {"livestream_id": 1, "viewers_count": 9})
        await fake.send("LivestreamLiveViewersUpdate", {"livestream_id": 7862, "viewers_count": 6})
        assert (await watch.next("viewers"))["viewers"] == 6  # the other livestream was dropped
        assert len(fake.open_clients()) == 4
        started.unwatch(353044)
        await asyncio.sleep(0.3)
        assert not chat.closed
        started.unwatch(353044)
        await eventually(lambda: chat.closed and viewers.closed)
        assert len(fake.open_clients()) == 2
        assert started.state()["watched"] == []

    run(body())


def test_a_chat_socket_that_reconnects_resends_history(fake, live_settings, upstream):
    async def body():
        started, _ = await start(fake, live_settings)
        watch = await Listener(wire.watch_group(353044)).start()
        started.watch(353044)
        chat = (await fake.wait_for("ChatPublic"))[0]
        await chat.ws.close()
        event = await watch.next("chat_history")
        assert [line["text"] for line in event["lines"]] == ["first", "second"]
        started.unwatch(353044)

    run(body())


# --- several processes: the Redis lease --------------------------------------------------

REDIS = "redis://127.0.0.1:6379/14"


def redis_or_skip():
    import redis

    redis_url(db=14)  # fails under CI=true when Redis is not there, else skips
    redis.Redis.from_url(REDIS, socket_timeout=0.5).flushdb()


def test_only_one_lease_holder_and_takeover_after_expiry():
    redis_or_skip()

    async def body():
        first = RedisLease(REDIS, "test:lease", ttl=0.5)
        second = RedisLease(REDIS, "test:lease", ttl=0.5)
        assert await first.acquire()
        assert not await second.acquire()
        assert await first.renew() and not await second.renew()
        await asyncio.sleep(0.7)  # the holder died: nobody renewed
        assert await second.acquire()
        assert not await first.renew()  # the old holder learns it lost
        await first.release()  # and cannot release someone else's lease
        assert await second.holder() == second.token
        await second.release()
        assert await first.holder() is None
        await first.close()
        await second.close()

    run(body())


def test_two_relays_on_one_layer_open_one_set_of_sockets_and_take_over(
    fake,
    live_settings,
    upstream,
):
    redis_or_skip()
    live_settings.REDIS_URL = REDIS
    live_settings.LIVE_LEASE_TTL = 0.6

    async def body():
        await fake.start()
        live_settings.PARTI_WS_URL = fake.url
        listener = await Listener(wire.GRID, wire.watch_group(353044)).start()
        relays = [relay.Relay(), relay.Relay()]
        tasks = [asyncio.create_task(r.run()) for r in relays]
        await fake.wait_for(GOLIVE)
        await asyncio.sleep(0.5)
        assert len(fake.open_clients(GOLIVE)) == 1
        holder = next(r for r in relays if r.holder)
        other = next(r for r in relays if not r.holder)
        other.watch(353044)  # a viewer on the other process
        await fake.wait_for("ChatPublic")
        await fake.send("ChatPublic", {"chat_id": 1, "user_name": "A", "post_content": "yo"})
        assert (await listener.next("chat"))["lines"][0]["text"] == "yo"
        tasks[relays.index(holder)].cancel()  # kill the holder (its lease stays until expiry)
        await eventually(lambda: other.holder, timeout=3)
        await fake.wait_for(GOLIVE)
        await fake.wait_for("ChatPublic")  # the new holder knows who watches
        await asyncio.sleep(0.3)
        assert len(fake.open_clients(GOLIVE)) == 1
        await fake.send(GOLIVE, make_golive_frame())
        assert (await listener.next("golive"))["channel"]["user_id"] == 614111
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    run(body())


def test_a_channel_parti_does_not_know_frees_its_watch_slot(
    fake, live_settings, upstream, monkeypatch
):
    from parti_site.upstream.errors import Kind, UpstreamError

    live_settings.LIVE_MAX_WATCHED = 1
    known = upstream.fetch_channel
    asked = []

    def fetch_channel(user_id):
        asked.append(user_id)
        if user_id == 1:
            raise UpstreamError(Kind.HTTP_STATUS, "HTTP 404", status=404)
        return known(user_id)

    monkeypatch.setattr(relay, "fetch_channel", fetch_channel)

    async def body():
        started, _ = await start(fake, live_settings)
        started.watch(1)
        await eventually(lambda: 1 in asked and not started.watched)
        started.watch(353044)
        chat = (await fake.wait_for("ChatPublic"))[0]
        assert chat.subscriptions[0]["subscribe_options"]["ChatPublic"]["user_id"] == 353044
        await asyncio.sleep(3 * live_settings.LIVE_INTEREST_INTERVAL)
        assert asked.count(1) == 1  # not asked again at every reconcile
        assert started.state()["watched"] == [353044]

    run(body())


def test_over_the_limit_the_most_watched_channels_win(fake, live_settings, upstream):
    live_settings.LIVE_MAX_WATCHED = 2

    def chat_ids():
        return sorted(
            c.subscriptions[0]["subscribe_options"]["ChatPublic"]["user_id"]
            for c in fake.open_clients("ChatPublic")
        )

    async def body():
        started, _ = await start(fake, live_settings)
        for uid in (1, 2):
            started.watch(uid)
        await eventually(lambda: chat_ids() == [1, 2])
        for _ in range(2):
            started.watch(900)  # a higher id, but two viewers
        await eventually(lambda: chat_ids() == [1, 900])
        assert started.state()["watched"] == [1, 900]
        for _ in range(2):
            started.unwatch(900)
        await eventually(lambda: chat_ids() == [1, 2])  # the slot goes back

    run(body())
