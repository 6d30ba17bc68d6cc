"""The pages. Each view parses its arguments, asks `upstream.api`, and renders.

Sections of a page are fetched side by side with `api.gather`; the price ticker in the
header rides along with every page. `errors.upstream_page` turns failures into pages.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.cache import never_cache

from parti_site.cache_backend import redis_reachable
from parti_site.instance.store import current as instance_settings
from parti_site.media import modes, urls_for
from parti_site.upstream import api
from parti_site.upstream.errors import Kind, UpstreamError
from parti_site.upstream.health import health, overall

from . import events, hiding, sorting
from .errors import Results, upstream_page

LIVE_PAGE = 30
RECENT_PAGE = 15
HOME_RECENT = 15  # as parti's own home page asks, so it shares /recent's first page
HOME_UPCOMING = 8
WATCH_RECENT = 6  # recordings shown beside (or instead of) the live player
MAX_AGE = 15  # seconds browsers and shared caches may keep a page

_ID = re.compile(r"[1-9][0-9]{0,17}")
_SERVICE = re.compile(r"[a-z0-9_]{1,32}")
_ZONES = available_timezones()


# --- argument parsing ----------------------------------------------------------------------


def _id(text: str | None) -> int | None:
    """A positive decimal id, or None for anything else."""
    return int(text) if text and _ID.fullmatch(text) else None


def _path_id(text: str) -> int:
    number = _id(text)
    if number is None:
        raise Http404("not an id")
    return number


def _offset(request) -> int:
    text = request.GET.get("offset", "")
    number = int(text) if re.fullmatch(r"-?[0-9]{1,30}", text) else 0
    return api.clamp(number, 0, api.MAX_OFFSET)


def _visitor_zone(request) -> ZoneInfo:
    """The zone timezone.js put in the `tz` cookie, when it names a real zone; else UTC."""
    name = request.COOKIES.get("tz", "")
    if name in _ZONES:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def _query(request, **changes) -> str:
    """This page's query string with some parameters changed (None removes one)."""
    params = request.GET.copy()
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = str(value)
    text = params.urlencode()
    return f"?{text}" if text else request.path


def _pager(request, offset: int, size: int, count: int) -> dict:
    prev_offset = max(offset - size, 0) if offset > 0 else None
    has_next = count >= size and offset + size <= api.MAX_OFFSET
    return {
        "prev": _query(request, offset=prev_offset or None) if prev_offset is not None else None,
        "next": _query(request, offset=offset + size) if has_next else None,
    }


def _chips(request, param: str, categories, current, extra: tuple = ()) -> list[dict]:
    """Category filter links: All, any extra (value, label) pairs, then each category."""
    choices = [(None, "All"), *extra, *((c.category_id, c.name) for c in categories)]
    return [
        {
            "label": label,
            "url": _query(request, **{param: value, "offset": None}),
            "current": value == current,
        }
        for value, label in choices
    ]


# --- rendering -----------------------------------------------------------------------------


def _gather(calls: dict) -> Results:
    return Results(api.gather({**calls, "prices": api.prices}))


def _render(request, template: str, results: Results, nav: str = "", **context):
    zone = _visitor_zone(request)
    context.update(
        nav=nav,
        ticker=results.get("prices"),
        failed=results.failed,
        as_of=results.as_of,
        stale_at=results.stale_at,
        tz=zone,
        tz_name=zone.key,
    )
    response = render(request, template, context)
    if results.failed:
        # A section is missing: nobody should keep this page once parti answers again.
        patch_cache_control(response, no_store=True)
    else:
        patch_cache_control(response, public=True, max_age=MAX_AGE)
    patch_vary_headers(response, ["Cookie"])  # times follow the visitor's `tz` cookie
    return response


# --- pages ---------------------------------------------------------------------------------


@upstream_page
def home(request):
    tab = _id(request.GET.get("tab"))
    results = _gather(
        {
            "live": lambda: api.live_now(LIVE_PAGE),
            "featured": api.featured,
            "schedule": api.schedule,
            "recent": lambda: api.recent(category_id=tab, limit=HOME_RECENT),
            "categories": api.categories,
        }
    )
    results.need_any("live", "featured", "schedule", "recent")  # category tabs alone: no
    categories = results.get("categories", [])
    tabs = [
        {"label": label, "url": _query(request, tab=value), "current": value == tab}
        for value, label in [(None, "All"), *((c.category_id, c.name) for c in categories)]
    ]
    schedule = results.get("schedule")
    return _render(
        request,
        "pages/home.html",
        results,
        nav="home",
        live=hiding.visible(request, results.get("live")),
        featured_creators=results.get("featured"),
        upcoming=events.upcoming(hiding.visible(request, schedule), timezone.now(), HOME_UPCOMING)
        if schedule
        else [],
        recent=hiding.visible(request, results.get("recent")),
        tabs=tabs,
        categories=categories,
    )


@upstream_page
def live(request):
    offset = _offset(request)
    wanted = request.GET.get("category") or None
    category_id = _id(wanted)
    calls = {"categories": api.categories}
    if wanted is None or category_id is not None:
        calls["live"] = lambda: api.live_now(LIVE_PAGE, offset, category_id)
    results = _gather(calls)
    categories = results.get("categories", [])
    known = {c.category_id for c in categories}
    unknown = wanted is not None and (
        category_id is None or (bool(known) and category_id not in known)
    )
    answered = [] if unknown else results.need("live")
    channels = hiding.visible(request, answered)
    sort = sorting.current(request.GET.get("sort"))
    channels = sorting.sort_live(channels, sort)
    return _render(
        request,
        "pages/live.html",
        results,
        nav="live",
        channels=channels,
        unknown_category=unknown,
        category=next((c for c in categories if c.category_id == category_id), None),
        chips=_chips(request, "category", categories, category_id if not unknown else "?"),
        sorts=[
            {"label": label, "url": _query(request, sort=value or None), "current": value == sort}
            for value, label in sorting.SORTS
        ],
        pager=_pager(request, offset, LIVE_PAGE, len(answered)),
    )


@upstream_page
def schedule(request):
    results = _gather({"schedule": api.schedule})
    return _render(
        request,
        "pages/schedule.html",
        results,
        nav="schedule",
        days=hiding.visible_days(
            request,
            events.by_day(results.need("schedule"), timezone.now(), _visitor_zone(request)),
        ),
    )


@upstream_page
def featured(request):
    results = _gather({"featured": api.featured})
    return _render(
        request, "pages/featured.html", results, nav="featured", creators=results.need("featured")
    )


@upstream_page
def recent(request):
    offset = _offset(request)
    top = request.GET.get("sort") == "top"
    wanted = request.GET.get("category") or None
    no_category = wanted == "none"
    category_id = _id(wanted)
    calls = {"categories": api.categories}
    if wanted is None or no_category or category_id is not None:
        calls["recent"] = lambda: api.recent(
            category_id=category_id,
            no_category=no_category,
            top=top,
            limit=RECENT_PAGE,
            offset=offset,
        )
    results = _gather(calls)
    categories = results.get("categories", [])
    known = {c.category_id for c in categories}
    unknown = "recent" not in calls or (
        category_id is not None and bool(known) and category_id not in known
    )
    answered = [] if unknown else results.need("recent")
    recordings = hiding.visible(request, answered)
    current = "none" if no_category else category_id
    return _render(
        request,
        "pages/recent.html",
        results,
        nav="recent",
        recordings=recordings,
        top=top,
        unknown_category=unknown,
        no_category=no_category,
        category=next((c for c in categories if c.category_id == category_id), None),
        chips=_chips(
            request,
            "category",
            categories,
            current if not unknown else "?",
            (("none", "No category"),),
        ),
        sorts=[
            {"label": "Latest", "url": _query(request, sort=None, offset=None), "current": not top},
            {"label": "Top", "url": _query(request, sort="top", offset=None), "current": top},
        ],
        pager=_pager(request, offset, RECENT_PAGE, len(answered)),
    )


@upstream_page
def profile(request, user_id: str):
    uid = _path_id(user_id)
    results = _gather(
        {
            "profile": lambda: api.profile(uid),
            "channel": lambda: api.channel(uid),
            "recent": lambda: api.recent(user_id=uid, limit=HOME_RECENT),
            "feed": lambda: api.feed(uid),
        }
    )
    return _render(
        request,
        "pages/profile.html",
        results,
        profile=results.need("profile"),
        channel=results.get("channel"),
        recent=results.get("recent"),
        feed=results.get("feed"),
    )


@upstream_page
def creator(request, service: str, name: str, discriminator: str | None = None):
    """parti.com's /creator/... links, answered with a redirect to our profile page."""
    service = service.lower()
    if not _SERVICE.fullmatch(service) or not name or len(name) > 100:
        raise Http404("not a creator link")
    if discriminator is not None:
        if service != "discord" or not discriminator.isdigit():
            raise Http404("not a creator link")
        name = f"{name}#{discriminator}"
    try:
        user_id = api.lookup_user_id(service, name).data
    except UpstreamError as error:
        # parti answers an unknown name with something that is not a user id.
        if error.is_not_found or error.kind == Kind.UNEXPECTED_SHAPE:
            raise Http404("no such creator") from None
        raise
    response = redirect("pages:profile", user_id=user_id)
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response


@upstream_page
def watch(request, user_id: str):
    uid = _path_id(user_id)
    public_chat = instance_settings().public_chat
    calls = {
        "channel": lambda: api.channel(uid),
        "profile": lambda: api.profile(uid),
        "recent": lambda: api.recent(user_id=uid, limit=WATCH_RECENT),
    }
    if public_chat:
        calls["chat"] = lambda: api.public_chat(uid)
    results = _gather(calls)
    channel = results.need("channel")
    missing = results.error("profile")
    if missing is not None and missing.is_not_found:
        raise Http404("no such creator")
    return _render(
        request,
        "pages/watch.html",
        results,
        nav="live" if channel.is_live else "",
        channel=channel,
        profile=results.get("profile"),
        chat=results.get("chat"),
        public_chat=public_chat,
        recent=results.get("recent"),
        playlist=urls_for.live_playlist_path(uid),
        user_id=uid,
    )


@upstream_page
def video(request, event_id: str):
    eid = _path_id(event_id)
    results = _gather({"recording": lambda: api.recording(eid)})
    missing = results.error("recording")
    if missing is not None and missing.is_not_found:
        return _no_recording(request, eid)
    recording = results.need("recording")
    return _render(
        request,
        "pages/video.html",
        results,
        recording=recording,
        playlist=urls_for.recording_playlist_path(eid) if recording.recording_path else None,
    )


def _no_recording(request, eid: int):
    """parti has no recording by this id: often a stream that is still live (its recording
    comes when it ends). The 404 page says so, linking to the stream when it is live now."""
    results = _gather({"live": api.live_now})
    streaming = next((c for c in results.get("live", []) if c.event_id == eid), None)
    response = _render(request, "404.html", results, no_recording=True, live_channel=streaming)
    response.status_code = 404
    return response


def about(request):
    """What this instance does with visitors' data, from the settings in force now."""
    now = instance_settings()
    return _render(
        request,
        "pages/about.html",
        _gather({}),
        segment_mode=modes.segment_mode(request),
        max_height=modes.max_height(request),
        image_proxy=now.image_proxy,
        public_chat=now.public_chat,
        policies=sorted(now.policies.items()),
        log_client_ips=getattr(settings, "LOG_CLIENT_IPS", False),
        rate_limited=bool(getattr(settings, "RATE_LIMITS", ())),
    )


def _when(seconds: float | None) -> str | None:
    return datetime.fromtimestamp(seconds, UTC).isoformat() if seconds else None


@never_cache
def healthz(request):
    """Always 200, "degraded" when parti is failing or our Redis is unreachable: this
    instance itself works (it serves stale copies and friendly error pages), and a load
    balancer that took 503 for "down" would pull every instance at once whenever parti or
    the shared Redis has trouble."""
    snapshot = health.snapshot()
    endpoints = {
        name: {
            "calls": entry.calls,
            "failures": entry.failures,
            "failing": entry.failing,
            "last_success": _when(entry.last_success),
            "last_failure_kind": entry.last_failure_kind or None,
            "circuit": entry.circuit,
        }
        for name, entry in sorted(snapshot.items())
    }
    body = {"status": overall(snapshot), "upstream": endpoints}
    reachable = redis_reachable()  # None without REDIS_URL
    if reachable is not None:
        body["redis"] = {"reachable": reachable}
        if not reachable:
            body["status"] = "degraded"
    response = JsonResponse(body)
    response.content += b"\n"  # read with curl in a terminal: the prompt on a line of its own
    return response
