"""A visitor's preferences, in one cookie and nowhere else (no account).

Cookie `prefs`: `key:value` pairs joined by "|", e.g. `t:dark|q:720p|s:proxied|h:10.12`.

    t  theme: "light" or "dark" (absent: follow the system)   -> <html data-theme>
    q  default quality, as the player names levels ("720p")   -> [data-player] attribute
    s  "proxied": video segments through this server too, where the instance allows
       viewers the choice (settings.ALLOW_VIEWER_PROXIED); media/modes.py reads it
    h  hidden category ids, "." separated                      -> lists leave them out

Unknown keys and bad values are ignored, so an old or edited cookie never breaks a page.
Here because pages (settings page, templates) and media (segment mode) both read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings

COOKIE = "prefs"
COOKIE_AGE = 400 * 24 * 3600
THEMES = ("system", "light", "dark")
QUALITIES = ("", "1080p60", "1080p", "720p60", "720p", "480p", "360p", "160p")
MAX_HIDDEN = 50

_ID = re.compile(r"[1-9][0-9]{0,9}")


@dataclass(frozen=True)
class Preferences:
    theme: str = "system"
    quality: str = ""
    proxied: bool = False
    hidden: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_default(self) -> bool:
        return self == Preferences()


def _ids(text: str) -> frozenset[int]:
    ids = [int(part) for part in text.split(".")[:MAX_HIDDEN] if _ID.fullmatch(part)]
    return frozenset(ids)


def parse(value: str | None) -> Preferences:
    if not value or len(value) > 2000:
        return Preferences()
    found: dict = {}
    for pair in value.split("|"):
        key, _, text = pair.partition(":")
        if key == "t" and text in THEMES:
            found["theme"] = text
        elif key == "q" and text in QUALITIES:
            found["quality"] = text
        elif key == "s" and text == "proxied":
            found["proxied"] = True
        elif key == "h":
            found["hidden"] = _ids(text)
    return Preferences(**found)


def serialize(prefs: Preferences) -> str:
    parts = []
    if prefs.theme in THEMES and prefs.theme != "system":
        parts.append(f"t:{prefs.theme}")
    if prefs.quality in QUALITIES and prefs.quality:
        parts.append(f"q:{prefs.quality}")
    if prefs.proxied:
        parts.append("s:proxied")
    if prefs.hidden:
        parts.append("h:" + ".".join(str(i) for i in sorted(prefs.hidden)[:MAX_HIDDEN]))
    return "|".join(parts)


def read(request) -> Preferences:
    if request is None:
        return Preferences()
    cached = getattr(request, "_parti_prefs", None)
    if cached is None:
        cached = parse(getattr(request, "COOKIES", {}).get(COOKIE))
        request._parti_prefs = cached
    return cached


def write(request, response, prefs: Preferences) -> None:
    request._parti_prefs = prefs
    value = serialize(prefs)
    if not value:
        response.delete_cookie(COOKIE, samesite="Lax")
        return
    response.set_cookie(
        COOKIE,
        value,
        max_age=COOKIE_AGE,
        samesite="Lax",
        httponly=True,
        secure=getattr(settings, "SESSION_COOKIE_SECURE", False),
    )


def viewer_may_choose_proxied() -> bool:
    return bool(getattr(settings, "ALLOW_VIEWER_PROXIED", True))


def wants_proxied(request) -> bool:
    """The viewer asked for proxied segments, and the instance lets viewers choose."""
    return request is not None and viewer_may_choose_proxied() and read(request).proxied
