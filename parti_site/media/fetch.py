"""The one HTTP fetcher for media (playlists, segments, images): async, allow-listed, pinned.

Guarantees, for every request it makes:

- The URL passes `allowlist.check` first and the normalised URL is what is requested.
- Connections go only to addresses `allowlist.resolve_and_check` returned (a custom aiohttp
  resolver; IP literals are checked here because aiohttp does not resolve them), so a name
  that re-resolves to 127.0.0.1 between check and connect cannot reach it (DNS rebinding).
- Redirects are never followed by aiohttp; at most `MAX_REDIRECTS` are followed here, each
  `Location` checked with `allowlist.check_redirect`.
- Timeouts: connect + total for whole bodies (playlists, images); connect + read-idle + a
  generous total for streamed segments. Bodies are capped by the caller's `max_bytes`.
- No cookies (`DummyCookieJar`), no auth, no proxy from the environment, no visitor headers
  except an optional `Range`.

Everything that goes wrong is a `FetchError` whose `http_status` is the answer our views give
(403 forbidden host, 404 upstream not found, 502 upstream failure, 504 timeout).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from django.conf import settings
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from parti_site.web.shutdown import at_shutdown

from . import allowlist
from .allowlist import ForbiddenURL
from .content import media_type

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3
MAX_IMAGE_BYTES = 5 * 1024 * 1024
# A 10 s 1080p60 IVS recording segment is about 8 MB; anything far beyond is not a segment.
MAX_SEGMENT_BYTES = 64 * 1024 * 1024
# Streamed segments: no read may stall longer than this, and the whole transfer (paced by
# the slowest viewer when not shared) may not take longer than SEGMENT_TOTAL_SECONDS.
SEGMENT_READ_IDLE_SECONDS = 10.0
SEGMENT_TOTAL_SECONDS = 300.0
CHUNK_SIZE = 64 * 1024
USER_AGENT = "parti-site media proxy"
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}


class Kind(StrEnum):
    FORBIDDEN = "forbidden"  # not on the allow-list (or resolves to a private address)
    HTTP_STATUS = "http_status"  # upstream answered with a non-2xx status
    UNREACHABLE = "unreachable"  # DNS failure, connection refused, reset...
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    BAD_CONTENT = "bad_content"  # not a playlist / not an image / wrong content type


class FetchError(Exception):
    """A media fetch failed; `http_status` is the status our views answer with."""

    def __init__(self, kind: Kind, message: str, *, status: int | None = None, url: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status  # the upstream status, for Kind.HTTP_STATUS
        self.url = url

    @property
    def http_status(self) -> int:
        if self.kind == Kind.FORBIDDEN:
            return 403
        if self.kind == Kind.TIMEOUT:
            return 504
        if self.kind == Kind.HTTP_STATUS and self.status in (404, 410):
            return 404
        if self.kind == Kind.HTTP_STATUS and self.status == 416:
            return 416  # a Range the segment does not have
        return 502

    def __str__(self) -> str:
        detail = f" (upstream {self.status})" if self.status else ""
        return f"{self.kind}: {self.message}{detail}"


@dataclass
class Body:
    """A whole upstream body: `url` is the final URL after redirects."""

    url: str
    status: int
    headers: CIMultiDictProxy[str]
    content: bytes

    @property
    def content_type(self) -> str:
        return media_type(self.headers.get("Content-Type"))


class Stream:
    """An open upstream response whose body is read chunk by chunk."""

    def __init__(self, url: str, response: aiohttp.ClientResponse, max_bytes: int):
        self.url = url
        self.status = response.status
        self.headers = response.headers
        self._response = response
        self._max_bytes = max_bytes
        self._loop = asyncio.get_running_loop()

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body in chunks; the connection is released when done, failed or cancelled."""
        total = 0
        try:
            async for chunk in self._response.content.iter_chunked(CHUNK_SIZE):
                total += len(chunk)
                if total > self._max_bytes:
                    raise FetchError(Kind.TOO_LARGE, "body too large", url=self.url)
                yield chunk
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _translate(exc, self.url) from exc
        finally:
            self._response.release()

    def close(self) -> None:
        """Release the connection; safe to call from any thread, more than once."""
        if self._loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._response.close()
        else:
            self._loop.call_soon_threadsafe(self._response.close)


# --- the pinned session ------------------------------------------------------------------------


class AllowlistResolver(AbstractResolver):
    """Resolves through `allowlist.resolve_and_check`: only checked addresses come back."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await asyncio.to_thread(allowlist.resolve_and_check, host, port)
        results: list[ResolveResult] = []
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            results.append(
                {
                    "hostname": host,
                    "host": address,
                    "port": port,
                    "family": socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        return results

    async def close(self) -> None:
        pass


_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
    weakref.WeakKeyDictionary()
)


def session() -> aiohttp.ClientSession:
    """The session of the running event loop (one per loop; Daphne runs one loop)."""
    loop = asyncio.get_running_loop()
    current = _sessions.get(loop)
    if current is None or current.closed:
        connector = aiohttp.TCPConnector(
            resolver=AllowlistResolver(),
            limit=400,
            limit_per_host=200,
            ttl_dns_cache=10,
            enable_cleanup_closed=True,
        )
        current = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,  # never an HTTP(S)_PROXY from the environment
            headers={"User-Agent": USER_AGENT},
            raise_for_status=False,
        )
        _sessions[loop] = current
        at_shutdown(close)
    return current


async def close() -> None:
    """Close the running loop's session (tests, shutdown)."""
    current = _sessions.pop(asyncio.get_running_loop(), None)
    if current is not None:
        await current.close()


# --- requests ----------------------------------------------------------------------------------


def _whole_body_timeout() -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=settings.PARTI_DEADLINE, sock_connect=settings.PARTI_CONNECT_TIMEOUT
    )


def _stream_timeout() -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=SEGMENT_TOTAL_SECONDS,
        sock_connect=settings.PARTI_CONNECT_TIMEOUT,
        sock_read=SEGMENT_READ_IDLE_SECONDS,
    )


def _translate(exc: BaseException, url: str) -> FetchError:
    if isinstance(exc, FetchError):
        return exc
    if isinstance(exc, ForbiddenURL):
        return FetchError(Kind.FORBIDDEN, exc.reason, url=url)
    cause = getattr(exc, "os_error", None) or exc.__cause__
    if isinstance(cause, ForbiddenURL):
        return FetchError(Kind.FORBIDDEN, cause.reason, url=url)
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return FetchError(Kind.TIMEOUT, "upstream took too long", url=url)
    return FetchError(Kind.UNREACHABLE, f"{type(exc).__name__}: {exc}", url=url)


async def _open(
    url: str,
    *,
    timeout: aiohttp.ClientTimeout,
    accept: str,
    range_header: str | None = None,
    identity: bool = False,
) -> tuple[str, aiohttp.ClientResponse]:
    """Request `url` following checked redirects; return (final URL, 2xx response)."""
    try:
        current = allowlist.check_url(url)
    except ForbiddenURL as exc:
        raise FetchError(Kind.FORBIDDEN, exc.reason, url=str(url)[:200]) from exc
    headers = CIMultiDict({"Accept": accept})
    if identity:
        headers["Accept-Encoding"] = "identity"
    if range_header:
        headers["Range"] = range_header
    for _ in range(MAX_REDIRECTS + 1):
        try:
            target = allowlist.check(current)
            if _is_ip_literal(target.host):
                # aiohttp connects to IP literals without asking the resolver.
                allowlist.resolve_and_check(target.host, target.port)
            response = await session().get(
                # encoded=True: path and query go out byte for byte (?dna=... tokens).
                URL(target.url, encoded=True),
                headers=headers,
                allow_redirects=False,
                timeout=timeout,
                auto_decompress=not identity,
            )
        except (TimeoutError, ForbiddenURL, aiohttp.ClientError, OSError) as exc:
            raise _translate(exc, current) from exc
        if response.status in _REDIRECT_STATUSES:
            location = response.headers.get("Location", "")
            response.release()
            try:
                current = allowlist.check_redirect(location, current)
            except ForbiddenURL as exc:
                log.warning("refused redirect from %s to %r: %s", current, location, exc.reason)
                raise FetchError(Kind.FORBIDDEN, f"redirect: {exc.reason}", url=current) from exc
            continue
        if not 200 <= response.status < 300:
            status = response.status
            response.release()
            raise FetchError(Kind.HTTP_STATUS, "upstream refused", status=status, url=current)
        return current, response
    raise FetchError(Kind.UNREACHABLE, "too many redirects", url=current)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


async def fetch_bytes(url: str, *, max_bytes: int, accept: str = "*/*") -> Body:
    """GET a whole body of at most `max_bytes` within the deadline."""
    final_url, response = await _open(url, timeout=_whole_body_timeout(), accept=accept)
    try:
        declared = response.content_length
        if declared is not None and declared > max_bytes:
            raise FetchError(Kind.TOO_LARGE, f"body of {declared} bytes", url=final_url)
        parts: list[bytes] = []
        total = 0
        async for chunk in response.content.iter_chunked(CHUNK_SIZE):
            total += len(chunk)
            if total > max_bytes:
                raise FetchError(Kind.TOO_LARGE, f"body over {max_bytes} bytes", url=final_url)
            parts.append(chunk)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise _translate(exc, final_url) from exc
    finally:
        response.release()
    return Body(final_url, response.status, response.headers, b"".join(parts))


async def open_stream(
    url: str, *, range_header: str | None = None, max_bytes: int = MAX_SEGMENT_BYTES
) -> Stream:
    """Start a GET and return once headers are in; read the body with `Stream.chunks()`."""
    final_url, response = await _open(
        url,
        timeout=_stream_timeout(),
        accept="*/*",
        range_header=range_header,
        identity=True,
    )
    return Stream(final_url, response, max_bytes)
