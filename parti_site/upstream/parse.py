"""Raw JSON from parti -> typed records, tolerant of what facts.md lists.

Nulls, missing and extra keys, numbers as strings, empty `name` beside `display_name`,
URLs like `https://https://host/...` and placeholders are all expected. A single bad row
is skipped (and logged); a body of the wrong shape raises UpstreamError(UNEXPECTED_SHAPE).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .errors import Kind, UpstreamError
from .models import (
    AssetPrice,
    Category,
    ChannelInfo,
    ChatLine,
    Creator,
    FeaturedCreator,
    FeedPost,
    LiveChannel,
    Profile,
    Recording,
    ScheduledEvent,
)

log = logging.getLogger("parti_site.upstream")
T = TypeVar("T")

# --- field coercion ------------------------------------------------------------------------


def to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value):
        return int(value)
    return None


# Bidi embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069): invisible,
# and one in a name reverses the text after it ("NAME just went live" read backwards), so a
# name could make a toast or card say anything. Right-to-left scripts need none of them.
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def to_text(value: Any) -> str:
    """Text as parti sent it (titles keep their trailing spaces), never None, without bidi
    controls."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).translate(_BIDI_CONTROLS)


def to_name(value: Any) -> str | None:
    text = to_text(value).strip()
    return text or None


def to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def to_time(value: Any) -> datetime | None:
    """Unix seconds (int or numeric string) or an ISO-8601 string -> aware UTC datetime."""
    seconds = to_int(value)
    if seconds is not None:
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


_DOUBLED_SCHEME = re.compile(r"^(https?://)+(?=https?://)", re.IGNORECASE)


def to_url(value: Any) -> str | None:
    """An absolute http(s) URL, repaired where parti's data doubles the scheme, else None.

    Placeholders ("asset_url"), relative paths and junk like `javascript:` give None.
    """
    text = to_text(value).strip()
    if not text:
        return None
    text = _DOUBLED_SCHEME.sub("", text)
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(char.isspace() or ord(char) < 32 for char in text):
        return None
    return text


def to_path(value: Any) -> str | None:
    """A recording path: relative (the usual case) or absolute; placeholders kept as text."""
    text = to_text(value).strip()
    return text or None


# --- shapes --------------------------------------------------------------------------------


def expect_list(data: Any, what: str) -> list:
    if not isinstance(data, list):
        raise UpstreamError(Kind.UNEXPECTED_SHAPE, f"{what}: expected a list, got {_kind(data)}")
    return data


def expect_object(data: Any, what: str) -> dict:
    if not isinstance(data, dict):
        raise UpstreamError(Kind.UNEXPECTED_SHAPE, f"{what}: expected an object, got {_kind(data)}")
    return data


def _kind(data: Any) -> str:
    return type(data).__name__


def rows(data: Any, what: str, parse_row: Callable[[dict], T | None]) -> list[T]:
    """Parse a list body row by row; rows that are not objects or lack ids are skipped.

    When no row at all is usable, parti has changed its shape (a field renamed), and an
    empty list must not replace the last good copy: that is UNEXPECTED_SHAPE.
    """
    parsed = []
    body = expect_list(data, what)
    for index, row in enumerate(body):
        item = parse_row(row) if isinstance(row, dict) else None
        if item is None:
            log.warning("%s: skipped row %d with no usable id", what, index)
            continue
        parsed.append(item)
    if body and not parsed:
        raise UpstreamError(Kind.UNEXPECTED_SHAPE, f"{what}: none of {len(body)} rows is usable")
    return parsed


# --- records -------------------------------------------------------------------------------


def creator(row: dict) -> Creator | None:
    user_id = to_int(row.get("user_id"))
    if user_id is None:
        return None
    social_username = to_name(row.get("social_username"))
    name = to_name(row.get("user_name")) or social_username or f"User {user_id}"
    return Creator(
        user_id=user_id,
        name=name,
        avatar_url=to_url(row.get("avatar_link")),
        avatar_id=to_int(row.get("user_avatar_id")),
        social_media=to_name(row.get("social_media")),
        social_username=social_username,
        discord_discriminator=to_name(row.get("discord_discriminator")),
    )


def category(row: dict) -> Category | None:
    category_id = to_int(row.get("category_id"))
    if category_id is None:
        return None
    # `name` may be "" while `display_name` is set (facts.md §1.10); show display_name.
    name = to_name(row.get("display_name")) or to_name(row.get("name")) or f"#{category_id}"
    return Category(category_id=category_id, name=name)


def live_channel(row: dict) -> LiveChannel | None:
    owner = creator(row)
    if owner is None:
        return None
    return LiveChannel(
        creator=owner,
        event_id=to_int(row.get("event_id")),
        title=to_text(row.get("event_title")),
        thumbnail_url=to_url(row.get("event_file")),
        category=to_name(row.get("category_name")),
        viewers=to_int(row.get("viewers_count")),
        channel_arn=to_name(row.get("channel_arn")),
    )


def recording(row: dict) -> Recording | None:
    owner = creator(row)
    event_id = to_int(row.get("event_id"))
    if owner is None or event_id is None:
        return None
    return Recording(
        creator=owner,
        event_id=event_id,
        title=to_text(row.get("event_title")),
        thumbnail_url=to_url(row.get("event_file")),
        category=to_name(row.get("category_name")),
        started_at=to_time(row.get("event_start_ts")),
        ended_at=to_time(row.get("event_end_ts")),
        recording_path=to_path(row.get("livestream_recording")),
        total_viewers=to_int(row.get("total_viewers")),
        visibility=to_name(row.get("livestream_visibility_type")),
        has_access_pass=row.get("has_access_pass") is True,
    )


def scheduled_event(row: dict) -> ScheduledEvent | None:
    owner = creator(row)
    event_id = to_int(row.get("event_id"))
    if owner is None or event_id is None:
        return None
    return ScheduledEvent(
        event_id=event_id,
        creator=owner,
        category_id=to_int(row.get("category_id")),
        title=to_text(row.get("event_title")),
        description=to_text(row.get("event_description")),
        thumbnail_url=to_url(row.get("event_file")),
        starts_at=to_time(row.get("event_start_ts")),
        ends_at=to_time(row.get("event_end_ts")),
        visibility=to_name(row.get("livestream_visibility_type")),
    )


def featured_creator(row: dict) -> FeaturedCreator | None:
    owner = creator(row)
    if owner is None:
        return None
    return FeaturedCreator(
        creator=owner,
        ordinal=to_int(row.get("ordinal")),
        description=to_text(row.get("description")),
        background_url=to_url(row.get("background_link")),
        members=to_int(row.get("members")),
        channels_joined=to_int(row.get("channels_joined")),
    )


def asset_price(row: dict) -> AssetPrice | None:
    symbol = to_name(row.get("display_symbol")) or to_name(row.get("ticker"))
    if symbol is None:
        return None
    direction = to_name(row.get("direction"))
    return AssetPrice(
        asset_type=to_text(row.get("asset_type")),
        symbol=symbol,
        ticker=to_name(row.get("ticker")) or symbol,
        price=to_decimal(row.get("price")),
        direction=direction.lower() if direction and direction.lower() in ("up", "down") else None,
        price_diff=to_decimal(row.get("price_diff")),
    )


def profile(data: Any) -> Profile:
    row = expect_object(data, "user_profile")
    owner = creator(row)
    if owner is None:
        raise UpstreamError(Kind.UNEXPECTED_SHAPE, "user_profile: no user_id")
    return Profile(
        creator=owner,
        description=to_text(row.get("description")),
        members=to_int(row.get("members")),
        channels_joined=to_int(row.get("channels_joined")),
        background_url=to_url(row.get("background_link")),
    )


def channel_info(data: Any, user_id: int) -> ChannelInfo:
    row = expect_object(data, "channel_info")
    info = row.get("channel_info") if isinstance(row.get("channel_info"), dict) else {}
    channel = info.get("channel") if isinstance(info.get("channel"), dict) else {}
    stream = info.get("stream") if isinstance(info.get("stream"), dict) else {}
    event = (
        info.get("livestream_event_info")
        if isinstance(info.get("livestream_event_info"), dict)
        else {}
    )
    # Consumers use either flag (facts.md §1.4); live only when neither says otherwise.
    flags = [row.get("is_streaming_live_now"), channel.get("is_live")]
    is_live = any(flag is True for flag in flags) and not any(flag is False for flag in flags)
    return ChannelInfo(
        user_id=to_int(channel.get("user_id")) or user_id,
        is_live=is_live,
        livestream_id=to_int(channel.get("livestream_id")),
        event_id=to_int(channel.get("current_event_id")),
        title=to_text(event.get("event_name")),
        description=to_text(event.get("event_description")),
        preview_url=to_url(event.get("livestream_preview_file")),
        viewers=to_int(stream.get("viewer_count", stream.get("viewers_count"))),
        started_at=to_time(stream.get("start_time")),
        playback_url=to_url(channel.get("playback_url")) if is_live else None,
        playback_token=to_name(channel.get("playback_auth_token")) if is_live else None,
    )


def feed_post(row: dict) -> FeedPost | None:
    return FeedPost(
        feed_id=to_int(row.get("feed_id")),
        user_id=to_int(row.get("user_id")),
        content=to_text(row.get("post_content")),
        event_id=to_int(row.get("event_id")),
        created_at=to_time(row.get("created_at")),
        recording_path=to_path(row.get("livestream_recording")),
    )


def chat_line(row: dict) -> ChatLine | None:
    content = to_text(row.get("post_content"))
    notice: dict = {}
    if content.startswith("{"):
        try:
            decoded = json.loads(content)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            notice = {str(k): to_text(v) for k, v in decoded.items()}
    return ChatLine(
        chat_id=to_int(row.get("chat_id")),
        user_id=to_int(row.get("user_id")),
        user_name=to_name(row.get("user_name")) or "someone",
        content=content,
        created_at=to_time(row.get("created_at")),
        notice=notice,
    )


def user_id(data: Any) -> int:
    """The name lookup answers with a bare number (facts.md §1.2)."""
    number = to_int(data)
    if number is None or number <= 0:
        raise UpstreamError(
            Kind.UNEXPECTED_SHAPE, f"user lookup: expected a number, got {data!r}"[:120]
        )
    return number
