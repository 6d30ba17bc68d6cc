"""The only code that talks to parti's HTTP API: one function per endpoint, raw JSON out.

Every failure becomes an UpstreamError with a kind. Parsing into typed records is
`parse.py`'s job; caching is `cache.py`'s.
"""

from __future__ import annotations

import json
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .circuit import breakers, counts
from .errors import Kind, UpstreamError
from .health import health

log = logging.getLogger("parti_site.upstream")

# parti's own web app sends these (home-routes.md); Era B checks Origin/Referer (facts.md §1.0).
HEADERS = {
    "Accept": "application/json, text/plain, */*",
    "Origin": "https://parti.com",
    "Referer": "https://parti.com/",
    "User-Agent": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36"
    ),
}
MAX_BODY_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 64 * 1024

# The constants parti's frontend sends for "all time" (home-routes.md §6).
RECENT_FROM_TS = 1627948800
RECENT_TO_TS = 2229292800


def _make_session() -> requests.Session:
    session = requests.Session()
    session.headers.update(HEADERS)
    # Retry only failed connects: nothing was sent, so it is always safe and quick.
    retry = Retry(
        total=1,
        connect=1,
        read=0,
        status=0,
        redirect=0,
        other=0,
        status_forcelist=(),
        respect_retry_after_header=False,
        raise_on_status=False,
        backoff_factor=0.1,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=32)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


_session = _make_session()


def get_json(endpoint: str, path: str, params: list[tuple[str, Any]] | None = None) -> Any:
    """GET `PARTI_API_URL + path` and return the decoded JSON body.

    `endpoint` names the route for health records and logs. A connect timeout plus a
    total deadline bound the call, so a server that drips bytes cannot hang a worker.
    """
    url = settings.PARTI_API_URL + path
    # An endpoint that keeps failing is not asked for a while (circuit.py): fail at once.
    breakers.allow(endpoint)
    deadline = time.monotonic() + settings.PARTI_DEADLINE
    started = time.monotonic()
    try:
        body = _fetch(url, params, deadline)
        data = _decode(body)
    except UpstreamError as error:
        elapsed = (time.monotonic() - started) * 1000
        log.warning("upstream %s failed after %.0f ms: %s", endpoint, elapsed, error)
        if counts(error):
            health.record_failure(endpoint, error)
        else:  # parti answered ("no such channel"): for health, a call that worked
            health.record_success(endpoint)
        breakers.failure(endpoint, error)
        raise
    elapsed = (time.monotonic() - started) * 1000
    log.info("upstream %s ok in %.0f ms", endpoint, elapsed)
    health.record_success(endpoint)
    breakers.success(endpoint)
    return data


def _fetch(url: str, params: list[tuple[str, Any]] | None, deadline: float) -> bytes:
    timeout = (settings.PARTI_CONNECT_TIMEOUT, max(0.1, deadline - time.monotonic()))
    try:
        with _session.get(
            url, params=params, timeout=timeout, stream=True, allow_redirects=False
        ) as response:
            if response.status_code != 200:
                raise UpstreamError(
                    Kind.HTTP_STATUS,
                    f"HTTP {response.status_code} from {response.url.split('?')[0]}",
                    status=response.status_code,
                    retry_after=retry_after(response.headers.get("Retry-After")),
                )
            chunks = []
            size = 0
            # read1 returns what one read gives, so the deadline is checked between drips;
            # each read may only wait for what is left of the deadline.
            while _limit_read(response, deadline) and (
                chunk := response.raw.read1(CHUNK_BYTES, decode_content=True)
            ):
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise UpstreamError(Kind.UNEXPECTED_SHAPE, "response body is too large")
                if time.monotonic() > deadline:
                    raise UpstreamError(Kind.TIMEOUT, "response did not finish in time")
                chunks.append(chunk)
            return b"".join(chunks)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        if _is_timeout(exc):
            raise UpstreamError(Kind.TIMEOUT, "no answer in time") from exc
        raise UpstreamError(Kind.UNREACHABLE, f"{type(exc).__name__}") from exc


def _limit_read(response: requests.Response, deadline: float) -> bool:
    """Let the next socket read wait only until the deadline (True: there is time left)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise UpstreamError(Kind.TIMEOUT, "response did not finish in time")
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(left)
    return True


MAX_RETRY_AFTER = 24 * 3600


def retry_after(value: str | None) -> float | None:
    """A `Retry-After` header (seconds, or an HTTP date) as seconds from now, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), MAX_RETRY_AFTER))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return max(0.0, min(moment.timestamp() - time.time(), MAX_RETRY_AFTER))


def _is_timeout(exc: BaseException) -> bool:
    """requests wraps read timeouts in ConnectionError (via MaxRetryError); look inside."""
    seen: BaseException | None = exc
    for _ in range(6):
        # NewConnectionError subclasses ConnectTimeoutError in urllib3, yet means "refused".
        if seen is None or isinstance(seen, urllib3.exceptions.NewConnectionError):
            return False
        if isinstance(seen, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
            return True
        reason = getattr(seen, "reason", None)
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = reason if isinstance(reason, BaseException) else inner or seen.__context__
    return False


def _decode(body: bytes) -> Any:
    if not body.strip():
        raise UpstreamError(Kind.NOT_JSON, "empty response body")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        preview = body[:40].decode("utf-8", "replace")
        raise UpstreamError(Kind.NOT_JSON, f"body is not JSON (starts {preview!r})") from exc


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


# --- one function per endpoint -------------------------------------------------------------
# home-routes.md's twelve routes (live with limit 100 and 30 share `live_channels`; the five
# recent variants share `recent_streams`), plus the per-channel and per-recording routes
# from facts.md §1.


def categories() -> Any:
    return get_json("categories", "/profile/livestream_calendar/events/categories")


def live_channels(limit: int = 30, offset: int = 0, category_id: int | None = None) -> Any:
    params: list[tuple[str, Any]] = [("limit", limit), ("offset", offset)]
    if category_id is not None:
        params.append(("categories", category_id))
    return get_json("live", "/profile/get_livestream_channel_info/live", params)


def calendar_events(limit: int = 100, offset: int = 0) -> Any:
    params = [("offset", offset), ("limit", limit)]
    return get_json("schedule", "/profile/livestream_calendar/events", params)


def featured_channels() -> Any:
    return get_json("featured", "/profile/featured_channels")


def recent_streams(
    *,
    category_id: int | None = None,
    no_category: bool = False,
    top: bool = False,
    user_id: int | None = None,
    limit: int = 15,
    offset: int = 0,
) -> Any:
    """Recently ended streams, as parti's frontend asks for them (home-routes.md §6-10)."""
    params: list[tuple[str, Any]] = [
        ("sort_by_date_desc", "true"),
        ("from_ts", RECENT_FROM_TS),
        ("to_ts", RECENT_TO_TS),
        ("followed_only", "false"),
    ]
    if no_category:
        params.append(("categories", "NaN"))
    elif category_id is not None:
        params.append(("categories", category_id))
    if user_id is not None:
        params.append(("by_user_id", user_id))
    params += [
        ("offset", offset),
        ("limit", limit),
        ("top_views_sort", "true" if top else "false"),
    ]
    return get_json("recent", "/profile/get_livestream_channel_info/recent", params)


def asset_prices() -> Any:
    return get_json("prices", "/profile/assets_prices/info")


def user_profile(user_id: int) -> Any:
    return get_json("profile", f"/profile/user_profile/{_segment(user_id)}")


def channel_info(user_id: int) -> Any:
    return get_json("channel", f"/profile/get_livestream_channel_info/{_segment(user_id)}")


def recording(event_id: int) -> Any:
    return get_json(
        "recording", f"/profile/get_livestream_channel_info/recent/{_segment(event_id)}"
    )


def user_feed(user_id: int, limit: int = 10) -> Any:
    return get_json("feed", f"/profile/user_profile_feed/{_segment(user_id)}", [("limit", limit)])


def user_id_by_social_media(service: str, name: str) -> Any:
    """Bare JSON number body (facts.md §1.2). Discord names carry `%23{discriminator}`."""
    path = f"/profile/get_user_by_social_media/{_segment(service)}/{_segment(name)}"
    return get_json("lookup", path)


def public_chat(user_id: int) -> Any:
    return get_json("chat", f"/profile/user_profile_chat/{_segment(user_id)}/public")
