"""Follows without an account: the visitor's follow list lives in one cookie, never here.

Cookie `follows`: user ids in base 36 joined by ".", in the order followed ("7gpe.9zb1").
Only characters a cookie value may hold unquoted, about five bytes a creator. Parsing is
strict and forgiving at once: anything that is not a positive id is dropped, duplicates
are dropped, at most `MAX_FOLLOWS` are read. The server keeps no record of who follows
whom; JavaScript reads the same cookie to highlight go-live toasts (static/js/follows.js).

Browsers keep about 4096 bytes per cookie: `MAX_BYTES` stays under that with room for the
name and attributes, and the pages warn from `WARN_BYTES` on rather than dropping follows.
Share links and feed URLs carry the same ids in decimal: `?ids=348242,593563`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

COOKIE = "follows"
MAX_BYTES = 3800
WARN_BYTES = 3000
MAX_FOLLOWS = 1000  # far above what MAX_BYTES holds; bounds the work of parsing
COOKIE_AGE = 400 * 24 * 3600  # the most browsers keep a cookie (Chrome caps at 400 days)
MAX_ID = 10**18

_B36 = re.compile(r"[0-9a-z]{1,12}")
_DECIMAL = re.compile(r"[1-9][0-9]{0,17}")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _b36(number: int) -> str:
    text = ""
    while number:
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
    return text or "0"


def _valid(number: int) -> bool:
    return 0 < number < MAX_ID


def _unique(ids: Iterable[int]) -> list[int]:
    seen: set[int] = set()
    kept = []
    for number in ids:
        if _valid(number) and number not in seen:
            seen.add(number)
            kept.append(number)
            if len(kept) >= MAX_FOLLOWS:
                break
    return kept


def parse_cookie(value: str | None) -> list[int]:
    """The ids in a `follows` cookie value; junk parts are left out."""
    if not value or len(value) > MAX_BYTES * 2:
        return []
    parts = value.split(".")
    return _unique(int(part, 36) for part in parts if _B36.fullmatch(part))


def cookie_value(ids: Iterable[int]) -> str:
    return ".".join(_b36(number) for number in _unique(ids))


def parse_ids(text: str | None) -> list[int]:
    """Decimal ids as in `?ids=1,2,3` or an export file: separated by commas, spaces or
    new lines; anything else is left out."""
    if not text:
        return []
    parts = re.split(r"[\s,;]+", text[: MAX_FOLLOWS * 20])
    return _unique(int(part) for part in parts if _DECIMAL.fullmatch(part))


def ids_text(ids: Iterable[int]) -> str:
    return ",".join(str(number) for number in ids)


@dataclass(frozen=True)
class Room:
    """How full the cookie is."""

    used: int  # bytes of the cookie value
    count: int

    @property
    def full(self) -> bool:
        return self.used > MAX_BYTES

    @property
    def near(self) -> bool:
        return self.used >= WARN_BYTES

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / MAX_BYTES))

    @property
    def left(self) -> int:
        """About how many more creators fit (ids of this size)."""
        each = (self.used / self.count) if self.count else 8
        return max(0, int((MAX_BYTES - self.used) // max(each, 1)))


def room(ids: list[int]) -> Room:
    return Room(used=len(cookie_value(ids)), count=len(ids))


def fits(ids: list[int]) -> bool:
    return not room(ids).full


def read(request) -> list[int]:
    """The visitor's follows, parsed once per request."""
    cached = getattr(request, "_parti_follows", None)
    if cached is None:
        cached = parse_cookie(request.COOKIES.get(COOKIE))
        request._parti_follows = cached
    return cached


def write(request, response, ids: list[int]) -> None:
    """Set the cookie (or delete it when empty). Not HttpOnly: follows.js reads it."""
    request._parti_follows = list(ids)
    if not ids:
        response.delete_cookie(COOKIE, samesite="Lax")
        return
    response.set_cookie(
        COOKIE,
        cookie_value(ids),
        max_age=COOKIE_AGE,
        samesite="Lax",
        secure=getattr(settings, "SESSION_COOKIE_SECURE", False),
    )


def followed(ids: list[int], user_id: int) -> bool:
    return user_id in ids


def add(ids: list[int], user_id: int) -> list[int]:
    return ids if user_id in ids else [*ids, user_id]


def remove(ids: list[int], user_id: int) -> list[int]:
    return [number for number in ids if number != user_id]


def merge(ids: list[int], more: Iterable[int]) -> tuple[list[int], list[int]]:
    """`ids` with `more` appended as long as the cookie has room: (kept, left out)."""
    kept, left_out = list(ids), []
    for number in _unique(more):
        if number in kept:
            continue
        if fits([*kept, number]):
            kept.append(number)
        else:
            left_out.append(number)
    return kept, left_out
