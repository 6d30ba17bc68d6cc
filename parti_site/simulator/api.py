"""The API host `api-backend.parti.com` (facts §1): GET routes under /parti_v2/profile/.

A request whose path and query equal a recorded one (query order aside) gets the recorded body
verbatim; anything else is answered from the world. Error bodies are UNKNOWN for parti: 404 (and
400 for a bad number) with a small JSON body. No CORS headers (UNKNOWN, so not permissive).
"""

from __future__ import annotations

from aiohttp import web

from . import faults, recorded
from .common import json_response, new_app, world
from .world import PROFILE, World

CHANNEL_INFO = PROFILE + "/get_livestream_channel_info"
routes = web.RouteTableDef()


@web.middleware
async def json_errors(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return json_response({"detail": exc.reason}, status=exc.status)


@web.middleware
async def serve_recorded(request: web.Request, handler):
    key = recorded.query_key(request.path, list(request.query.items()))
    response = world(request).recorded.get(key)
    if response is not None and request.method in ("GET", "HEAD"):
        return json_response(response)
    return await handler(request)


def not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(reason="Not Found")


def int_param(request: web.Request, name: str, default: int | None) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise web.HTTPBadRequest(reason=f"invalid {name}") from None
    if number < 0:
        raise web.HTTPBadRequest(reason=f"invalid {name}")
    return number


def category_ids(request: web.Request) -> set[int]:
    """`categories` may repeat and may be the JS artefact `NaN` (facts §1.6): a set of the
    values that parse as integers."""
    ids = set()
    for value in request.query.getall("categories", []):
        try:
            ids.add(int(value))
        except ValueError:
            pass
    return ids


def in_categories(w: World, rows: list[dict], ids: set[int]) -> list[dict]:
    if not ids:
        return rows
    names = set().union(*(w.category_names(i) for i in ids))
    return [r for r in rows if r.get("category_name") in names]


def page(request: web.Request, rows: list, default_limit: int | None) -> list:
    offset = int_param(request, "offset", 0)
    limit = int_param(request, "limit", default_limit)
    return rows[offset:] if limit is None else rows[offset : offset + limit]


def flag(request: web.Request, name: str, default: bool) -> bool:
    value = request.query.get(name)
    return default if value is None else value.lower() == "true"


@routes.get(PROFILE + "/livestream_calendar/events/categories")
async def categories(request):
    return json_response(world(request).categories)


@routes.get(PROFILE + "/livestream_calendar/events")
async def calendar(request):
    return json_response(page(request, world(request).calendar, 100))  # default UNKNOWN


@routes.get(PROFILE + "/featured_channels")
async def featured(request):
    return json_response(world(request).featured)


@routes.get(PROFILE + "/assets_prices/info")
async def prices(request):
    return json_response(world(request).prices)


@routes.get(CHANNEL_INFO + "/live")
async def live(request):
    w = world(request)
    rows = in_categories(w, w.live_rows, category_ids(request))
    return json_response(page(request, rows, 30))  # default limit UNKNOWN


@routes.get(CHANNEL_INFO + "/recent")
async def recent(request):
    """Ended streams (facts §1.6). Server semantics INFERRED: from_ts/to_ts bound the start
    time, date sort is by end time (as in every recorded sample), followed_only needs a login
    so an anonymous caller follows nobody."""
    w = world(request)
    rows = in_categories(w, w.pool, category_ids(request))
    if (user_id := int_param(request, "by_user_id", None)) is not None:
        rows = [r for r in rows if r["user_id"] == user_id]
    from_ts = int_param(request, "from_ts", None)
    to_ts = int_param(request, "to_ts", None)
    rows = [
        r
        for r in rows
        if (from_ts is None or r["event_start_ts"] >= from_ts)
        and (to_ts is None or r["event_start_ts"] <= to_ts)
    ]
    if flag(request, "followed_only", False):
        rows = []
    if flag(request, "top_views_sort", False):
        rows = sorted(rows, key=lambda r: r.get("total_viewers") or 0, reverse=True)
    else:
        desc = flag(request, "sort_by_date_desc", True)
        rows = sorted(rows, key=lambda r: r["event_end_ts"], reverse=desc)
    return json_response(page(request, rows, 15))  # default limit UNKNOWN


@routes.get(CHANNEL_INFO + r"/recent/{event_id:\d+}")
async def recent_event(request):
    event = world(request).event(int(request.match_info["event_id"]))
    if event is None:
        raise not_found()
    return json_response(event)


@routes.get(CHANNEL_INFO + r"/{user_id:\d+}")
async def channel_info(request):
    info = world(request).channel_info(int(request.match_info["user_id"]))
    if info is None:
        raise not_found()
    return json_response(info)


@routes.get(PROFILE + r"/user_profile/{user_id:\d+}")
async def user_profile(request):
    profile = world(request).profile(int(request.match_info["user_id"]))
    if profile is None:
        raise not_found()
    return json_response(profile)


def known_user(request: web.Request) -> int:
    user_id = int(request.match_info["user_id"])
    if user_id not in world(request).users:
        raise not_found()
    return user_id


@routes.get(PROFILE + r"/user_profile_feed/{user_id:\d+}")
async def user_feed(request):
    # The real frontend sends `?&limit=5`; an empty first parameter is simply ignored.
    user_id = known_user(request)
    return json_response(page(request, world(request).feed(user_id), 10))  # default UNKNOWN


@routes.get(PROFILE + "/get_user_by_social_media/{service}/{name}")
async def user_by_social_media(request):
    """A bare JSON number (facts §1.2). Discord names arrive as `name%23discriminator`, which
    the router has already decoded to `name#discriminator`. Exact, case-sensitive match."""
    key = (request.match_info["service"], request.match_info["name"])
    user_id = world(request).names.get(key)
    if user_id is None:
        raise not_found()
    return json_response(user_id)


@routes.get(PROFILE + r"/user_profile_chat/{user_id:\d+}/public")
async def public_chat(request):
    return json_response(world(request).chat(known_user(request)))


@routes.get(PROFILE + r"/livestream/moderators/{user_id:\d+}")
async def moderators(request):
    known_user(request)
    return json_response([])  # nobody has moderators here (shape of facts §1.9)


@routes.get(PROFILE + "/admin/global_mod/list")
async def global_mods(request):
    # Row shape of facts §1.9; which users are global mods is invented.
    user_id, user = 351819, world(request).users[351819]
    keys = ("user_name", "social_media", "social_username")
    return json_response([{"user_id": user_id, **{k: user[k] for k in keys}}])


@routes.get(PROFILE + r"/pinned_message/{user_id:\d+}")
async def pinned_message(request):
    """`[]`, or a list of `[user_name, message]` pairs (facts §1.9). One channel (the first
    live one) has a pinned message; the text is invented."""
    w = world(request)
    user_id = known_user(request)
    if user_id != w.live_rows[0]["user_id"]:
        return json_response([])
    name = w.users[user_id]["user_name"]
    message = {
        "chat_id": 4441829,
        "user_id": user_id,
        "user_name": name,
        "post_content": "Welcome! Be nice in chat.",
        "created_at": w.started_at - 3600,
    }
    return json_response([[name, message]])


@routes.get(PROFILE + r"/chat_settings/{user_id:\d+}")
async def chat_settings(request):
    user_id = known_user(request)
    return json_response(
        {
            "user_id": user_id,
            "show_timestamp": False,
            "username_color": "#FAC94C",
            "user_badges": [],
            "settings_hint_shown": False,
            "require_follow_to_chat": False,
        }
    )


@routes.get(PROFILE + r"/get_creator_passes_available/{user_id:\d+}")
async def creator_passes(request):
    known_user(request)
    return json_response([])


def make_app(sim) -> web.Application:
    app = new_app(sim, "api", faults.inject, json_errors, serve_recorded)
    app.add_routes(routes)
    return app
