"""The playlist, segment and image proxy views against the simulated parti (a real server)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest
from django.test import AsyncClient
from django.urls import reverse

from parti_site.media import fetch, modes, proxy, signing
from parti_site.media.images import image_url
from parti_site.media.urls_for import live_playlist_path, recording_playlist_path

M3U8 = "application/vnd.apple.mpegurl"


def run(coroutine):
    """Run in a fresh event loop (so a fresh in-process playlist cache), then close the
    loop's media session."""

    async def main():
        try:
            return await coroutine
        finally:
            await fetch.close()

    return asyncio.run(main())


async def get(path: str, client: AsyncClient | None = None, **headers):
    """GET through the whole Django stack; returns (response, body bytes)."""
    response = await (client or AsyncClient()).get(path, headers=headers)
    if response.streaming:
        body = b"".join([chunk async for chunk in response.streaming_content])
    else:
        body = response.content
    return response, body


def fetch_one(path: str, **headers):
    return run(get(path, **headers))


def uri_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def segment_token(path: str) -> str:
    """The token in `/hls/s/<token>.<ext>`."""
    assert path.startswith("/hls/s/")
    return path.removeprefix("/hls/s/").rsplit(".", 1)[0]


def live_channel(parti):
    return next(channel for channel in parti.world.channels.values() if channel.live)


def recorded_event(parti) -> int:
    return next(iter(parti.world.recording_of_event))


def counts(parti, host: str) -> int:
    return sum(parti.request_counts.get(host, {}).values())


def channel_info_calls(parti, user_id: int) -> int:
    path = f"/parti_v2/profile/get_livestream_channel_info/{user_id}"
    return parti.request_counts.get("api", {}).get(path, 0)


@pytest.fixture
def direct(settings):
    settings.SEGMENT_MODE = "direct"


@pytest.fixture
def proxied(settings):
    settings.SEGMENT_MODE = "proxied"


# --- live multivariant playlist ----------------------------------------------------------------


def test_it_serves_the_live_master_with_upstream_variants_in_direct_mode(parti, direct):
    channel = live_channel(parti)
    response, body = fetch_one(live_playlist_path(channel.user_id))
    assert response.status_code == 200
    assert response["Content-Type"] == M3U8
    assert response["Cache-Control"] == "no-cache"
    assert "Access-Control-Allow-Origin" not in response
    text = body.decode()
    assert text.startswith("#EXTM3U")
    variants = uri_lines(text)
    assert variants and all(v.startswith(parti.urls.variant + "/v1/playlist/") for v in variants)
    assert "token=" not in text  # the playback token stays on the server


def test_the_upstream_request_carries_the_token_and_player_version(parti, direct):
    channel = live_channel(parti)
    fetch_one(live_playlist_path(channel.user_id))
    (requested,) = parti.request_counts["playback"]
    assert "?token=ey" in requested
    assert requested.endswith("&player_version=1.17.0")


def test_it_signs_every_child_playlist_in_proxied_mode(parti, proxied):
    channel = live_channel(parti)
    response, body = fetch_one(live_playlist_path(channel.user_id))
    assert response.status_code == 200
    variants = uri_lines(body.decode())
    assert variants and all(v.startswith("/hls/p/") and v.endswith(".m3u8") for v in variants)
    token = variants[0].removeprefix("/hls/p/").removesuffix(".m3u8")
    upstream = signing.unsign_url(token, signing.PLAYLIST)
    assert upstream.startswith(parti.urls.variant + "/v1/playlist/")
    assert parti.urls.variant.split("//")[1] not in body.decode()


def test_a_proxied_child_playlist_lists_only_our_segment_urls(parti, proxied):
    channel = live_channel(parti)

    async def scenario():
        _, master = await get(live_playlist_path(channel.user_id))
        return await get(uri_lines(master.decode())[0])

    response, body = run(scenario())
    assert response.status_code == 200
    assert response["Content-Type"] == M3U8
    text = body.decode()
    assert "#EXT-X-TARGETDURATION:2" in text
    segments = uri_lines(text)
    assert segments and all(s.startswith("/hls/s/") for s in segments)
    prefetch = [line for line in text.splitlines() if line.startswith("#EXT-X-PREFETCH:")]
    assert prefetch and prefetch[0].startswith("#EXT-X-PREFETCH:/hls/s/")
    assert "127.0.0.1" not in text
    upstream = signing.unsign_url(segment_token(segments[0]), signing.SEGMENT)
    assert upstream.startswith(parti.urls.segment + "/v1/segment/")
    assert "?dna=" in upstream


def _first_segment(parti, channel) -> tuple[str, str]:
    """(our segment path, its upstream URL)."""

    async def scenario():
        _, master = await get(live_playlist_path(channel.user_id))
        _, child = await get(uri_lines(master.decode())[0])
        return uri_lines(child.decode())[0]

    path = run(scenario())
    return path, signing.unsign_url(segment_token(path), signing.SEGMENT)


def upstream_bytes(url: str, **headers) -> tuple[int, dict, bytes]:
    import requests

    answer = requests.get(url, headers=headers, timeout=5)
    return answer.status_code, answer.headers, answer.content


def test_a_proxied_segment_is_the_upstream_bytes(parti, proxied):
    path, upstream_url = _first_segment(parti, live_channel(parti))
    response, body = fetch_one(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp2t"
    _, _, expected = upstream_bytes(upstream_url)
    assert body == expected
    assert response["Content-Length"] == str(len(expected))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_head_on_a_segment_gives_its_headers_without_the_body(parti, proxied):
    path, upstream_url = _first_segment(parti, live_channel(parti))
    response = run(AsyncClient().head(path))
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Type"] == "video/mp2t"
    assert response["Content-Length"] == str(len(upstream_bytes(upstream_url)[2]))
    assert response["Accept-Ranges"] == "bytes"
    response, body = fetch_one(path)  # a GET after it still gets the bytes
    assert response.status_code == 200 and len(body) == int(response["Content-Length"])


def test_a_range_request_gets_206_with_content_range(parti, proxied):
    path, upstream_url = _first_segment(parti, live_channel(parti))
    response, body = fetch_one(path, Range="bytes=100-199")
    assert response.status_code == 206
    _, _, whole = upstream_bytes(upstream_url)
    assert body == whole[100:200]
    assert response["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert response["Content-Length"] == "100"


def test_a_range_past_the_end_is_416(parti, proxied):
    path, _ = _first_segment(parti, live_channel(parti))
    response, _ = fetch_one(path, Range="bytes=99999999-")
    assert response.status_code == 416


def test_an_invalid_range_is_ignored(parti, proxied):
    path, upstream_url = _first_segment(parti, live_channel(parti))
    response, body = fetch_one(path, Range="bytes=0-1,5-6")
    assert response.status_code == 200
    assert body == upstream_bytes(upstream_url)[2]


# --- token refresh and the end of a stream -----------------------------------------------------


def test_a_rejected_token_is_refreshed_once_and_retried(parti, direct):
    channel = live_channel(parti)
    path = live_playlist_path(channel.user_id)
    assert fetch_one(path)[0].status_code == 200
    # The cached channel info (15 s) still holds the first token; the simulated IVS now
    # thinks it expired.
    parti.world.clock_offset += parti.world.token_lifetime + 60
    response, body = fetch_one(path)
    assert response.status_code == 200
    assert uri_lines(body.decode())
    assert channel_info_calls(parti, channel.user_id) == 2
    assert counts(parti, "playback") == 3  # ok, refused, ok with the fresh token


def test_a_token_refused_twice_gives_up(parti, direct):
    channel = live_channel(parti)
    parti.world.token_lifetime = -60  # every token is born expired
    response, _ = fetch_one(live_playlist_path(channel.user_id))
    assert response.status_code == 502
    assert channel_info_calls(parti, channel.user_id) == 2
    assert counts(parti, "playback") == 2


def test_an_offline_channel_is_a_clear_404(parti, direct):
    channel = next(c for c in parti.world.channels.values() if not c.live)
    response, body = fetch_one(live_playlist_path(channel.user_id))
    assert response.status_code == 404
    assert response["X-Stream-Status"] == "offline"
    assert body == b"offline\n"
    assert counts(parti, "playback") == 0


def test_a_stream_that_ends_while_watched_is_a_404(parti, direct):
    channel = live_channel(parti)
    path = live_playlist_path(channel.user_id)
    assert fetch_one(path)[0].status_code == 200
    channel.live = False  # the cached channel info still says live; IVS answers 404
    response, body = fetch_one(path)
    assert response.status_code == 404
    assert response["X-Stream-Status"] == "offline"


def test_an_unknown_channel_is_a_404(parti, direct):
    response, _ = fetch_one(live_playlist_path(999_999_999))
    assert response.status_code == 404
    assert response["X-Stream-Status"] == "not-found"


def test_parti_api_down_is_a_502(parti, direct, settings):
    from tests.live_site import free_port_block

    settings.PARTI_API_URL = f"http://127.0.0.1:{free_port_block(1)}/parti_v2"  # nothing there
    response, _ = fetch_one(live_playlist_path(live_channel(parti).user_id))
    assert response.status_code == 502
    assert response["Cache-Control"] == "no-store"


# --- recordings --------------------------------------------------------------------------------


def test_a_recording_master_lists_absolute_vod_urls_in_direct_mode(parti, direct):
    event_id = recorded_event(parti)
    recording = parti.world.recording_of_event[event_id]
    response, body = fetch_one(recording_playlist_path(event_id))
    assert response.status_code == 200
    assert response["Content-Type"] == M3U8
    variants = uri_lines(body.decode())
    base = f"{parti.urls.vod}/{recording.prefix}media/hls/"
    assert variants and all(v.startswith(base) and v.endswith("/playlist.m3u8") for v in variants)


def test_a_recording_is_proxied_down_to_its_segments(parti, proxied):
    event_id = recorded_event(parti)
    recording = parti.world.recording_of_event[event_id]

    async def scenario():
        _, master = await get(recording_playlist_path(event_id))
        variant = uri_lines(master.decode())[0]
        child_response, child = await get(variant)
        segment = uri_lines(child.decode())[0]
        segment_response, body = await get(segment)
        return variant, child_response, child.decode(), segment, segment_response, body

    variant, child_response, child, segment, segment_response, body = run(scenario())
    base = f"{parti.urls.vod}/{recording.prefix}media/hls/"
    variant_url = signing.unsign_url(variant[7:-5], signing.PLAYLIST)
    assert variant_url.startswith(base)
    assert child_response.status_code == 200
    assert child_response["Cache-Control"] == "private, max-age=60"
    assert "#EXT-X-ENDLIST" in child
    assert segment.endswith(".ts")
    segment_url = signing.unsign_url(segment_token(segment), signing.SEGMENT)
    assert segment_url == variant_url.rsplit("/", 1)[0] + "/0.ts"  # resolved against the child
    assert segment_response.status_code == 200
    assert body == upstream_bytes(segment_url)[2]


def test_a_recording_without_a_real_path_is_a_404(parti, direct):
    event_id = recorded_event(parti)
    parti.world.recording_of_event[event_id] = SimpleNamespace(path="relative_vod_url.m3u8")
    response, _ = fetch_one(recording_playlist_path(event_id))
    assert response.status_code == 404  # the VOD host's S3-style 403 AccessDenied
    assert response["X-Stream-Status"] == "not-found"


def test_an_unknown_recording_is_a_404(parti, direct):
    response, _ = fetch_one(recording_playlist_path(1))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "base, path, expected",
    [
        ("https://watch.parti.com/", "ivs/v1/1/m.m3u8", "https://watch.parti.com/ivs/v1/1/m.m3u8"),
        ("https://watch.parti.com/", "/ivs/v1/1/m.m3u8", "https://watch.parti.com/ivs/v1/1/m.m3u8"),
        ("https://watch.parti.com", "ivs/m.m3u8", "https://watch.parti.com/ivs/m.m3u8"),
        ("https://media.parti.com/vod/", "/a/m.m3u8", "https://media.parti.com/vod/a/m.m3u8"),
        ("https://watch.parti.com/", "//evil.example/m.m3u8", "https://watch.parti.com/evil.example/m.m3u8"),
        ("https://watch.parti.com/", "https://media.parti.com/x/main.m3u8", "https://media.parti.com/x/main.m3u8"),
    ],
)  # fmt: skip
def test_recording_urls_join_the_vod_base(settings, base, path, expected):
    settings.PARTI_VOD_URL = base
    assert proxy.recording_url(path) == expected


def test_the_token_is_added_keeping_other_query_params():
    url = "https://x.playback.live-video.net/api/video/v1/c.m3u8?allow_source=true&token=old"
    assert proxy.with_token(url, "a.b.c") == (
        "https://x.playback.live-video.net/api/video/v1/c.m3u8"
        "?allow_source=true&token=a.b.c&player_version=1.17.0"
    )
    assert proxy.with_token("https://x/p.m3u8", None) == "https://x/p.m3u8?player_version=1.17.0"


# --- many viewers, few upstream requests -------------------------------------------------------


def test_many_viewers_of_a_live_channel_make_one_upstream_playlist_fetch_per_interval(
    parti, proxied
):
    channel = live_channel(parti)
    master_path = live_playlist_path(channel.user_id)

    async def scenario():
        client = AsyncClient()
        masters = await asyncio.gather(*[get(master_path, client) for _ in range(40)])
        assert {r.status_code for r, _ in masters} == {200}
        variant = uri_lines(masters[0][1].decode())[0]
        children = await asyncio.gather(*[get(variant, client) for _ in range(40)])
        assert {r.status_code for r, _ in children} == {200}
        first = counts(parti, "playback"), counts(parti, "variant")
        started = time.monotonic()
        while time.monotonic() - started < 2.4:  # viewers keep reloading
            await asyncio.gather(*[get(variant, client) for _ in range(5)])
            await asyncio.sleep(0.05)
        return first, counts(parti, "variant")

    (playback, variant), variant_later = run(scenario())
    assert playback == 1
    assert channel_info_calls(parti, channel.user_id) == 1
    assert variant == 1
    # Target duration 2 s: at most one fetch per second.
    assert 2 <= variant_later <= 4


def test_many_viewers_of_a_segment_share_one_upstream_fetch(parti, proxied):
    path, upstream_url = _first_segment(parti, live_channel(parti))
    before = counts(parti, "segment")

    async def scenario():
        client = AsyncClient()
        return await asyncio.gather(*[get(path, client) for _ in range(30)])

    results = run(scenario())
    expected = upstream_bytes(upstream_url)[2]
    assert {r.status_code for r, _ in results} == {200}
    assert all(body == expected for _, body in results)
    assert counts(parti, "segment") - before == 2  # ours, plus the test's own check


def test_a_viewer_leaving_does_not_break_the_shared_segment(parti, proxied):
    path, upstream_url = _first_segment(parti, live_channel(parti))

    async def scenario():
        client = AsyncClient()
        first = await client.get(path)
        iterator = aiter(first.streaming_content)
        await anext(iterator)
        await iterator.aclose()  # the first viewer goes away after one chunk
        return await get(path, client)

    response, body = run(scenario())
    assert response.status_code == 200
    assert body == upstream_bytes(upstream_url)[2]


# --- images ------------------------------------------------------------------------------------


def test_images_come_through_our_host_with_long_cache_headers(parti):
    channel = live_channel(parti)
    path = image_url(parti.world.asset_url(channel.user_id, "avatar", (64, 64)))
    assert path.startswith("/img/")
    response, body = fetch_one(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert body.startswith(b"\x89PNG")
    assert response["Cache-Control"] == "public, max-age=604800, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_head_on_an_image_gives_its_headers(parti):
    path = image_url(parti.world.asset_url(live_channel(parti).user_id, "avatar", (64, 64)))
    response = run(AsyncClient().head(path))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "public, max-age=604800, immutable"


def test_a_missing_image_is_a_404(parti):
    path = image_url(parti.urls.assets + "/no-such-image.png")
    response, _ = fetch_one(path)
    assert response.status_code == 404  # the asset host answers S3's 403 AccessDenied
    assert response["Cache-Control"] == "public, max-age=300"


# --- modes and paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, mode",
    [("direct", "direct"), ("proxied", "proxied"), (" Proxied ", "proxied"), ("bogus", "proxied")],
)
def test_the_segment_mode_comes_from_settings_and_fails_closed(settings, value, mode):
    settings.SEGMENT_MODE = value
    assert modes.segment_mode() == mode


def test_the_default_segment_mode_is_direct(settings):
    del settings.SEGMENT_MODE
    assert modes.segment_mode() == "direct"


def test_the_paths_we_emit_are_our_routes():
    assert live_playlist_path(353044) == "/hls/live/353044/master.m3u8"
    assert recording_playlist_path(80669) == "/hls/video/80669/master.m3u8"
    token = signing.sign_url("https://watch.parti.com/a.m3u8", signing.PLAYLIST, 60)
    assert proxy.PLAYLIST_PATH.format(token=token) == reverse("media:child_playlist", args=[token])
    assert proxy.SEGMENT_PATH.format(token=token, ext="ts") == reverse(
        "media:segment", args=[token, "ts"]
    )


@pytest.mark.parametrize(
    "url, kind, extension",
    [
        ("https://a.hls.live-video.net/v1/segment/Xy.ts?dna=1.mp4", "segment", "ts"),
        ("https://watch.parti.com/a/init.mp4", "segment", "mp4"),
        ("https://watch.parti.com/a/part.M4S", "segment", "m4s"),
        ("https://watch.parti.com/a/seg.php", "segment", "ts"),
        ("https://watch.parti.com/a/noext", "segment", "ts"),
        ("https://watch.parti.com/a/k.bin", "key", "key"),
    ],
)
def test_segment_urls_show_a_media_extension(url, kind, extension):
    assert proxy.segment_extension(url, kind) == extension
