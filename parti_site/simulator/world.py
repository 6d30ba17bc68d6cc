"""The simulated parti's state: users, channels, events and recordings, built from the recorded
responses (recorded.py) plus the facts of facts.md. No I/O and no HTTP here.

Principle: list endpoints serve recorded rows as recorded (placeholders such as "asset_url"
included); per-item endpoints (profile, channel info, one event, feed) serve what the real
service would, with invented but well-formed values where the recording has placeholders.
Every invented value is deterministic (derived from ids by hashing), so responses are stable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import recorded

ACCOUNT = "455030909228"  # parti's AWS account (facts §3.1)
REGION = "eu-west-1"
PROFILE = "/parti_v2/profile"
BOT_USER_ID, BOT_NAME = 457269, "BabbleChat"  # the chat bot of facts §1.9
# The recorded placeholders for images; synthesized data replaces them with real files.
PLACEHOLDER_IMAGES = {
    "asset_url",
    "https://assets.parti.com/asset.png",
    "https://assets.parti.com/asset.jpeg",
}
# Key order of a /recent row (facts §1.6), used to complete trimmed rows.
RECENT_KEYS = (
    "user_id user_name user_avatar_id avatar_link livestream_visibility_type event_id "
    "event_title event_file event_start_ts event_end_ts livestream_recording category_name "
    "social_media social_username discord_discriminator has_access_pass total_viewers"
).split()
# What we remember about a user, first value seen wins (featured rows come first).
USER_KEYS = (
    "user_name user_avatar_id avatar_link social_media social_username discord_discriminator "
    "description members channels_joined background_link"
).split()
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def digest(*parts: object) -> bytes:
    return hashlib.sha256(":".join(map(str, parts)).encode()).digest()


def alnum_id(*parts: object, length: int = 12) -> str:
    """An IVS-style 12-character id (channel id, recording id) derived from parts."""
    number = int.from_bytes(digest(*parts), "big")
    chars = []
    for _ in range(length):
        number, rest = divmod(number, len(ALNUM))
        chars.append(ALNUM[rest])
    return "".join(chars)


def small_int(*parts: object, modulo: int) -> int:
    return int.from_bytes(digest(*parts)[:4], "big") % modulo


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def iso(ts: float, millis: bool = False) -> str:
    moment = datetime.fromtimestamp(ts, UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Urls:
    """Base URLs (no trailing slash) of the simulated hosts."""

    api: str
    ws: str
    playback: str
    variant: str
    segment: str
    vod: str
    assets: str
    control: str


@dataclass
class Channel:
    """A user's persistent IVS channel (facts §1.4 `channel_info.channel`)."""

    user_id: int
    livestream_id: int
    channel_id: str
    created_at: int
    live: bool = False
    # Only meaningful while live:
    event_id: int | None = None
    event_title: str = ""
    event_description: str = ""
    viewers: int = 0
    started_at: float = 0.0  # Unix seconds; the live media sequence counts from here
    preview_file: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:ivs:{REGION}:{ACCOUNT}:channel/{self.channel_id}"

    @property
    def stream_id(self) -> str:
        return "st-" + alnum_id("stream", self.channel_id, self.started_at, length=24)


@dataclass(frozen=True)
class Recording:
    """One IVS auto-record of an event, under `{prefix}media/hls/` on the VOD host."""

    event_id: int
    channel_id: str
    started_at: int
    recording_id: str

    @property
    def prefix(self) -> str:
        t = datetime.fromtimestamp(self.started_at, UTC)
        # IVS S3 layout, no zero padding (facts §3.2).
        return (
            f"ivs/v1/{ACCOUNT}/{self.channel_id}/{t.year}/{t.month}/{t.day}/{t.hour}/"
            f"{t.minute}/{self.recording_id}/"
        )

    @property
    def path(self) -> str:
        return self.prefix + "media/hls/master.m3u8"


@dataclass
class World:
    urls: Urls
    secret: bytes
    token_lifetime: float = 300.0  # UNKNOWN for parti; "a few minutes" so expiry is testable
    clock_offset: float = 0.0  # moved by the control plane to test time-dependent behaviour
    started_at: int = field(default_factory=lambda: int(time.time()))
    # Off: the calendar exactly as recorded (all past by now). On (`make demo`): moved so
    # the recording's moment is now, see schedule_from_now().
    schedule_from_now: bool = False

    def __post_init__(self) -> None:
        self.recorded = recorded.by_key()
        entries = {e["path"].split("?")[0].removeprefix(PROFILE): e for e in recorded.entries()}
        self.categories: list[dict] = entries["/livestream_calendar/events/categories"]["response"]
        self.live_rows: list[dict] = entries["/get_livestream_channel_info/live"]["response"]
        self.calendar: list[dict] = entries["/livestream_calendar/events"]["response"]
        if self.schedule_from_now:
            self.calendar = schedule_from_now(self.calendar, self.started_at)
            for key in self.recorded:  # the recorded query answers moved alike
                if key[0] == PROFILE + "/livestream_calendar/events":
                    self.recorded[key] = schedule_from_now(self.recorded[key], self.started_at)
        self.featured: list[dict] = entries["/featured_channels"]["response"]
        self.prices: list[dict] = entries["/assets_prices/info"]["response"]
        self.recorded_profiles = {
            e["response"]["user_id"]: e["response"]
            for e in recorded.entries()
            if e["path"].startswith(PROFILE + "/user_profile/")
        }
        recent_lists = [
            e["response"]
            for e in recorded.entries()
            if e["path"].startswith(PROFILE + "/get_livestream_channel_info/recent?")
        ]
        self.assets: dict[str, tuple[str, int, int]] = {}  # file name -> (seed, width, height)
        self._collect_users(recent_lists)
        self._build_channels()
        self._build_pool(recent_lists)

    # --- time and tokens -------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def sign(self, text: str, length: int = 16) -> str:
        return b64(hmac.new(self.secret, text.encode(), hashlib.sha256).digest())[:length]

    def make_token(self, channel_id: str, lifetime: float | None = None) -> str:
        """A playback token in the shape of an IVS playback JWT (facts §3.1), signed with our
        own HMAC key instead of ES384. Claims: channel ARN, allowed origin, expiry."""
        exp = int(self.now() + (self.token_lifetime if lifetime is None else lifetime))
        header = b64(b'{"alg":"HS384","typ":"JWT"}')
        claims = {
            "aws:channel-arn": f"arn:aws:ivs:{REGION}:{ACCOUNT}:channel/{channel_id}",
            "aws:access-control-allow-origin": "https://parti.com",
            "exp": exp,
        }
        payload = b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self.secret, f"{header}.{payload}".encode(), hashlib.sha384)
        return f"{header}.{payload}.{b64(signature.digest())}"

    def check_token(self, token: str, channel_id: str) -> bool:
        try:
            header, payload, signature = token.split(".")
            expected = hmac.new(self.secret, f"{header}.{payload}".encode(), hashlib.sha384)
            if not hmac.compare_digest(b64(expected.digest()), signature):
                return False
            claims = json.loads(unb64(payload))
        except (ValueError, TypeError):  # TypeError: non-ASCII text in compare_digest
            return False
        return (
            claims.get("aws:channel-arn", "").endswith("/" + channel_id)
            and isinstance(claims.get("exp"), int)
            and claims["exp"] > self.now()
        )

    # --- assets ------------------------------------------------------------------------------

    def asset_url(self, user_id: int, purpose: str, size: tuple[int, int] = (320, 180)) -> str:
        """An image on the asset host named like parti's: `{user_id}_{uuid}.png` (facts §3.3)."""
        name = f"{user_id}_{uuid.UUID(bytes=digest(user_id, purpose)[:16], version=4)}.png"
        self.assets[name] = (f"{user_id}:{purpose}", *size)
        return f"{self.urls.assets}/{name}"

    def real_image(self, value: str | None, user_id: int, purpose: str, size=(320, 180)):
        if value in PLACEHOLDER_IMAGES:
            return self.asset_url(user_id, purpose, size)
        return value

    # --- building ----------------------------------------------------------------------------

    def _collect_users(self, recent_lists: list[list[dict]]) -> None:
        self.users: dict[int, dict] = {}
        rows = [
            *self.featured,
            *self.live_rows,
            *(row for rows in recent_lists for row in rows),
            *self.calendar,
            *self.recorded_profiles.values(),
        ]
        for row in rows:
            user = self.users.setdefault(row["user_id"], {})
            for key in USER_KEYS:
                if key in row and key not in user:
                    user[key] = row[key]
        # Name -> id lookup (facts §1.2). Discord names carry "#discriminator".
        self.names: dict[tuple[str, str], int] = {}
        for user_id, user in self.users.items():
            service, name = user.get("social_media"), user.get("social_username")
            if service is None or name is None:
                # Calendar-only users: no social fields recorded. INFERRED: a parti account.
                service, name = "parti", user["user_name"]
                user.update(social_media=service, social_username=name)
            if service == "discord" and user.get("discord_discriminator") is not None:
                name = f"{name}#{user['discord_discriminator']}"
            self.names[(service, name)] = user_id

    def _build_channels(self) -> None:
        self.channels: dict[int, Channel] = {}  # by user id
        live = {row["user_id"]: row for row in self.live_rows}
        for index, user_id in enumerate(sorted(self.users)):
            row = live.get(user_id)
            channel = Channel(
                user_id=user_id,
                livestream_id=7800 + index,  # UNKNOWN numbering; unique and stable
                channel_id=(
                    row["channel_arn"].rsplit("/", 1)[1] if row else alnum_id("ch", user_id)
                ),
                created_at=1716000000 + small_int("created", user_id, modulo=20_000_000),
            )
            self.channels[user_id] = channel
        for rank, row in enumerate(self.live_rows):
            channel = self.channels[row["user_id"]]
            channel.live = True
            channel.event_id = row["event_id"]
            channel.event_title = row["event_title"]
            # UNKNOWN: the event description; the featured description if any.
            channel.event_description = self.users[row["user_id"]].get("description") or ""
            channel.viewers = row["viewers_count"]
            channel.started_at = self.started_at - 1800 - 600 * rank
            channel.preview_file = self.asset_url(row["user_id"], "preview")

    def _build_pool(self, recent_lists: list[list[dict]]) -> None:
        """All recorded /recent rows, one per event (the fullest version of each)."""
        chosen: dict[int, dict] = {}
        for rows in recent_lists:
            for row in rows:
                current = chosen.get(row["event_id"])
                if current is None or len(row) > len(current):
                    chosen[row["event_id"]] = row
        self.pool: list[dict] = []
        self.recordings: dict[str, Recording] = {}  # by prefix
        self.recording_of_event: dict[int, Recording] = {}
        for event_id, row in chosen.items():
            start = row.get("event_start_ts")
            if start is None:  # trimmed row (categories=NaN sample); UNKNOWN start, invented
                start = row["event_end_ts"] - 3600 - small_int("dur", event_id, modulo=3600)
            recording = Recording(
                event_id=event_id,
                channel_id=self.channels[row["user_id"]].channel_id,
                started_at=start,
                recording_id=alnum_id("rec", event_id),
            )
            self.recordings[recording.prefix] = recording
            self.recording_of_event[event_id] = recording
            self.pool.append(self._complete_row(row, start, recording))

    def _complete_row(self, row: dict, start: int, recording: Recording) -> dict:
        """Fill the keys a trimmed recorded row lacks (invented values); keep the others."""
        if all(key in row for key in RECENT_KEYS):
            return row
        user = self.users[row["user_id"]]
        defaults = {
            "user_avatar_id": user.get(
                "user_avatar_id", small_int("av", row["user_id"], modulo=12)
            ),
            "avatar_link": user.get("avatar_link"),
            "livestream_visibility_type": "Public",
            "event_file": self.asset_url(row["user_id"], f"event-{row['event_id']}"),
            "event_start_ts": start,
            "livestream_recording": recording.path,
            "social_media": user["social_media"],
            "social_username": user["social_username"],
            "discord_discriminator": user.get("discord_discriminator"),
            "has_access_pass": False,
        }
        return {key: row[key] if key in row else defaults[key] for key in RECENT_KEYS}

    # --- queries -----------------------------------------------------------------------------

    def category_names(self, category_id: int) -> set[str]:
        for category in self.categories:
            if category["category_id"] == category_id:
                return {n for n in (category["name"], category["display_name"]) if n}
        return set()

    def event(self, event_id: int) -> dict | None:
        """One ended event, as `recent/{event_id}` returns it (facts §1.7)."""
        for row in self.pool:
            if row["event_id"] == event_id:
                return {**row, "livestream_recording": self.recording_of_event[event_id].path}
        return None

    def profile(self, user_id: int) -> dict | None:
        if user_id in self.recorded_profiles:
            return self.recorded_profiles[user_id]
        user = self.users.get(user_id)
        if user is None:
            return None
        # Keys of facts §1.3; members/channels_joined invented (UNKNOWN) unless featured.
        return {
            "user_id": user_id,
            "user_name": user["user_name"],
            "user_avatar_id": user.get("user_avatar_id", small_int("av", user_id, modulo=12)),
            "avatar_link": self.real_image(user.get("avatar_link"), user_id, "avatar", (128, 128)),
            "channels_joined": user.get("channels_joined", small_int("cj", user_id, modulo=40)),
            "members": user.get("members", small_int("m", user_id, modulo=900)),
            "description": user.get("description"),
            "social_media": user["social_media"],
            "social_username": user["social_username"],
            # INFERRED (facts §1.3): likely present, as in featured rows.
            "background_link": self.real_image(
                user.get("background_link"), user_id, "background", (640, 160)
            ),
            "discord_discriminator": user.get("discord_discriminator"),
        }

    def channel_info(self, user_id: int) -> dict | None:
        """`get_livestream_channel_info/{user_id}` (facts §1.4)."""
        channel = self.channels.get(user_id)
        if channel is None:
            return None
        if not channel.live:
            return {
                "status": "Public",
                "channel_info": {
                    "channel": {
                        "livestream_id": channel.livestream_id,
                        "user_id": user_id,
                        "is_live": False,
                    },
                    "visibility_type": "Public",
                },
                "is_streaming_live_now": False,
            }
        return {
            "status": "Public",
            "is_moderator": None,
            "channel_info": {
                "channel": {
                    "livestream_id": channel.livestream_id,
                    "user_id": user_id,
                    "channel_arn": channel.arn,
                    "ingest_endpoint": "",  # never a real secret
                    "playback_url": self.playback_url(channel.channel_id),
                    "playback_auth_token": self.make_token(channel.channel_id),
                    "stream_key_arn": "",
                    "stream_key": "",
                    "created_at": channel.created_at,
                    "is_live": True,
                    "current_event_id": channel.event_id,
                },
                "stream": {
                    "health": "HEALTHY",
                    "start_time": iso(channel.started_at),
                    "state": "LIVE",
                    "stream_id": channel.stream_id,
                    "viewer_count": channel.viewers,
                },
                "visibility_type": "Public",
                "livestream_event_info": {
                    "livestream_preview_file": channel.preview_file,
                    "event_name": channel.event_title,
                    "event_description": channel.event_description,
                },
            },
            "is_streaming_live_now": True,
        }

    def playback_url(self, channel_id: str) -> str:
        return f"{self.urls.playback}/api/video/v1/{REGION}.{ACCOUNT}.channel.{channel_id}.m3u8"

    def channel_by_id(self, channel_id: str) -> Channel | None:
        for channel in self.channels.values():
            if channel.channel_id == channel_id:
                return channel
        return None

    def feed(self, user_id: int) -> list[dict]:
        """`user_profile_feed/{user_id}` (facts §1.8): one post per ended broadcast, newest
        first. INFERRED: post_content is the event title; feed ids invented."""
        rows = sorted(
            (r for r in self.pool if r["user_id"] == user_id),
            key=lambda r: r["event_end_ts"],
            reverse=True,
        )
        return [
            {
                "feed_id": 90000 + small_int("feed", r["event_id"], modulo=9000),
                "user_id": user_id,
                "post_content": r["event_title"],
                "event_id": r["event_id"],
                "created_at": r["event_end_ts"],
                "livestream_recording": self.recording_of_event[r["event_id"]].path,
            }
            for r in rows
        ]

    def chat(self, user_id: int) -> list[dict]:
        """`user_profile_chat/{user_id}/public` (facts §1.9): newest first, with a bot line and
        a system line whose post_content is itself JSON. Texts invented."""
        owner = self.users[user_id]["user_name"]
        others = [u for u in sorted(self.users) if u != user_id][:2]
        other_names = [self.users[u]["user_name"] for u in others]
        base, t = 4_470_000 + small_int("chat", user_id, modulo=9000) * 10, self.started_at
        lines = [
            (user_id, owner, "thanks for coming by "),
            (others[0], other_names[0], "hi chat 👋"),
            (BOT_USER_ID, BOT_NAME, f"{owner}, You have leveled up the Streamers level to 2903!"),
            (
                user_id,
                owner,
                json.dumps({"channel_from_name": owner, "channel_to_name": other_names[1]}),
            ),
            (others[1], other_names[1], "first"),
        ]
        return [
            {
                "chat_id": base - i,
                "user_id": uid,
                "user_name": name,
                "post_content": text,
                "created_at": t - 8 * i,
            }
            for i, (uid, name, text) in enumerate(lines)
        ]


def schedule_from_now(events: list[dict], now: int) -> list[dict]:
    """The recorded calendar moved in time, keeping every gap and duration: its first event
    starts `now`. The recording was taken around that first start (INFERRED: the others lie
    from a day to 18 months after it), so the demo's schedule looks as parti's did then,
    one stream under way and the rest upcoming, instead of entirely past."""
    starts = [e["event_start_ts"] for e in events if isinstance(e.get("event_start_ts"), int)]
    if not starts:
        return events
    shift = now - min(starts)
    moved = []
    for event in events:
        event = dict(event)
        for key in ("event_start_ts", "event_end_ts"):
            if isinstance(event.get(key), int):
                event[key] += shift
        moved.append(event)
    return moved
