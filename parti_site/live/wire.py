"""The live wire formats, in one place: channel-layer group names, the one event type the
consumers handle, the JSON payloads browsers receive, and the readers that turn parti's
untrusted push frames into records (reusing upstream.parse's row parsers).

Browsers get plain data, never HTML: static/js/live.js builds the DOM with textContent.

Payloads (every one has a `kind`):

    {"kind": "golive",    "channel": CHANNEL}                  grid: someone just went live
    {"kind": "live_list", "channels": [CHANNEL, ...]}          grid: resync after a reconnect
    {"kind": "viewers",   "user_id": 1, "viewers": 12}         grid and watch page
    {"kind": "prices",    "prices": [PRICE, ...]}              ticker (one row or all)
    {"kind": "chat",      "user_id": 1, "lines": [LINE, ...]}  watch page, oldest first
    {"kind": "chat_history", "user_id": 1, "lines": [LINE, ...], "unavailable": false}

    CHANNEL = {"user_id", "name", "title", "category", "viewers", "thumbnail", "avatar",
               "watch_url", "profile_url"}       (images are our signed /img/ URLs or null)
    PRICE   = {"symbol", "ticker", "asset_type", "price", "direction", "price_diff"}
              (price and price_diff are decimal strings or null; direction "up"|"down"|null)
    LINE    = {"chat_id", "user_id", "user_name", "text", "time", "notice"}
              (time ISO-8601 or null; notice true for system lines, whose text we wrote)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse

from parti_site.media.images import image_url
from parti_site.upstream import parse
from parti_site.upstream.models import AssetPrice, ChatLine, LiveChannel

log = logging.getLogger("parti_site.live")

# --- channel-layer groups ------------------------------------------------------------------
# Names allow ASCII letters, digits, hyphens, underscores and periods, under 100 characters.
GRID = "live.grid"  # go-live, live list, viewer counts: home and /live
PRICES = "live.prices"  # the ticker on every page
RELAY = "live.relay"  # the lease holder's relay only: watch interest from every process

# The one message type consumers handle (method `live_event`); the payload rides in "event".
EVENT = "live.event"
# Sent by every process's relay to RELAY: the channels its browsers watch.
INTEREST = "relay.interest"


def watch_group(user_id: int) -> str:
    """Chat and viewer count of one channel, for its watch pages."""
    return f"live.watch.{int(user_id)}"


def message(payload: dict) -> dict:
    """A channel-layer message carrying one browser payload."""
    return {"type": EVENT, "event": payload}


# --- payloads ------------------------------------------------------------------------------


def _url(name: str, user_id: int, fallback: str) -> str:
    try:
        return reverse(name, args=[user_id])
    except NoReverseMatch:
        return fallback


def _default_avatar() -> str | None:
    try:
        return static("img/avatar.svg")
    except ValueError:  # the manifest lacks it (collectstatic not run)
        return None


def channel(live: LiveChannel) -> dict:
    uid = live.creator.user_id
    return {
        "user_id": uid,
        "name": live.creator.name,
        "title": live.title,
        "category": live.category,
        "viewers": live.viewers,
        "thumbnail": image_url(live.thumbnail_url),
        "avatar": image_url(live.creator.avatar_url) or _default_avatar(),
        "watch_url": _url("pages:watch", uid, f"/watch/{uid}"),
        "profile_url": _url("pages:profile", uid, f"/profile/{uid}"),
    }


def golive(live: LiveChannel) -> dict:
    return {"kind": "golive", "channel": channel(live)}


def live_list(channels: Iterable[LiveChannel]) -> dict:
    return {"kind": "live_list", "channels": [channel(c) for c in channels]}


def viewers(user_id: int, count: int) -> dict:
    return {"kind": "viewers", "user_id": user_id, "viewers": count}


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def price(row: AssetPrice) -> dict:
    return {
        "symbol": row.symbol,
        "ticker": row.ticker,
        "asset_type": row.asset_type,
        "price": _decimal(row.price),
        "direction": row.direction,
        "price_diff": _decimal(row.price_diff),
    }


def prices(rows: Iterable[AssetPrice]) -> dict:
    return {"kind": "prices", "prices": [price(r) for r in rows]}


def notice_text(notice: dict) -> str:
    """A system line (JSON in post_content, facts.md §1.9) as words. The raid/host notice
    carries channel_from_name and channel_to_name; its exact meaning is UNKNOWN."""
    source, target = notice.get("channel_from_name"), notice.get("channel_to_name")
    if source and target:
        return f"{source} → {target}"
    return ", ".join(f"{key}: {value}" for key, value in notice.items() if value) or "notice"


def chat_line(line: ChatLine) -> dict:
    return {
        "chat_id": line.chat_id,
        "user_id": line.user_id,
        "user_name": line.user_name,
        "text": notice_text(line.notice) if line.notice else line.content,
        "time": line.created_at.isoformat() if line.created_at else None,
        "notice": bool(line.notice),
    }


def chat(user_id: int, lines: Iterable[ChatLine]) -> dict:
    return {"kind": "chat", "user_id": user_id, "lines": [chat_line(x) for x in lines]}


def chat_history(user_id: int, newest_first: list[ChatLine] | None) -> dict:
    """History as parti lists it (newest first) -> oldest first; None when unavailable."""
    lines = list(reversed(newest_first or []))
    return {
        "kind": "chat_history",
        "user_id": user_id,
        "lines": [chat_line(x) for x in lines],
        "unavailable": newest_first is None,
    }


# --- readers for parti's push frames -------------------------------------------------------
# Frames carry no topic (facts.md §2.3): the relay knows the topic from the socket, so each
# reader only checks that the frame has the shape that topic's frames have. Anything else
# gives an empty result and the caller logs and drops it.


def _objects(frame: Any) -> list[dict]:
    if isinstance(frame, dict):
        return [frame]
    if isinstance(frame, list):
        return [item for item in frame if isinstance(item, dict)]
    return []


def read_golive(frame: Any) -> list[LiveChannel]:
    """NewChannelLiveNotify: flat objects with (at least) user_id, event_id, channel_arn."""
    found = []
    for row in _objects(frame):
        if parse.to_int(row.get("event_id")) is None or not parse.to_name(row.get("channel_arn")):
            continue
        live = parse.live_channel(row)
        if live is not None:
            found.append(live)
    return found


def read_prices(frame: Any) -> list[AssetPrice]:
    """AssetPriceRefreshNotify (shape UNKNOWN): the assets_prices array, one row of it, or
    an object wrapping such an array. An empty result means "refetch the prices"."""
    rows = _objects(frame)
    if isinstance(frame, dict) and not ("display_symbol" in frame or "price" in frame):
        nested = [v for v in frame.values() if isinstance(v, list)]
        rows = [item for value in nested for item in _objects(value)]
    found = []
    for row in rows:
        if "price" not in row:
            continue
        parsed = parse.asset_price(row)
        if parsed is not None and parsed.price is not None:
            found.append(parsed)
    return found


def read_chat(frame: Any) -> list[ChatLine]:
    """ChatPublic (shape UNKNOWN; INFERRED: public-chat rows): objects with post_content."""
    found = []
    for row in _objects(frame):
        if "post_content" not in row or not isinstance(row.get("post_content"), str):
            continue
        line = parse.chat_line(row)
        if line is not None:
            found.append(line)
    return found


def read_viewers(frame: Any, livestream_id: int | None) -> int | None:
    """LivestreamLiveViewersUpdate (shape UNKNOWN): an object with a viewer count under
    `viewers_count` or `viewer_count` (and livestream_id, which must match when present),
    or a bare number."""
    if isinstance(frame, int) and not isinstance(frame, bool):
        return frame if frame >= 0 else None
    if not isinstance(frame, dict):
        return None
    frame_id = parse.to_int(frame.get("livestream_id"))
    if frame_id is not None and livestream_id is not None and frame_id != livestream_id:
        return None
    for key in ("viewers_count", "viewer_count"):
        count = parse.to_int(frame.get(key))
        if count is not None and count >= 0:
            return count
    return None
