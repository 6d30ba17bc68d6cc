"""The media proxy: playlists, segments and images through our host.

No view takes a URL or host from the request: live and recording playlists are found from
parti's data by id, everything else from a signed token (media/signing.py).
"""

from __future__ import annotations

import logging

from django.http import HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_safe

from parti_site.upstream.errors import UpstreamError

from . import proxy, signing
from .fetch import FetchError, Kind
from .images import image_proxy_on
from .modes import max_height, segment_mode

log = logging.getLogger(__name__)

M3U8 = "application/vnd.apple.mpegurl"
# The header (and body) the player page reads to show "stream ended" instead of retrying.
STREAM_STATUS_HEADER = "X-Stream-Status"
IMAGE_CACHE = "public, max-age=604800, immutable"
IMAGE_ERROR_CACHE = "public, max-age=300"


def _plain(status: int, text: str, cache: str = "no-store", **headers: str) -> HttpResponse:
    response = HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = cache
    for name, value in headers.items():
        response[name] = value
    return response


def _unavailable(error: proxy.Unavailable) -> HttpResponse:
    return _plain(404, error.reason, **{STREAM_STATUS_HEADER: error.reason})


def _failed(error: FetchError | UpstreamError) -> HttpResponse:
    if isinstance(error, UpstreamError):
        log.info("parti API failed for media: %s", error)
        return _plain(proxy.upstream_error_status(error), "upstream failed")
    if error.kind == Kind.FORBIDDEN:
        log.warning("refused media fetch of %s: %s", error.url, error.message)
        return _plain(403, "forbidden")
    log.info("media fetch of %s failed: %s", error.url, error)
    if error.http_status == 404:
        return _plain(404, "not-found", **{STREAM_STATUS_HEADER: "not-found"})
    return _plain(error.http_status, "upstream failed" if error.http_status != 504 else "timeout")


def _playlist(text: str, live: bool) -> HttpResponse:
    response = HttpResponse(text, content_type=M3U8)
    # Live playlists change every segment; a finished recording may be cached a little.
    response["Cache-Control"] = "no-cache" if live else "private, max-age=60"
    return response


def _forbidden_token() -> HttpResponse:
    return _plain(403, "invalid or expired link")


@require_safe
async def live_master(request, user_id: int):
    try:
        playlist = await proxy.live_master(user_id)
        text = proxy.rewrite(playlist, segment_mode(request), max_height(request))
        return _playlist(text, live=True)
    except proxy.Unavailable as error:
        return _unavailable(error)
    except (FetchError, UpstreamError) as error:
        return _failed(error)


@require_safe
async def recording_master(request, event_id: int):
    try:
        playlist = await proxy.recording_master(event_id)
        text = proxy.rewrite(playlist, segment_mode(request), max_height(request))
        return _playlist(text, live=False)
    except proxy.Unavailable as error:
        return _unavailable(error)
    except (FetchError, UpstreamError) as error:
        return _failed(error)


@require_safe
async def child_playlist(request, token: str):
    try:
        url = signing.unsign_url(token, signing.PLAYLIST)
    except signing.InvalidMediaToken:
        return _forbidden_token()
    try:
        playlist = await proxy.child_playlist(url)
        # A token only exists in proxied mode, so the playlist's URIs stay proxied.
        return _playlist(proxy.rewrite(playlist, proxy.PROXIED), live=playlist.live)
    except FetchError as error:
        return _failed(error)


class _SegmentResponse(StreamingHttpResponse):
    """Streams a segment; releases the upstream response if streaming never ran."""

    def __init__(self, segment: proxy.Segment):
        super().__init__(segment.chunks, status=segment.status)
        self._upstream = segment.stream
        for name, value in segment.headers.items():
            self[name] = value
        self["Cache-Control"] = "private, max-age=600"
        self["Content-Security-Policy"] = "default-src 'none'"

    def close(self) -> None:
        if self._upstream is not None:
            self._upstream.close()
        super().close()


@require_safe
async def segment(request, token: str, ext: str):
    try:
        url = signing.unsign_url(token, signing.SEGMENT)
    except signing.InvalidMediaToken:
        return _forbidden_token()
    try:
        found = await proxy.open_segment(url, request.headers.get("Range"))
    except FetchError as error:
        return _failed(error)
    if request.method == "HEAD":
        return _segment_head(found)
    return _SegmentResponse(found)


def _segment_head(segment: proxy.Segment) -> HttpResponse:
    """The GET's status and headers, no body (a shared read goes on for the GETs)."""
    if segment.stream is not None:
        segment.stream.close()
    response = HttpResponse(status=segment.status)
    for name, value in segment.headers.items():
        response[name] = value
    response["Cache-Control"] = "private, max-age=600"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@require_safe
async def image(request, token: str):
    if not image_proxy_on():  # pages carry no image links then; old ones stop working
        return _plain(404, "image proxy off", cache=IMAGE_ERROR_CACHE)
    try:
        url = signing.unsign_url(token, signing.IMAGE)
    except signing.InvalidMediaToken:
        return _forbidden_token()
    try:
        picture = await proxy.image(url)
    except FetchError as error:
        # The asset host is S3 behind CloudFront: a missing key is 403 AccessDenied.
        if error.kind == Kind.HTTP_STATUS and error.status in (401, 403, 404, 410):
            return _plain(404, "not-found", cache=IMAGE_ERROR_CACHE)
        return _failed(error)
    response = HttpResponse(picture.data, content_type=picture.content_type)
    response["Cache-Control"] = IMAGE_CACHE
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
