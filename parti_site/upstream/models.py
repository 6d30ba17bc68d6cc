"""Typed records of parti's data, as the pages use them.

Every text field is plain text (templates escape it); every URL is the upstream URL after
repair, or None. Times are aware UTC datetimes or None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Creator:
    user_id: int
    name: str
    avatar_url: str | None = None
    avatar_id: int | None = None
    social_media: str | None = None
    social_username: str | None = None
    discord_discriminator: str | None = None

    @property
    def parti_path(self) -> str | None:
        """The creator's page path on parti.com (Era A), which /creator/... mirrors."""
        if not self.social_media or not self.social_username:
            return None
        path = f"/creator/{self.social_media}/{self.social_username}"
        if self.social_media == "discord" and self.discord_discriminator is not None:
            path += f"/{self.discord_discriminator}"
        return path


@dataclass(frozen=True)
class Category:
    category_id: int
    name: str


@dataclass(frozen=True)
class LiveChannel:
    creator: Creator
    event_id: int | None
    title: str
    thumbnail_url: str | None
    category: str | None
    viewers: int | None
    channel_arn: str | None = None


@dataclass(frozen=True)
class Recording:
    """A recently ended stream (a /recent row, or one recording by event id)."""

    creator: Creator
    event_id: int
    title: str
    thumbnail_url: str | None
    category: str | None
    started_at: datetime | None
    ended_at: datetime | None
    recording_path: str | None
    total_viewers: int | None
    visibility: str | None = None
    has_access_pass: bool = False

    @property
    def duration_seconds(self) -> int | None:
        if self.started_at and self.ended_at and self.ended_at >= self.started_at:
            return int((self.ended_at - self.started_at).total_seconds())
        return None


@dataclass(frozen=True)
class ScheduledEvent:
    event_id: int
    creator: Creator
    category_id: int | None
    title: str
    description: str
    thumbnail_url: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    visibility: str | None = None


@dataclass(frozen=True)
class FeaturedCreator:
    creator: Creator
    ordinal: int | None
    description: str
    background_url: str | None
    members: int | None
    channels_joined: int | None


@dataclass(frozen=True)
class AssetPrice:
    asset_type: str
    symbol: str
    ticker: str
    price: Decimal | None
    direction: str | None  # "up" | "down" | None
    price_diff: Decimal | None


@dataclass(frozen=True)
class Profile:
    creator: Creator
    description: str
    members: int | None
    channels_joined: int | None
    background_url: str | None = None


@dataclass(frozen=True)
class ChannelInfo:
    """Per-channel live state (facts.md §1.4)."""

    user_id: int
    is_live: bool
    livestream_id: int | None = None
    event_id: int | None = None
    title: str = ""
    description: str = ""
    preview_url: str | None = None
    viewers: int | None = None
    started_at: datetime | None = None
    playback_url: str | None = None
    playback_token: str | None = None


@dataclass(frozen=True)
class FeedPost:
    feed_id: int | None
    user_id: int | None
    content: str
    event_id: int | None
    created_at: datetime | None
    recording_path: str | None


@dataclass(frozen=True)
class ChatLine:
    chat_id: int | None
    user_id: int | None
    user_name: str
    content: str
    created_at: datetime | None
    # parti puts raid/host notices in post_content as a JSON object (facts.md §1.9).
    notice: dict = field(default_factory=dict)
