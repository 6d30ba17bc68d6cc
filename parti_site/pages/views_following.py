"""Follows without an account (follows.py holds the cookie): follow and unfollow buttons,
/following, export, import and share links.

/following stays cheap however many creators are followed: who is live comes from parti's
live list (one call of 100, a few more pages only when more are live), upcoming streams
from the one schedule list, recordings from the recent list, names from those lists and
featured creators. Only a few creators per view (`LOOKUPS`) whose names none of those
lists carry get their cached profile asked for; the rest show as a numbered link until a
later view (profiles stay cached for many minutes) or the creator turns up in a list.
"""

from __future__ import annotations

import json

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from parti_site.upstream import api
from parti_site.upstream.cache import Fetched
from parti_site.upstream.models import Creator
from parti_site.web.origin import same_origin_post

from . import events, feeds, follows, hiding
from .errors import upstream_page
from .views import _gather, _path_id, _render

LIVE_PAGE_SIZE = api.MAX_LIVE_LIMIT
LIVE_PAGES = 3  # 300 live channels looked through at most
RECENT_SIZE = api.MAX_RECENT_LIMIT
LOOKUPS = 12  # profiles asked for per view, for names no list has
UPCOMING = 20
MAX_IMPORT_BYTES = 64 * 1024
EXPORT_FORMAT = "parti-site-follows"


def _back(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _answer(request, ids: list[int], fallback: str):
    response = redirect(_back(request, fallback))
    follows.write(request, response, ids)
    return response


@same_origin_post
def follow(request, user_id: str):
    uid = _path_id(user_id)
    ids = follows.read(request)
    wanted = follows.add(ids, uid)
    if not follows.fits(wanted):
        return redirect(reverse("pages:following") + "?full=1")
    return _answer(request, wanted, reverse("pages:following"))


@same_origin_post
def unfollow(request, user_id: str):
    uid = _path_id(user_id)
    return _answer(request, follows.remove(follows.read(request), uid), reverse("pages:following"))


def _live_all() -> Fetched:
    """Everyone live, a page of 100 at a time (one call when fewer are live)."""
    channels, first = [], None
    for page in range(LIVE_PAGES):
        answer = api.live_now(LIVE_PAGE_SIZE, page * LIVE_PAGE_SIZE)
        first = first or answer
        channels.extend(answer.data)
        if len(answer.data) < LIVE_PAGE_SIZE:
            break
    return Fetched(channels, first.fetched_at, stale=first.stale)


def _known_creators(*lists) -> dict[int, Creator]:
    known: dict[int, Creator] = {}
    for creators in lists:
        for creator in creators:
            known.setdefault(creator.user_id, creator)
    return known


def links(ids: list[int]) -> dict:
    """Where this follow list can be subscribed to and shared (relative URLs)."""
    query = "?ids=" + follows.ids_text(ids)
    return {
        "feed": reverse("pages:feed_live") + query,
        "calendar": reverse("pages:calendar_following") + query,
        "share": reverse("pages:following") + query,
    }


@upstream_page
def following(request):
    ids = follows.read(request)
    wanted = set(ids)
    offered = [i for i in follows.parse_ids(request.GET.get("ids")) if i not in wanted]
    calls = {}
    if ids:
        calls = {
            "live": _live_all,
            "schedule": api.schedule,
            "recent": lambda: api.recent(limit=RECENT_SIZE),
            "featured": api.featured,
        }
    results = _gather(calls)
    live = [c for c in results.get("live", []) if c.creator.user_id in wanted]
    schedule = [e for e in results.get("schedule", []) if e.creator.user_id in wanted]
    recent = [r for r in results.get("recent", []) if r.creator.user_id in wanted]
    live, schedule, recent = (hiding.visible(request, x) for x in (live, schedule, recent))
    known = _known_creators(
        (c.creator for c in results.get("live", [])),
        (f.creator for f in results.get("featured", [])),
        (e.creator for e in results.get("schedule", [])),
        (r.creator for r in results.get("recent", [])),
    )
    for uid in ids:
        if uid not in known and (copy := api.cached_profile(uid)) is not None:
            known[uid] = copy.creator
    unknown = [uid for uid in reversed(ids) if uid not in known][:LOOKUPS]
    profiles = api.gather({str(uid): (lambda uid=uid: api.profile(uid)) for uid in unknown})
    for uid in unknown:
        result = profiles[str(uid)]
        if not isinstance(result, Exception):
            known[uid] = result.data.creator
    live_ids = {c.creator.user_id for c in live}
    creators = [{"user_id": uid, "creator": known.get(uid), "live": uid in live_ids} for uid in ids]
    now = timezone.now()
    response = _render(
        request,
        "pages/following.html",
        results,
        nav="following",
        ids=ids,
        creators=creators,
        live=live,
        upcoming=events.upcoming(schedule, now, UPCOMING) if schedule else [],
        recent=recent,
        room=follows.room(ids),
        full=request.GET.get("full") == "1",
        offered=offered,
        offered_text=follows.ids_text(offered),
        links=links(ids) if ids else None,
        imported=request.GET.get("imported"),
        left_out=request.GET.get("left_out"),
        max_bytes=follows.MAX_BYTES,
    )
    patch_cache_control(response, private=True)  # this visitor's list
    return response


@require_GET
def export(request):
    ids = follows.read(request)
    body = {
        "format": EXPORT_FORMAT,
        "version": 1,
        "user_ids": ids,
        "share_link": feeds.base_url(request) + links(ids)["share"] if ids else None,
    }
    response = HttpResponse(
        json.dumps(body, indent=2) + "\n", content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="parti-site-follows.json"'
    response["Cache-Control"] = "private, no-store"
    return response


def ids_from_upload(data: str) -> list[int]:
    """An export file, a share link, or ids separated by commas, spaces or lines."""
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("user_ids"), list):
        return follows.parse_ids(",".join(str(i) for i in parsed["user_ids"] if isinstance(i, int)))
    if isinstance(parsed, list):
        return follows.parse_ids(",".join(str(i) for i in parsed if isinstance(i, int)))
    if "ids=" in data:
        data = data.split("ids=", 1)[1].split("&", 1)[0].split("#", 1)[0]
        data = data.replace("%2C", ",").replace("%2c", ",")
    return follows.parse_ids(data)


@same_origin_post
def import_follows(request):
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size > MAX_IMPORT_BYTES:
            raise Http404("file too large")  # an export is a few kilobytes
        text = upload.read(MAX_IMPORT_BYTES).decode("utf-8", "replace")
    else:
        text = request.POST.get("ids", "")[:MAX_IMPORT_BYTES]
    more = ids_from_upload(text)
    start = [] if request.POST.get("mode") == "replace" else follows.read(request)
    kept, left_out = follows.merge(start, more)
    added = len(kept) - len(start)
    target = reverse("pages:following") + f"?imported={max(added, 0)}"
    if left_out:
        target += f"&left_out={len(left_out)}"
    response = redirect(target)
    follows.write(request, response, kept)
    return response
