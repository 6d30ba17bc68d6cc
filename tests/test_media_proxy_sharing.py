"""Sharing upstream fetches between viewers (single-flight playlists, the segment tee) and
the content rules for what we serve from our origin: unit tests without HTTP."""

from __future__ import annotations

import asyncio

import pytest

from parti_site.media import coalesce, content
from parti_site.media.coalesce import SegmentTee, SingleFlight
from parti_site.media.fetch import FetchError, Kind
from parti_site.media.proxy import Playlist, playlist_ttl


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(coalesce, "_now", clock)
    return clock


def counting_fetch(result="answer", delay=0.01, error=None):
    calls = []

    async def fetch():
        calls.append(1)
        await asyncio.sleep(delay)
        if error is not None:
            raise error
        return result

    return fetch, calls


def one(value):
    return 1


# --- single flight -----------------------------------------------------------------------------


def test_concurrent_gets_make_one_fetch_and_the_answer_is_kept_for_its_ttl(clock):
    async def scenario():
        flight = SingleFlight(max_bytes=100)
        fetch, calls = counting_fetch()
        answers = await asyncio.gather(
            *[flight.get("k", fetch, ttl=lambda _: 1.0, size=one) for _ in range(50)]
        )
        assert answers == ["answer"] * 50 and len(calls) == 1
        clock.now += 0.9
        await flight.get("k", fetch, ttl=lambda _: 1.0, size=one)
        assert len(calls) == 1
        clock.now += 0.2
        await flight.get("k", fetch, ttl=lambda _: 1.0, size=one)
        assert len(calls) == 2

    asyncio.run(scenario())


def test_a_waiter_that_goes_away_does_not_cancel_the_fetch_for_the_others(clock):
    async def scenario():
        flight = SingleFlight(max_bytes=100)
        fetch, calls = counting_fetch(delay=0.05)
        leaving = asyncio.ensure_future(flight.get("k", fetch, ttl=lambda _: 1, size=one))
        staying = asyncio.ensure_future(flight.get("k", fetch, ttl=lambda _: 1, size=one))
        await asyncio.sleep(0.01)
        leaving.cancel()
        assert await staying == "answer"
        assert len(calls) == 1

    asyncio.run(scenario())


def test_failures_are_shared_and_kept_briefly_only_when_listed(clock):
    async def scenario():
        flight = SingleFlight(max_bytes=100, error_ttl=1.0, cache_errors=(FetchError,))
        error = FetchError(Kind.HTTP_STATUS, "gone", status=404)
        fetch, calls = counting_fetch(error=error)
        results = await asyncio.gather(
            *[flight.get("k", fetch, ttl=lambda _: 5, size=one) for _ in range(10)],
            return_exceptions=True,
        )
        assert all(r is error for r in results) and len(calls) == 1
        with pytest.raises(FetchError):
            await flight.get("k", fetch, ttl=lambda _: 5, size=one)
        assert len(calls) == 1
        clock.now += 1.1
        with pytest.raises(FetchError):
            await flight.get("k", fetch, ttl=lambda _: 5, size=one)
        assert len(calls) == 2

        other, other_calls = counting_fetch(error=ValueError("bug"))
        for _ in range(2):
            with pytest.raises(ValueError):
                await flight.get("v", other, ttl=lambda _: 5, size=one)
        assert len(other_calls) == 2

    asyncio.run(scenario())


def test_the_cache_is_bounded_by_bytes_least_recently_used_first(clock):
    async def scenario():
        flight = SingleFlight(max_bytes=100)

        async def value(key):
            async def fetch():
                return key

            return await flight.get(key, fetch, ttl=lambda _: 60, size=lambda _: 40)

        for key in ("a", "b"):
            await value(key)
        await value("a")  # "a" is now the most recently used
        await value("c")  # 120 bytes: "b" goes
        await asyncio.sleep(0)
        assert flight.bytes <= 100
        assert set(flight._entries) == {"a", "c"}

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "text, live, seconds",
    [
        ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n", True, 1.0),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\na.ts\n", True, 3.0),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:30\n", True, 5.0),
        ("#EXTM3U\n#EXTINF:2,\na.ts\n", True, 1.0),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:0\n", True, 1.0),
        ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n", True, 4.0),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:12\n#EXTINF:10,\n0.ts\n#EXT-X-ENDLIST\n", False, 60.0),
    ],
)
def test_live_playlists_are_shared_for_half_a_target_duration(text, live, seconds):
    assert playlist_ttl(Playlist(text, "https://a.live-video.net/p.m3u8", live)) == seconds


# --- the segment tee ---------------------------------------------------------------------------


def producer(chunks, started, delay=0.005, error=None):
    async def start(body):
        started.append(1)
        body.ready.set_result((200, {"Content-Type": "video/mp2t"}))
        for chunk in chunks:
            await asyncio.sleep(delay)
            body.append(chunk)
        if error is not None:
            raise error

    return start


async def read_all(body):
    return b"".join([chunk async for chunk in body.read()])


def test_followers_read_the_same_bytes_from_one_upstream_read(clock):
    async def scenario():
        tee = SegmentTee(max_bytes=10_000, keep_seconds=5)
        started = []
        chunks = [bytes([n]) * 100 for n in range(10)]
        first = tee.open("seg", producer(chunks, started))
        await asyncio.sleep(0.02)  # the first viewer is mid-way
        others = [tee.open("seg", producer(chunks, started)) for _ in range(20)]
        bodies = await asyncio.gather(read_all(first), *[read_all(b) for b in others])
        assert set(bodies) == {b"".join(chunks)}
        assert len(started) == 1
        assert await first.ready == (200, {"Content-Type": "video/mp2t"})

    asyncio.run(scenario())


def test_finished_segments_are_kept_a_few_seconds(clock):
    async def scenario():
        tee = SegmentTee(max_bytes=10_000, keep_seconds=5)
        started = []
        await read_all(tee.open("seg", producer([b"x"], started)))
        await asyncio.sleep(0)
        clock.now += 4
        await read_all(tee.open("seg", producer([b"x"], started)))
        assert len(started) == 1
        clock.now += 6
        await read_all(tee.open("seg", producer([b"x"], started)))
        assert len(started) == 2

    asyncio.run(scenario())


def test_a_failed_read_is_not_shared_with_later_viewers(clock):
    async def scenario():
        tee = SegmentTee(max_bytes=10_000, keep_seconds=5)
        started = []
        error = FetchError(Kind.UNREACHABLE, "reset")
        body = tee.open("seg", producer([b"a", b"b"], started, error=error))
        with pytest.raises(FetchError):
            await read_all(body)
        await asyncio.sleep(0)
        assert await read_all(tee.open("seg", producer([b"ok"], started))) == b"ok"
        assert len(started) == 2

    asyncio.run(scenario())


def test_an_upstream_refusal_reaches_every_waiting_viewer(clock):
    async def scenario():
        tee = SegmentTee(max_bytes=10_000, keep_seconds=5)

        async def refuse(body):
            await asyncio.sleep(0.01)
            raise FetchError(Kind.HTTP_STATUS, "gone", status=404)

        bodies = [tee.open("seg", refuse) for _ in range(5)]
        assert len({id(b) for b in bodies}) == 1
        with pytest.raises(FetchError):
            await bodies[0].ready

    asyncio.run(scenario())


def test_memory_stays_bounded_when_the_tee_is_full(clock):
    async def scenario():
        tee = SegmentTee(max_bytes=1000, keep_seconds=60, max_active=3)
        started = []
        for n in range(5):  # 5 finished segments of 400 bytes: old ones are evicted
            await read_all(tee.open(f"done{n}", producer([b"x" * 400], started)))
            await asyncio.sleep(0)
        assert tee.bytes <= 1000
        slow = [tee.open(f"active{n}", producer([b"y"] * 50, started, 0.01)) for n in range(3)]
        assert all(body is not None for body in slow)
        assert tee.open("one-too-many", producer([b"z"], started)) is None  # stream alone
        await asyncio.gather(*[read_all(body) for body in slow])

    asyncio.run(scenario())


# --- content rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, kind",
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0....", "image/jpeg"),
        (b"GIF87a....", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1", "image/avif"),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avif", "image/avif"),
        (b"\x00\x00\x00\x1cftypisom\x00\x00\x00\x00isomiso2", None),  # an MP4 video
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"<!DOCTYPE html>", None),
        (b"  \x89PNG\r\n\x1a\n", None),
        (b"", None),
    ],
)
def test_images_are_recognised_by_their_bytes(data, kind):
    assert content.sniff_image(data) == kind


@pytest.mark.parametrize(
    "header, served",
    [
        ("video/MP2T", "video/mp2t"),
        ("video/mp4; codecs=avc1", "video/mp4"),
        ("audio/aac", "audio/aac"),
        ("binary/octet-stream", "application/octet-stream"),
        (None, "application/octet-stream"),
        ("text/html", None),
        ("image/svg+xml", None),
        ("application/javascript", None),
        ("text/plain", None),
        ("application/xml", None),
    ],
)
def test_segments_are_served_only_as_media_or_opaque_bytes(header, served):
    assert content.segment_type(header) == served


@pytest.mark.parametrize(
    "value, passed",
    [
        ("bytes=0-99", "bytes=0-99"),
        ("bytes=100-", "bytes=100-"),
        ("bytes=-500", "bytes=-500"),
        ("bytes=-", None),
        ("bytes=0-1,4-5", None),
        ("items=0-1", None),
        ("bytes=0-1\r\nX-Evil: 1", None),
        ("bytes=99999999999999999-", None),
        (None, None),
    ],
)
def test_only_a_single_byte_range_is_passed_upstream(value, passed):
    assert content.range_header(value) == passed
