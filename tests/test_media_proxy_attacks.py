"""Attacks on the media proxy, through the views: forged and misused tokens, URLs smuggled
in the query string, redirects to internal addresses, playlists pointing off the allow-list,
huge and malformed playlists, HTML dressed up as images or segments."""

from __future__ import annotations

import base64
import json

import pytest
from aiohttp import web

from parti_site.media import proxy, signing
from parti_site.media.modes import DIRECT, PROXIED
from parti_site.media.urls_for import live_playlist_path, recording_playlist_path
from tests.test_media_fetch import Upstream, redirect, reply, run
from tests.test_media_proxy import get, uri_lines

M3U8 = "application/vnd.apple.mpegurl"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
GIF = b"GIF89a" + b"\x00" * 32
HTML = b"<!doctype html><script>alert(document.cookie)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture(scope="module")
def upstream_server():
    server = Upstream()
    yield server
    server.stop()


@pytest.fixture
def upstream(upstream_server, settings):
    """A local server on an explicitly allowed entry, standing in for a media host."""
    upstream_server.reset()
    settings.PARTI_MEDIA_HOSTS = [upstream_server.base, ".live-video.net", "watch.parti.com"]
    return upstream_server


def fetch_one(path: str, **headers):
    return run(get(path, **headers))


def playlist_path(url: str) -> str:
    return proxy.PLAYLIST_PATH.format(token=signing.sign_url(url, signing.PLAYLIST, 600))


def segment_path(url: str) -> str:
    token = signing.sign_url(url, signing.SEGMENT, 600)
    return proxy.SEGMENT_PATH.format(token=token, ext="ts")


def image_path(url: str) -> str:
    return "/img/" + signing.sign_url(url, signing.IMAGE, 600)


# --- nothing from the query string, ever -------------------------------------------------------


@pytest.fixture
def parti_and_upstream(parti, upstream, settings):
    settings.PARTI_MEDIA_HOSTS = [*parti.media_hosts, upstream.base]
    upstream.routes["/x"] = reply("#EXTM3U\n", content_type=M3U8)
    return parti, upstream


@pytest.mark.parametrize("param", ["url", "u", "src", "host", "upstream", "playback_url"])
def test_no_view_takes_a_url_from_the_query_string(parti_and_upstream, param):
    parti, upstream = parti_and_upstream
    target = upstream.base + "/x"
    channel = next(c for c in parti.world.channels.values() if c.live)
    event_id = next(iter(parti.world.recording_of_event))
    paths = [
        live_playlist_path(channel.user_id),
        recording_playlist_path(event_id),
        "/hls/p/.m3u8",
        "/hls/s/",
        "/hls/s/.ts",
        "/img/",
        "/hls/live/x/master.m3u8",
    ]
    for path in paths:
        response, body = fetch_one(f"{path}?{param}={target}")
        assert target.encode() not in body
    assert upstream.total() == 0


@pytest.mark.parametrize(
    "path",
    [
        "/hls/s/http://127.0.0.1/x",
        "/hls/s/http:%2F%2F127.0.0.1%2Fx",
        "/hls/s/http://127.0.0.1/x.ts",
        "/hls/s/127.0.0.1:80.ts",
        "/img/https://assets.parti.com/a.png",
        "/hls/p/http://127.0.0.1/x.m3u8",
    ],
)
def test_a_raw_url_in_the_path_is_not_a_route(path):
    response, _ = fetch_one(path)
    assert response.status_code == 404


# --- tokens ------------------------------------------------------------------------------------


def _tampered(token: str) -> str:
    index = len(token) // 2
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


def _unsigned(url: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([url, "zzz"]).encode()).decode().rstrip("=")


def test_tampered_expired_unsigned_and_wrong_purpose_tokens_are_403(upstream, monkeypatch):
    upstream.routes["/a.m3u8"] = reply("#EXTM3U\n", content_type=M3U8)
    upstream.routes["/a.ts"] = reply(b"ts", content_type="video/mp2t")
    upstream.routes["/a.png"] = reply(PNG, content_type="image/png")
    cases = {
        "/hls/p/{}.m3u8": (upstream.base + "/a.m3u8", signing.PLAYLIST),
        "/hls/s/{}.ts": (upstream.base + "/a.ts", signing.SEGMENT),
        "/img/{}": (upstream.base + "/a.png", signing.IMAGE),
    }
    for route, (url, purpose) in cases.items():
        good = signing.sign_url(url, purpose, 600)
        assert fetch_one(route.format(good))[0].status_code == 200
        bad = [_tampered(good), good + "x", good.split("~")[0], _unsigned(url), "x", "~"]
        bad += [
            signing.sign_url(url, other, 600)
            for other in (signing.PLAYLIST, signing.SEGMENT, signing.IMAGE, signing.KEY)
            if other != purpose
        ]
        for token in bad:
            response, body = fetch_one(route.format(token))
            assert response.status_code == 403, (route, token)
            assert b"alert" not in body
    before = upstream.total()
    expired = {route: signing.sign_url(url, purpose, 60) for route, (url, purpose) in cases.items()}
    later = signing._now() + 3600
    monkeypatch.setattr(signing, "_now", lambda: later)
    for route, token in expired.items():
        assert fetch_one(route.format(token))[0].status_code == 403
    assert upstream.total() == before


def test_a_token_for_a_host_no_longer_listed_is_403(upstream, settings):
    upstream.routes["/a.ts"] = reply(b"ts", content_type="video/mp2t")
    path = segment_path(upstream.base + "/a.ts")
    settings.PARTI_MEDIA_HOSTS = [".live-video.net"]
    assert fetch_one(path)[0].status_code == 403
    assert upstream.total() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://169.254.169.254/",
        "http://[::1]/",
        "https://watch.parti.com@127.0.0.1/",
        "https://127.0.0.1#@watch.parti.com/",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "https://watch.parti.com.evil.example/",
    ],
)
def test_no_token_can_be_made_for_an_off_list_url(settings, url):
    settings.PARTI_MEDIA_HOSTS = ["watch.parti.com", ".live-video.net"]
    with pytest.raises(signing.ForbiddenURL):
        signing.sign_url(url, signing.SEGMENT, 600)


# --- redirects to internal addresses -----------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:{other}/", "http://[::1]/"],
)
def test_redirects_to_internal_addresses_are_refused_by_every_view(upstream, location):
    location = location.format(other=upstream.port + 1)
    upstream.routes["/r"] = redirect(location)
    for path in (
        playlist_path(upstream.base + "/r"),
        segment_path(upstream.base + "/r"),
        image_path(upstream.base + "/r"),
    ):
        response, _ = fetch_one(path)
        assert response.status_code == 403
    assert upstream.counts == {"/r": 3}


# --- playlists pointing off the list -----------------------------------------------------------


def _serve_playlist(upstream, text: str, name: str = "/p.m3u8") -> str:
    upstream.routes[name] = reply(text, content_type=M3U8)
    return playlist_path(upstream.base + name)


def test_off_list_variants_and_renditions_are_dropped(upstream):
    text = "\n".join(
        [
            "#EXTM3U",
            '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="evil",URI="https://evil.example/a.m3u8"',
            '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="http://169.254.169.254/i.m3u8"',
            '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="http://127.0.0.1:1/key"',
            "#EXT-X-STREAM-INF:BANDWIDTH=100,RESOLUTION=640x360",
            "https://evil.example/v.m3u8",
            "#EXT-X-STREAM-INF:BANDWIDTH=50,RESOLUTION=284x160",
            "160p/playlist.m3u8",
            "#EXT-X-STREAM-INF:BANDWIDTH=70",
            "file:///etc/passwd",
        ]
    )
    response, body = fetch_one(_serve_playlist(upstream, text))
    assert response.status_code == 200
    out = body.decode()
    for leak in ("evil", "169.254", "127.0.0.1", "file:", "passwd", "SESSION-KEY", "I-FRAME"):
        assert leak not in out
    assert out.count("#EXT-X-STREAM-INF") == 1
    (variant,) = uri_lines(out)
    url = signing.unsign_url(variant[len("/hls/p/") : -len(".m3u8")], signing.PLAYLIST)
    assert url == upstream.base + "/160p/playlist.m3u8"
    assert upstream.counts == {"/p.m3u8": 1}


MEDIA_HEAD = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n"


@pytest.mark.parametrize(
    "lines",
    [
        ["#EXTINF:2,", "https://evil.example/1.ts"],
        ["#EXTINF:2,", "http://169.254.169.254/1.ts"],
        ["#EXTINF:2,", "http://127.0.0.1:1/1.ts"],
        ["#EXTINF:2,", "data:video/mp2t;base64,AAAA"],
        ["#EXTINF:2,", "javascript:alert(1)"],
        ['#EXT-X-MAP:URI="https://evil.example/init.mp4"', "#EXTINF:2,", "1.ts"],
        ['#EXT-X-KEY:METHOD=AES-128,URI="http://127.0.0.1:1/k"', "#EXTINF:2,", "1.ts"],
    ],
)
def test_a_media_playlist_with_off_list_segments_is_refused(upstream, lines):
    text = MEDIA_HEAD + "#EXTINF:2,\n0.ts\n" + "\n".join(lines) + "\n"
    response, body = fetch_one(_serve_playlist(upstream, text))
    assert response.status_code == 502
    assert b"evil" not in body and b"127.0.0.1" not in body


def test_off_list_hints_are_dropped_and_the_segments_kept(upstream):
    text = MEDIA_HEAD + "\n".join(
        [
            "#EXTINF:2,",
            "0.ts",
            "#EXT-X-PREFETCH:https://evil.example/2.ts",
            '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="http://10.0.0.1/p.ts"',
            '#EXT-X-RENDITION-REPORT:URI="https://evil.example/r.m3u8",LAST-MSN=1',
        ]
    )
    response, body = fetch_one(_serve_playlist(upstream, text))
    assert response.status_code == 200
    out = body.decode()
    assert "evil" not in out and "10.0.0.1" not in out
    assert len(uri_lines(out)) == 1


def test_a_playlist_with_every_variant_off_list_is_refused(upstream):
    text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttps://evil.example/v.m3u8\n"
    assert fetch_one(_serve_playlist(upstream, text))[0].status_code == 502


@pytest.mark.parametrize("mode", [DIRECT, PROXIED])
def test_direct_mode_never_hands_the_browser_an_off_list_url(settings, mode):
    settings.PARTI_MEDIA_HOSTS = [".live-video.net"]
    master = "\n".join(
        [
            "#EXTM3U",
            "#EXT-X-STREAM-INF:BANDWIDTH=1",
            "https://video-weaver.ams03.hls.live-video.net/v1/playlist/a.m3u8",
            "#EXT-X-STREAM-INF:BANDWIDTH=2",
            "https://tracker.example/v1/playlist/b.m3u8",
            "#EXT-X-STREAM-INF:BANDWIDTH=3",
            "https://evil.live-video.net.example/c.m3u8",
        ]
    )
    playlist = proxy.Playlist(master, "https://x.playback.live-video.net/c.m3u8", live=True)
    out = proxy.rewrite(playlist, mode)
    assert "tracker" not in out and ".example" not in out
    assert out.count("#EXT-X-STREAM-INF") == 1
    if mode == DIRECT:
        assert uri_lines(out) == [
            "https://video-weaver.ams03.hls.live-video.net/v1/playlist/a.m3u8"
        ]
    media = MEDIA_HEAD + "#EXTINF:2,\nhttps://tracker.example/0.ts\n"
    with pytest.raises(proxy.FetchError):
        proxy.rewrite(proxy.Playlist(media, "https://a.hls.live-video.net/p.m3u8", True), mode)


# --- huge and malformed playlists --------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        HTML,
        b"",
        b'{"error": "nope"}',
        b"#EXTM3\n",
        b"\x00\x01\x02",
        b"#EXTM3U\n" + b"#EXTINF:1,\na.ts\n" * 300_000,  # 4.8 MB, over the cap
        b"#EXTM3U\n" + b"#\n" * 250_000,  # under the byte cap, over the line cap
    ],
)
def test_huge_or_malformed_playlists_are_refused(upstream, body):
    upstream.routes["/p.m3u8"] = reply(body, content_type="text/html")
    response, out = fetch_one(playlist_path(upstream.base + "/p.m3u8"))
    assert response.status_code == 502
    assert b"alert" not in out


# --- HTML dressed up as images or segments -----------------------------------------------------


@pytest.mark.parametrize(
    "body, content_type",
    [
        (HTML, "image/png"),
        (HTML, "text/html"),
        (SVG, "image/svg+xml"),
        (SVG, "image/png"),
        (PNG, "image/svg+xml"),
        (PNG, "text/html"),
        (b"", "image/png"),
        (b"\x89PNG" + b"\x00" * 4, "image/jpeg"),  # a truncated signature
    ],
)
def test_an_image_must_be_an_image(upstream, body, content_type):
    upstream.routes["/i"] = reply(body, content_type=content_type)
    response, out = fetch_one(image_path(upstream.base + "/i"))
    assert response.status_code == 502
    assert b"<" not in out


def test_an_image_is_served_as_what_its_bytes_are(upstream):
    upstream.routes["/i"] = reply(GIF, content_type="image/png")
    response, out = fetch_one(image_path(upstream.base + "/i"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert out == GIF


def test_an_oversized_image_is_refused(upstream):
    upstream.routes["/i"] = reply(PNG + b"\x00" * (6 * 1024 * 1024), content_type="image/png")
    assert fetch_one(image_path(upstream.base + "/i"))[0].status_code == 502


@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml", "application/javascript"])
def test_a_segment_must_not_be_a_page(upstream, content_type):
    upstream.routes["/s.ts"] = reply(HTML, content_type=content_type)
    for headers in ({}, {"Range": "bytes=0-10"}):
        response, out = fetch_one(segment_path(upstream.base + "/s.ts"), **headers)
        assert response.status_code == 502
        assert b"alert" not in out


def test_a_segment_without_a_type_is_served_as_opaque_bytes(upstream):
    async def untyped(request):
        response = web.Response(body=b"\x47" * 188)
        response.headers.popall("Content-Type", None)
        return response

    upstream.routes["/s.ts"] = untyped
    response, out = fetch_one(segment_path(upstream.base + "/s.ts"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert out == b"\x47" * 188


def test_visitor_headers_never_reach_upstream(upstream):
    upstream.routes["/s.ts"] = reply(b"\x47" * 188, content_type="video/mp2t")
    fetch_one(
        segment_path(upstream.base + "/s.ts"),
        Cookie="sessionid=secret",
        Authorization="Bearer secret",
        Referer="https://our.site/watch/1",
        X_Forwarded_For="203.0.113.9",
        User_Agent="Visitor Browser",
    )
    (sent,) = upstream.headers
    assert {name.lower() for name in sent} <= {"host", "accept", "accept-encoding", "user-agent"}
    assert "secret" not in json.dumps(sent) and "Visitor" not in json.dumps(sent)
