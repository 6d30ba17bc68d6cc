"""The video hosts (facts §3, §4): IVS live playback (multivariant), IVS variant host (live media
playlists), IVS segment host, and the VOD host watch.parti.com (IVS auto-record layout).

Live: the multivariant needs `?token=` (world.make_token) and answers with
`Access-Control-Allow-Origin: https://parti.com` only, as IVS does with the token's origin
claim; variant and segment hosts are not origin-locked (`*`). Variant and segment paths are
opaque and signed; a segment's `?dna=` must come back verbatim. The media playlist slides with
the clock: segment n of a channel covers [started_at + 2n, started_at + 2n + 2).
"""

from __future__ import annotations

import json

from aiohttp import web

from . import video
from .common import bytes_response, new_app, text_response, world
from .world import ACCOUNT, REGION, Channel, World, b64, iso, unb64

M3U8 = "application/vnd.apple.mpegurl"
TS = "video/mp2t"
ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}
PARTI_ORIGIN = {"Access-Control-Allow-Origin": "https://parti.com"}
WINDOW = 10  # segments in the live window (IVS: ~14 of 2 s; facts §4.2)
# A recording: 3 segments of one 8 s loop each (IVS: ~10 s), 24 s in all, enough to seek.
# Real recordings last hours.
VOD_SEGMENTS = 3


async def preflight(request: web.Request) -> web.Response:
    """CORS preflight for the open hosts (a Range header may trigger one)."""
    return web.Response(
        status=204,
        headers={
            **ANY_ORIGIN,
            "Access-Control-Allow-Methods": "GET, HEAD",
            "Access-Control-Allow-Headers": "range",
            "Access-Control-Max-Age": "86400",
        },
    )


def live_channel(w: World, channel_id: str) -> Channel:
    channel = w.channel_by_id(channel_id)
    if channel is None or not channel.live:
        raise web.HTTPNotFound()
    return channel


def live_edge(w: World, channel: Channel) -> int:
    """Number of the newest complete segment (-1 if none yet)."""
    return int((w.now() - channel.started_at) // video.SEGMENT_SECONDS) - 1


# --- N+2: playback host (multivariant) ---------------------------------------------------------


async def multivariant(request: web.Request) -> web.Response:
    w = world(request)
    channel_id = request.match_info["channel_id"]
    channel = w.channel_by_id(channel_id)
    if channel is None:
        raise web.HTTPNotFound()
    if not w.check_token(request.query.get("token", ""), channel_id):
        raise web.HTTPForbidden()  # IVS: missing, bad or expired playback token
    channel = live_channel(w, channel_id)
    lines = ["#EXTM3U", '#EXT-X-SESSION-DATA:DATA-ID="NODE",VALUE="video-edge-sim.ams03"']
    for rendition in video.renditions().values():
        payload = b64(json.dumps([channel.channel_id, rendition.name]).encode())
        uri = f"{w.urls.variant}/v1/playlist/{payload}.{w.sign('pl:' + payload)}.m3u8"
        group = rendition.name
        lines += [
            f'#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="{group}",NAME="{rendition.height}p",'
            "AUTOSELECT=YES,DEFAULT=YES",
            f"#EXT-X-STREAM-INF:BANDWIDTH={rendition.bandwidth},"
            f'RESOLUTION={rendition.width}x{rendition.height},CODECS="{rendition.codecs}",'
            f'VIDEO="{group}",FRAME-RATE=30.000',
            uri,
        ]
    return text_response("\n".join(lines) + "\n", M3U8, PARTI_ORIGIN)


# --- N+3: variant host (live media playlists) --------------------------------------------------


def segment_uri(w: World, channel: Channel, rendition: str, number: int) -> str:
    opaque = b64(json.dumps([channel.channel_id, rendition, number]).encode())
    return f"{w.urls.segment}/v1/segment/{opaque}.ts?dna={w.sign('dna:' + opaque, 32)}"


async def media_playlist(request: web.Request) -> web.Response:
    w = world(request)
    payload, signature = request.match_info["payload"], request.match_info["signature"]
    if w.sign("pl:" + payload) != signature:
        raise web.HTTPForbidden()
    channel_id, rendition = json.loads(unb64(payload))
    channel = live_channel(w, channel_id)
    last = live_edge(w, channel)
    first = max(0, last - WINDOW + 1)
    seconds = video.SEGMENT_SECONDS
    # The newer IVS tag dialect of facts §4.2.
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{seconds}",
        f"#EXT-X-MEDIA-SEQUENCE:{first}",
        f"#EXT-X-NET-LIVE-VIDEO-LIVE-SEQUENCE:{first}",
        f"#EXT-X-NET-LIVE-VIDEO-ELAPSED-SECS:{first * seconds:.3f}",
        f'#EXT-X-DATERANGE:ID="playlist-creation-1",CLASS="timestamp",'
        f'START-DATE="{iso(w.now(), millis=True)}",END-ON-NEXT=YES',
        f'#EXT-X-DATERANGE:ID="source-1",CLASS="live-video-net-stream-source",'
        f'START-DATE="{iso(channel.started_at + first * seconds, millis=True)}",'
        'END-ON-NEXT=YES,X-NET-LIVE-VIDEO-STREAM-SOURCE="live"',
    ]
    for number in range(first, last + 1):
        lines += [
            f"#EXT-X-PROGRAM-DATE-TIME:{iso(channel.started_at + number * seconds, True)}",
            f"#EXTINF:{seconds:.3f},live",
            segment_uri(w, channel, rendition, number),
        ]
    lines.append("#EXT-X-PREFETCH:" + segment_uri(w, channel, rendition, last + 1))
    return text_response("\n".join(lines) + "\n", M3U8, ANY_ORIGIN)


# --- N+4: segment host ------------------------------------------------------------------------


async def live_segment(request: web.Request) -> web.Response:
    w = world(request)
    opaque = request.match_info["opaque"]
    if request.query.get("dna") != w.sign("dna:" + opaque, 32):
        raise web.HTTPForbidden()
    channel_id, rendition, number = json.loads(unb64(opaque))
    channel = live_channel(w, channel_id)
    if not 0 <= number <= live_edge(w, channel) + 1:  # the prefetch segment is servable
        raise web.HTTPNotFound()
    return bytes_response(request, video.segment(rendition, number), TS, ANY_ORIGIN)


# --- N+5: VOD host ----------------------------------------------------------------------------


def vod_master(w: World, channel_id: str, playlist: str) -> str:
    lines = [
        "#EXTM3U",
        f'#EXT-X-SESSION-DATA:DATA-ID="net.live-video.content.id",VALUE="{channel_id}"',
        f'#EXT-X-SESSION-DATA:DATA-ID="net.live-video.customer.id",VALUE="{ACCOUNT}"',
    ]
    for r in video.renditions().values():
        lines += [
            f'#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="{r.name}",NAME="{r.height}p",'
            "AUTOSELECT=YES,DEFAULT=YES",
            f"#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH={r.bandwidth},"
            f'CODECS="{r.codecs}",RESOLUTION={r.width}x{r.height},VIDEO="{r.name}"',
            f"{r.name}/{playlist}",
        ]
    return "\n".join(lines)  # no newline after the last URI, as in the AWS sample (§4.3)


def vod_segment(rendition: str, number: int) -> bytes:
    """VOD segment `number`: one whole loop of the source segments, timestamps continuing."""
    count = len(video.renditions()[rendition].segments)
    return b"".join(video.segment(rendition, number * count + i) for i in range(count))


def vod_rendition(started_at: int, rendition: str) -> str:
    seconds = video.renditions()[rendition].loop_seconds
    total = seconds * VOD_SEGMENTS
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{seconds}",
        f"#ID3-EQUIV-TDTG:{iso(started_at + total).removesuffix('Z')}",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-TWITCH-ELAPSED-SECS:0.000",
        f"#EXT-X-TWITCH-TOTAL-SECS:{total:.3f}",
    ]
    for number in range(VOD_SEGMENTS):
        lines += [
            f"#EXT-X-PROGRAM-DATE-TIME:{iso(started_at + number * seconds, millis=True)}",
            f"#EXTINF:{seconds:.3f},",
            f"{number}.ts",
        ]
    return "\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n"


def vod_byte_range(rendition: str) -> str:
    source = video.renditions()[rendition]
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:4",
        f"#EXT-X-TARGETDURATION:{video.SEGMENT_SECONDS}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-MEDIA-SEQUENCE:0",
    ]
    for number in range(VOD_SEGMENTS):
        offset = 0
        for part in source.segments:  # shifting timestamps keeps sizes, so these line up
            lines += [
                f"#EXTINF:{video.SEGMENT_SECONDS:.3f},",
                f"#EXT-X-BYTERANGE:{len(part)}@{offset}",
                f"{number}.ts",
            ]
            offset += len(part)
    return "\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n"


def missing(headers: dict | None = None) -> web.Response:
    """INFERRED: watch.parti.com and assets.parti.com look like S3 behind CloudFront, which
    answers 403 AccessDenied (not 404) for a key that does not exist."""
    body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
    return web.Response(
        body=body, status=403, headers={"Content-Type": "application/xml", **(headers or {})}
    )


async def vod(request: web.Request) -> web.Response:
    w = world(request)
    prefix, _, rest = request.match_info["path"].partition("media/hls/")
    recording = w.recordings.get(prefix)
    if recording is None or not rest:
        return missing(ANY_ORIGIN)
    renditions = video.renditions()
    if rest == "master.m3u8":
        return text_response(vod_master(w, recording.channel_id, "playlist.m3u8"), M3U8, ANY_ORIGIN)
    if rest == "byte-range-multivariant.m3u8":
        body = vod_master(w, recording.channel_id, "byte-range-variant.m3u8")
        return text_response(body, M3U8, ANY_ORIGIN)
    rendition, _, name = rest.partition("/")
    if rendition not in renditions:
        return missing(ANY_ORIGIN)
    if name == "playlist.m3u8":
        return text_response(vod_rendition(recording.started_at, rendition), M3U8, ANY_ORIGIN)
    if name == "byte-range-variant.m3u8":
        return text_response(vod_byte_range(rendition), M3U8, ANY_ORIGIN)
    stem = name.removesuffix(".ts")
    if name.endswith(".ts") and stem.isdigit() and int(stem) < VOD_SEGMENTS:
        return bytes_response(request, vod_segment(rendition, int(stem)), TS, ANY_ORIGIN)
    return missing(ANY_ORIGIN)


# --- apps --------------------------------------------------------------------------------------


def make_playback_app(sim) -> web.Application:
    app = new_app(sim, "playback")
    path = f"/api/video/v1/{REGION}.{ACCOUNT}.channel.{{channel_id:[A-Za-z0-9]+}}.m3u8"
    app.router.add_get(path, multivariant)
    return app


def make_variant_app(sim) -> web.Application:
    app = new_app(sim, "variant")
    path = "/v1/playlist/{payload:[A-Za-z0-9_-]+}.{signature:[A-Za-z0-9_-]+}.m3u8"
    app.router.add_get(path, media_playlist)
    app.router.add_route("OPTIONS", path, preflight)
    return app


def make_segment_app(sim) -> web.Application:
    app = new_app(sim, "segment")
    path = "/v1/segment/{opaque:[A-Za-z0-9_-]+}.ts"
    app.router.add_get(path, live_segment)
    app.router.add_route("OPTIONS", path, preflight)
    return app


def make_vod_app(sim) -> web.Application:
    app = new_app(sim, "vod")
    app.router.add_get("/{path:.*}", vod)
    app.router.add_route("OPTIONS", "/{path:.*}", preflight)
    return app
