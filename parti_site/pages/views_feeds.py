"""Atom feeds and iCalendar files (feeds.py builds them), answered with ETag and
Last-Modified so that feed readers and calendar apps poll cheaply (304 when unchanged).

A feed whose data parti cannot give (and no cached copy is left) is a 503 with
Retry-After, like the pages, so readers try again later instead of dropping entries.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import Http404
from django.urls import reverse

from parti_site.upstream import api, history
from parti_site.upstream.errors import UpstreamError

from . import feeds, follows
from .views import _path_id

FEED_ENTRIES = 20
GOLIVE_ENTRIES = 50
MAX_FEED_IDS = 500
FEED_MAX_AGE = 120  # recent streams stay fresh upstream this long
LIVE_MAX_AGE = 60
CALENDAR_MAX_AGE = 900


def _ids(request) -> list[int]:
    ids = follows.parse_ids(request.GET.get("ids"))[:MAX_FEED_IDS]
    if not ids:
        raise Http404("no creators given: add ?ids=1,2,3")
    return ids


def _fetch_all(calls: dict) -> dict:
    """Side by side, like the pages: a feed costs its slowest call, not the sum."""
    results = api.gather(calls)
    for result in results.values():
        if isinstance(result, UpstreamError):
            raise result
    return {name: result.data for name, result in results.items()}


def _names(categories) -> dict[int, str]:
    return {c.category_id: c.name for c in categories}


def _category_names() -> dict[int, str]:
    return _names(api.categories().data)


def _category(category_id: int) -> str:
    name = _category_names().get(category_id)
    if name is None:
        raise Http404("no such category")
    return name


@feeds.upstream_feed
def creator_feed(request, user_id: str):
    uid = _path_id(user_id)
    data = _fetch_all(
        {
            "profile": lambda: api.profile(uid),
            "recent": lambda: api.recent(user_id=uid, limit=FEED_ENTRIES),
        }
    )
    body, updated = feeds.creator_feed(
        feeds.base_url(request), data["profile"].creator, data["recent"]
    )
    return feeds.conditional(request, body, feeds.ATOM, updated, FEED_MAX_AGE)


@feeds.upstream_feed
def category_feed(request, category_id: str):
    cid = _path_id(category_id)
    name = _category(cid)
    recordings = api.recent(category_id=cid, limit=FEED_ENTRIES).data
    body, updated = feeds.category_feed(feeds.base_url(request), cid, name, recordings)
    return feeds.conditional(request, body, feeds.ATOM, updated, FEED_MAX_AGE)


@feeds.upstream_feed
def live_feed(request):
    ids = _ids(request)
    try:
        api.live_now(api.MAX_LIVE_LIMIT)  # a fresh snapshot goes into the log (history.py)
    except UpstreamError:
        pass  # the log still has what the pushes brought
    since = history.golive_since()
    base = feeds.base_url(request)
    self_url = base + reverse("pages:feed_live") + "?ids=" + follows.ids_text(ids)
    body, updated = feeds.golive_feed(
        base,
        ids,
        history.golive_events(ids, GOLIVE_ENTRIES),
        datetime.fromtimestamp(since, UTC) if since else None,
        self_url,
    )
    return feeds.conditional(request, body, feeds.ATOM, updated, LIVE_MAX_AGE)


def _calendar(request, name: str, keep):
    results = api.gather({"schedule": api.schedule, "categories": api.categories})
    if isinstance(results["schedule"], UpstreamError):
        raise results["schedule"]
    categories = results["categories"]
    # Category names are a nicety in a calendar: without them it still works.
    names = {} if isinstance(categories, UpstreamError) else _names(categories.data)
    events = [e for e in results["schedule"].data if keep(e)]
    body, updated = feeds.calendar(feeds.base_url(request), name, events, names)
    return feeds.conditional(request, body, feeds.ICS, updated, CALENDAR_MAX_AGE)


@feeds.upstream_feed
def calendar_all(request):
    return _calendar(request, "parti schedule", lambda e: True)


@feeds.upstream_feed
def calendar_category(request, category_id: str):
    cid = _path_id(category_id)
    name = _category(cid)
    return _calendar(request, f"parti schedule: {name}", lambda e: e.category_id == cid)


@feeds.upstream_feed
def calendar_creator(request, user_id: str):
    uid = _path_id(user_id)
    events = [e for e in api.schedule().data if e.creator.user_id == uid]
    name = events[0].creator.name if events else None
    if name is None:
        try:
            name = api.profile(uid).data.creator.name
        except UpstreamError as error:
            if error.is_not_found:
                raise Http404("no such creator") from None
            name = f"creator {uid}"
    return _calendar(request, f"parti schedule: {name}", lambda e: e.creator.user_id == uid)


@feeds.upstream_feed
def calendar_following(request):
    wanted = set(_ids(request))
    return _calendar(
        request, "parti schedule: followed creators", lambda e: e.creator.user_id in wanted
    )
