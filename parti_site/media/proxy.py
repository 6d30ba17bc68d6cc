"""What the media views serve: upstream playlists found from parti's data (never from the
request), coalesced and briefly cached, rewritten for the segment mode; shared segment
streams; checked images. The views only parse arguments and build responses.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from asgiref.sync import sync_to_async
from django.conf import settings

from parti_site.upstream import api
from parti_site.upstream.errors import Kind as UpstreamKind
from parti_site.upstream.errors import UpstreamError

from . import content, fetch, playlists, signing
from .allowlist import ForbiddenURL, check_url
from .coalesce import SegmentTee, SharedBody, SingleFlight, loop_local
from .fetch import FetchError, Kind
from .modes import DIRECT, PROXIED

log = logging.getLogger(__name__)

PLAYER_VERSION = "1.17.0"  # what the IVS web player sends (facts.md §3.1)
PLAYLIST_PATH = "/hls/p/{token}.m3u8"
# The extension is cosmetic (the token alone decides what is fetched), but ffmpeg-based
# players (mpv, ffplay) refuse segment URLs without a media extension.
SEGMENT_PATH = "/hls/s/{token}.{ext}"
SEGMENT_EXTENSIONS = frozenset(
    "ts m4s mp4 m4a m4v aac ac3 ec3 mp3 vtt webvtt cmfv cmfa fmp4 mpegts".split()
)

# Token lifetimes. A player keeps a child playlist URL for the whole session and reloads it
# every few seconds, so playlist tokens last hours even for live; live segment URLs are used
# within seconds of being listed.
PLAYLIST_TOKEN_SECONDS = 12 * 3600
LIVE_SEGMENT_TOKEN_SECONDS = 10 * 60
VOD_SEGMENT_TOKEN_SECONDS = 12 * 3600

# How long upstream playlists are shared between viewers.
LIVE_MASTER_SECONDS = 4.0
VOD_PLAYLIST_SECONDS = 60.0
DEFAULT_TARGET_DURATION = 2.0  # IVS low latency: 2 s segments
MAX_LIVE_PLAYLIST_SECONDS = 5.0
ERROR_SECONDS = 1.0

PLAYLIST_CACHE_BYTES = 64 * 1024 * 1024
SEGMENT_TEE_BYTES = 128 * 1024 * 1024
SEGMENT_KEEP_SECONDS = 10.0

_TARGET_DURATION = re.compile(r"^#EXT-X-TARGETDURATION:\s*(\d+(?:\.\d+)?)", re.MULTILINE)
_ENDED = re.compile(r"^#EXT-X-(ENDLIST|PLAYLIST-TYPE:\s*VOD)\b", re.MULTILINE)
# Marks a URI the rewriter refused; cannot occur in a URL that passed the allow-list.
_OFF_LIST = "\x00off-list\x00"
# Tags without which the following segments cannot be decoded: an off-list one refuses the
# playlist. Other tags with an off-list URI (renditions, hints, reports) are dropped.
_ESSENTIAL_TAGS = {"EXT-X-MAP", "EXT-X-KEY"}


class Unavailable(Exception):
    """Nothing to play: `reason` is "offline" (the channel is not live) or "not-found"."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


@dataclass(frozen=True)
class Playlist:
    text: str
    url: str  # the upstream URL it came from (after redirects): relative URIs resolve here
    live: bool  # still growing (live), or a finished recording

    @property
    def size(self) -> int:
        return len(self.text)


_playlists = loop_local(
    lambda: SingleFlight(
        max_bytes=PLAYLIST_CACHE_BYTES,
        error_ttl=ERROR_SECONDS,
        cache_errors=(FetchError, Unavailable, UpstreamError),
    )
)
_segments = loop_local(
    lambda: SegmentTee(max_bytes=SEGMENT_TEE_BYTES, keep_seconds=SEGMENT_KEEP_SECONDS)
)


# --- playlists ---------------------------------------------------------------------------------


async def _fetch_playlist(url: str, *, live: bool | None = None) -> Playlist:
    body = await fetch.fetch_bytes(
        url,
        max_bytes=playlists.MAX_PLAYLIST_BYTES,
        accept="application/vnd.apple.mpegurl, application/x-mpegurl, */*;q=0.1",
    )
    text = body.content.decode("utf-8", errors="replace")
    try:
        playlists.check_playlist(text)
    except playlists.PlaylistError as exc:
        raise FetchError(Kind.BAD_CONTENT, str(exc), url=body.url) from exc
    if live is None:
        live = not _ENDED.search(text)
    return Playlist(text, body.url, live)


def with_token(playback_url: str, token: str | None) -> str:
    """`playback_url?token=…&player_version=1.17.0`, keeping the URL's other query params."""
    parts = urlsplit(playback_url)
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name not in ("token", "player_version")
    ]
    if token:
        query.append(("token", token))
    query.append(("player_version", PLAYER_VERSION))
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


async def _channel(user_id: int, fresh: bool = False):
    fetched = await sync_to_async(api.channel, thread_sensitive=False)(user_id, fresh=fresh)
    info = fetched.data
    if not info.is_live or not info.playback_url:
        raise Unavailable("offline", f"channel {user_id} is not live")
    return info


async def _live_master_uncached(user_id: int) -> Playlist:
    info = await _channel(user_id)
    try:
        return await _fetch_playlist(with_token(info.playback_url, info.playback_token), live=True)
    except FetchError as error:
        if error.kind != Kind.HTTP_STATUS or error.status not in (401, 403):
            raise
        log.info("playback token for channel %s refused (%s); refreshing once", user_id, error)
    info = await _channel(user_id, fresh=True)
    return await _fetch_playlist(with_token(info.playback_url, info.playback_token), live=True)


async def live_master(user_id: int) -> Playlist:
    """The channel's upstream multivariant playlist, fetched at most once per few seconds.

    Raises Unavailable (offline, unknown channel), UpstreamError (parti's API failed) or
    FetchError (the video host failed).
    """

    async def load() -> Playlist:
        try:
            return await _live_master_uncached(user_id)
        except FetchError as error:
            if error.http_status == 404:  # IVS answers 404 for a channel that is not live
                raise Unavailable("offline", str(error)) from error
            raise
        except UpstreamError as error:
            if error.is_not_found:
                raise Unavailable("not-found", str(error)) from error
            raise

    return await _playlists.get().get(
        ("live", user_id), load, ttl=lambda _: LIVE_MASTER_SECONDS, size=_size
    )


def recording_url(recording_path: str) -> str:
    """The upstream URL of a recording: `PARTI_VOD_URL` joined with the path (facts.md §3.2).

    Absolute paths are kept; relative ones are joined below the base whether or not they
    start with a slash (so a base with a path keeps it).
    """
    if urlsplit(recording_path).scheme:
        return recording_path
    base = settings.PARTI_VOD_URL
    if not base.endswith("/"):
        base += "/"
    return urljoin(base, recording_path.lstrip("/"))


async def recording_master(event_id: int) -> Playlist:
    """A recording's upstream multivariant playlist (cached a minute)."""

    async def load() -> Playlist:
        try:
            fetched = await sync_to_async(api.recording, thread_sensitive=False)(event_id)
        except UpstreamError as error:
            if error.is_not_found:
                raise Unavailable("not-found", str(error)) from error
            raise
        path = fetched.data.recording_path
        if not path:
            raise Unavailable("not-found", f"event {event_id} has no recording")
        try:
            return await _fetch_playlist(recording_url(path), live=False)
        except FetchError as error:
            # S3 behind CloudFront answers 403 AccessDenied for a key that does not exist.
            if error.kind == Kind.HTTP_STATUS and error.status in (401, 403, 404, 410):
                raise Unavailable("not-found", str(error)) from error
            raise

    return await _playlists.get().get(
        ("recording", event_id), load, ttl=lambda _: VOD_PLAYLIST_SECONDS, size=_size
    )


async def child_playlist(url: str) -> Playlist:
    """A media (or nested) playlist by upstream URL, shared for half a target duration."""
    return await _playlists.get().get(
        ("child", url), lambda: _fetch_playlist(url), ttl=playlist_ttl, size=_size
    )


def playlist_ttl(playlist: Playlist) -> float:
    """Half the target duration for a live media playlist; longer once it cannot change."""
    if not playlist.live:
        return VOD_PLAYLIST_SECONDS
    match = _TARGET_DURATION.search(playlist.text)
    if match is None:
        if "#EXT-X-STREAM-INF" in playlist.text:
            return LIVE_MASTER_SECONDS  # a multivariant playlist
        target = DEFAULT_TARGET_DURATION
    else:
        target = float(match.group(1)) or DEFAULT_TARGET_DURATION
    return min(max(target / 2, 0.5), MAX_LIVE_PLAYLIST_SECONDS)


def _size(playlist: Playlist) -> int:
    return playlist.size


# --- rewriting ---------------------------------------------------------------------------------


def rewrite(playlist: Playlist, mode: str, max_height: int | None = None) -> str:
    """The playlist as our player gets it.

    `max_height` (PROXIED only): variants taller than that are removed first, so the
    instance never relays more than the operator allows (media/modes.py).

    DIRECT: every URI absolute on its upstream host. PROXIED: child playlists become
    `/hls/p/<token>.m3u8`, segments, maps and keys `/hls/s/<token>`. In both modes a URI off
    the allow-list is never passed on (it would be a request to a host we do not trust, from
    the viewer or from us): optional lines carrying one are dropped, and a playlist whose
    segments point off the list is refused (FetchError, 502).
    """
    segment_seconds = LIVE_SEGMENT_TOKEN_SECONDS if playlist.live else VOD_SEGMENT_TOKEN_SECONDS
    refused: list[str] = []

    def rewrite_uri(uri: str, kind: playlists.UriKind) -> str:
        try:
            url = check_url(uri)
        except ForbiddenURL as exc:
            refused.append(f"{uri[:200]!r} ({exc.reason})")
            return _OFF_LIST
        if mode == DIRECT:
            return url
        if kind == "playlist":
            token = signing.sign_url(url, signing.PLAYLIST, PLAYLIST_TOKEN_SECONDS)
            return PLAYLIST_PATH.format(token=token)
        token = signing.sign_url(url, signing.SEGMENT, segment_seconds)
        return SEGMENT_PATH.format(token=token, ext=segment_extension(url, kind))

    assert mode in (DIRECT, PROXIED)
    try:
        text = playlist.text
        if mode == PROXIED and max_height is not None:
            text = playlists.filter_variants(text, max_height)
        text = playlists.rewrite_playlist(text, playlist.url, rewrite_uri)
    except playlists.PlaylistError as exc:
        raise FetchError(Kind.BAD_CONTENT, str(exc), url=playlist.url) from exc
    if not refused:
        return text
    log.warning("playlist %s lists URIs off the allow-list: %s", playlist.url, "; ".join(refused))
    return _drop_off_list(text, playlist.url)


def segment_extension(url: str, kind: str = "segment") -> str:
    """The extension our segment URL shows: the upstream one if it is a media extension."""
    if kind == "key":
        return "key"
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return extension if extension in SEGMENT_EXTENSIONS else "ts"


def _is_uri_line(line: str) -> bool:
    return bool(line.strip()) and not line.startswith("#")


def _owning_stream_inf(lines: list[str]) -> int | None:
    """Index of the EXT-X-STREAM-INF the next URI line belongs to, if it is a variant."""
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith("#EXT-X-STREAM-INF"):
            return index
        if _is_uri_line(lines[index]):
            return None
    return None


def _drop_off_list(text: str, url: str) -> str:
    out: list[str] = []
    had_uris = False
    for line in text.split("\n"):
        if _OFF_LIST not in line:
            out.append(line)
            continue
        if line.startswith("#"):
            if line[1:].partition(":")[0] in _ESSENTIAL_TAGS:
                raise FetchError(Kind.BAD_CONTENT, "key or map off the allow-list", url=url)
            continue  # an optional tag: drop it
        had_uris = True
        # A variant goes with its EXT-X-STREAM-INF; a segment cannot go without breaking
        # the media sequence numbering, so the playlist is refused.
        stream_inf = _owning_stream_inf(out)
        if stream_inf is None:
            raise FetchError(Kind.BAD_CONTENT, "segments off the allow-list", url=url)
        del out[stream_inf]
    if had_uris and not any(_is_uri_line(line) for line in out):
        raise FetchError(Kind.BAD_CONTENT, "every variant is off the allow-list", url=url)
    return "\n".join(out)


# --- segments ----------------------------------------------------------------------------------


@dataclass
class Segment:
    """What the segment view streams: status, headers to pass on and the body chunks."""

    status: int
    headers: dict[str, str]
    chunks: AsyncIterator[bytes]
    stream: fetch.Stream | None = None  # an upstream response to release if never read


def _segment_headers(stream: fetch.Stream) -> dict[str, str]:
    content_type = content.segment_type(stream.headers.get("Content-Type"))
    if content_type is None:
        stream.close()
        raise FetchError(
            Kind.BAD_CONTENT,
            f"segment content type {stream.headers.get('Content-Type')!r} refused",
            url=stream.url,
        )
    headers = {"Content-Type": content_type, "Accept-Ranges": "bytes"}
    encoded = stream.headers.get("Content-Encoding", "identity").lower() != "identity"
    if "Content-Length" in stream.headers and not encoded:
        headers["Content-Length"] = stream.headers["Content-Length"]
    if stream.status == 206 and "Content-Range" in stream.headers:
        headers["Content-Range"] = stream.headers["Content-Range"]
    return headers


async def open_segment(url: str, range_header: str | None = None) -> Segment:
    """Start serving a segment. Whole-segment requests for the same URL share one upstream
    read (the tee); Range requests, and requests when the tee is full, stream on their own."""
    range_header = content.range_header(range_header)
    if range_header is None:

        async def start(body: SharedBody) -> None:
            stream = await fetch.open_stream(url)
            body.ready.set_result((stream.status, _segment_headers(stream)))
            async for chunk in stream.chunks():
                body.append(chunk)

        shared = _segments.get().open(url, start)
        if shared is not None:
            status, headers = await _shielded(shared)
            return Segment(status, headers, shared.read())
    stream = await fetch.open_stream(url, range_header=range_header)
    headers = _segment_headers(stream)
    return Segment(stream.status, headers, stream.chunks(), stream)


async def _shielded(shared: SharedBody):
    # A viewer who goes away must not cancel the read the others share.
    return await asyncio.shield(shared.ready)


# --- images ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    data: bytes
    content_type: str


async def image(url: str) -> Image:
    """An upstream image, refused unless both its declared type and its bytes are an image
    type we serve (PNG, JPEG, WebP, GIF, AVIF; never SVG or HTML)."""
    body = await fetch.fetch_bytes(
        url, max_bytes=fetch.MAX_IMAGE_BYTES, accept=content.IMAGE_ACCEPT
    )
    kind = content.image_type(body.headers.get("Content-Type"), body.content)
    if kind is None:
        raise FetchError(
            Kind.BAD_CONTENT,
            f"not an image we serve (declared {body.headers.get('Content-Type')!r})",
            url=body.url,
        )
    return Image(body.content, kind)


def upstream_error_status(error: UpstreamError) -> int:
    return 504 if error.kind == UpstreamKind.TIMEOUT else 502
