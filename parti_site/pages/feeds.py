"""Atom feeds (feedgen) and iCalendar files (icalendar) built from parti's records.

Pure functions of the records and the site's absolute base URL (settings.PUBLIC_URL, else
the address the request came to), plus `conditional()`, which answers a feed reader's
conditional GET with 304 when the body has not changed.

- Ids are stable: an entry's id is its page's absolute URL (a recording's /video/<id>, a
  go-live's /watch/<user>#golive-<event>), an event's UID `schedule-<event_id>@<host>`.
- Times are UTC: Atom's RFC 3339 with offset, iCalendar's `...Z` (no VTIMEZONE needed).
- Every text is plain text (feedgen and icalendar escape it); links are only our own pages,
  never a URL from parti, so a `javascript:` in a title stays a title.
- Bodies are deterministic (feed `updated` is the newest entry's time, DTSTAMP the
  event's start), so the ETag only changes when the content does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from feedgen.feed import FeedGenerator
from icalendar import Calendar, Event

from parti_site.upstream.errors import UpstreamError
from parti_site.upstream.history import PUSH, GoLive
from parti_site.upstream.models import Creator, Recording, ScheduledEvent

from .errors import RETRY_AFTER_SECONDS, answering_upstream_errors

ATOM = "application/atom+xml; charset=utf-8"
ICS = "text/calendar; charset=utf-8"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)  # `updated` of a feed with no entries
DEFAULT_LENGTH = timedelta(hours=1)  # an event without an end

# XML 1.0 cannot carry these at all (lxml refuses them); iCalendar has no use for them.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def text(value: str | None) -> str:
    return _UNSAFE.sub("", value or "")


def base_url(request) -> str:
    """https://host without a trailing slash, for absolute links."""
    public = getattr(settings, "PUBLIC_URL", "")
    return public.rstrip("/") if public else request.build_absolute_uri("/").rstrip("/")


def link(base: str, name: str, *args) -> str:
    return base + reverse(name, args=args)


def _utc(when: datetime) -> datetime:
    return when.astimezone(UTC)


# --- Atom ----------------------------------------------------------------------------------


def _feed(base: str, self_url: str, alternate: str, title: str, subtitle: str):
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(text(title))
    feed.subtitle(text(subtitle))
    feed.link(href=alternate, rel="alternate", type="text/html")
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.author({"name": "parti-site"})
    feed.generator("parti-site", uri=base + "/about")
    feed.language("en")
    return feed


def _finish(feed, times: list[datetime]) -> tuple[bytes, datetime]:
    updated = max(times) if times else EPOCH
    feed.updated(updated)
    return feed.atom_str(pretty=True), updated


def _recording_entries(feed, base: str, recordings: Sequence[Recording]) -> list[datetime]:
    times = []
    for recording in recordings:
        when = recording.ended_at or recording.started_at
        if when is None:
            continue
        entry = feed.add_entry(order="append")
        page = link(base, "pages:video", recording.event_id)
        entry.id(page)
        entry.title(text(recording.title) or "Untitled stream")
        entry.link(href=page, rel="alternate", type="text/html")
        entry.author({"name": text(recording.creator.name) or "unknown"})
        entry.published(_utc(recording.started_at or when))
        entry.updated(_utc(when))
        if recording.category:
            entry.category(term=text(recording.category))
        facts = [f"Streamed by {text(recording.creator.name)}"]
        if recording.duration_seconds:
            facts.append(f"{recording.duration_seconds // 60} minutes")
        if recording.total_viewers is not None:
            facts.append(f"{recording.total_viewers:,} viewers")
        entry.summary(", ".join(facts) + ".")
        times.append(_utc(when))
    return times


def creator_feed(
    base: str, creator: Creator, recordings: Sequence[Recording]
) -> tuple[bytes, datetime]:
    """A creator's recent streams: (Atom bytes, the newest entry's time)."""
    name = text(creator.name) or f"Creator {creator.user_id}"
    feed = _feed(
        base,
        link(base, "pages:feed_creator", creator.user_id),
        link(base, "pages:profile", creator.user_id),
        f"{name}: recent streams",
        f"Streams {name} recently finished on parti.com, as this instance sees them.",
    )
    return _finish(feed, _recording_entries(feed, base, recordings))


def category_feed(
    base: str, category_id: int, name: str, recordings: Sequence[Recording]
) -> tuple[bytes, datetime]:
    feed = _feed(
        base,
        link(base, "pages:feed_category", category_id),
        f"{link(base, 'pages:recent')}?category={category_id}",
        f"Recent streams: {name}",
        f"Streams in the category {name} recently finished on parti.com.",
    )
    return _finish(feed, _recording_entries(feed, base, recordings))


def golive_feed(
    base: str,
    user_ids: Sequence[int],
    events: Iterable[GoLive],
    since: datetime | None,
    self_url: str,
) -> tuple[bytes, datetime]:
    """ "Went live" events of the creators in the URL, from the site's go-live log."""
    covered = f"since {since:%Y-%m-%d %H:%M} UTC" if since else "from now on (nothing seen yet)"
    feed = _feed(
        base,
        self_url,
        f"{link(base, 'pages:following')}?ids={','.join(str(i) for i in user_ids)}",
        f"Went live: {len(user_ids)} creator{'s' if len(user_ids) != 1 else ''}",
        "parti keeps no history of who went live, so this feed lists what this instance "
        f"saw {covered}: parti's go-live pushes while it was connected to them, and streams "
        "first seen in parti's live list (fetched when someone asks for it, at most every "
        "30 seconds). A stream that began and ended unseen in between is missing.",
    )
    times = []
    for event in events:
        when = datetime.fromtimestamp(event.at, UTC)
        entry = feed.add_entry(order="append")
        watch = link(base, "pages:watch", event.user_id)
        entry.id(f"{watch}#golive-{event.event_id or int(event.at)}")
        name = text(event.name) or f"Creator {event.user_id}"
        entry.title(f"{name} went live: {text(event.title) or 'Untitled stream'}")
        entry.link(href=watch, rel="alternate", type="text/html")
        entry.author({"name": name, "uri": link(base, "pages:profile", event.user_id)})
        entry.published(when)
        entry.updated(when)
        if event.category:
            entry.category(term=text(event.category))
        how = "parti's go-live push" if event.source == PUSH else "parti's live list"
        entry.summary(f"Seen live at {when:%Y-%m-%d %H:%M} UTC (from {how}).")
        times.append(when)
    return _finish(feed, times)


# --- iCalendar -----------------------------------------------------------------------------


def calendar(
    base: str,
    name: str,
    events: Iterable[ScheduledEvent],
    category_names: dict[int, str] | None = None,
) -> tuple[bytes, datetime]:
    """Scheduled streams as an iCalendar file: (bytes, the latest start, for Last-Modified)."""
    host = urlsplit(base).hostname or "parti-site"
    cal = Calendar()
    cal.add("prodid", "-//parti-site//schedule//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", text(name))
    cal.add("x-wr-caldesc", "Scheduled streams on parti.com, from " + base)
    cal.add("x-wr-timezone", "UTC")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    starts = []
    for event in events:
        if event.starts_at is None:
            continue
        start = _utc(event.starts_at)
        end = _utc(event.ends_at) if event.ends_at and event.ends_at > start else None
        page = link(base, "pages:profile", event.creator.user_id)
        item = Event()
        item.add("uid", f"schedule-{event.event_id}@{host}")
        item.add("dtstamp", start)
        item.add("dtstart", start)
        item.add("dtend", end or start + DEFAULT_LENGTH)
        creator = text(event.creator.name) or f"Creator {event.creator.user_id}"
        item.add("summary", f"{creator}: {text(event.title) or 'Untitled stream'}")
        lines = [text(event.description)] if event.description else []
        lines.append(f"Watch: {link(base, 'pages:watch', event.creator.user_id)}")
        item.add("description", "\n\n".join(lines))
        item.add("url", page)
        item.add("location", link(base, "pages:watch", event.creator.user_id))
        label = (category_names or {}).get(event.category_id or -1)
        if label:
            item.add("categories", [text(label)])
        cal.add_component(item)
        starts.append(start)
    return cal.to_ical(), max(starts) if starts else EPOCH


# --- answering feed readers ----------------------------------------------------------------


def feed_unavailable(request, error: UpstreamError) -> HttpResponse:
    """A short 503 with Retry-After: a reader retries, and would read an HTML page as a
    broken feed."""
    response = HttpResponse(
        f"parti is not answering: {error.label}\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    patch_cache_control(response, no_store=True)
    return response


# Feeds: as pages, but failures answered by feed_unavailable.
upstream_feed = answering_upstream_errors(feed_unavailable)


def conditional(request, body: bytes, content_type: str, updated: datetime, max_age: int):
    """The body with ETag and Last-Modified, or 304 when the reader has it already."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    last_modified = int(updated.timestamp())
    response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=max_age)
    return get_conditional_response(
        request, etag=etag, last_modified=last_modified, response=response
    )
