"""Filters that only format values for the page: `{% load parti %}`.

image     an upstream image URL -> the URL to put in the page, or None (show a placeholder)
compact   12516 -> "12.5k"
duration  seconds -> "1:02:03" / "4:05"
ago       a datetime -> "3 hours ago" / "in 2 days"
price     Decimal("103510") -> "103,510"; Decimal("645.66") -> "645.66"
price_mark "up" -> "▲", "down" -> "▼"
"""

from __future__ import annotations

import importlib
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils import timezone

register = template.Library()

_image_url = None


def _image_function():
    """media.images.image_url, imported lazily: until that module exists, no images."""
    global _image_url
    if _image_url is None:
        try:
            _image_url = importlib.import_module("parti_site.media.images").image_url
        except (ImportError, AttributeError):
            return None
    return _image_url


@register.filter
def image(upstream_url: str | None) -> str | None:
    """The URL to emit for an upstream image; None when it cannot be shown."""
    function = _image_function()
    if function is None or not upstream_url:
        return None
    return function(upstream_url)


_SUFFIXES = ("", "k", "M", "B")


@register.filter
def compact(number) -> str:
    """Viewer and member counts as people read them: 951, 12.5k, 1.3M."""
    if number is None or isinstance(number, bool):
        return ""
    try:
        value = int(number)
    except (TypeError, ValueError):
        return ""
    sign, value = ("-" if value < 0 else ""), abs(value)
    if value < 1000:
        return f"{sign}{value}"
    scaled, unit = Decimal(value), 0
    while scaled >= 1000 and unit < len(_SUFFIXES) - 1:
        scaled, unit = scaled / 1000, unit + 1
    step = Decimal("0.1") if scaled < 100 else Decimal("1")
    rounded = scaled.quantize(step, rounding=ROUND_HALF_UP)
    # 999_950 would read "1000k": move up a unit instead.
    if rounded >= 1000 and unit < len(_SUFFIXES) - 1:
        rounded, unit = (scaled / 1000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), unit + 1
    return f"{sign}{str(rounded).removesuffix('.0')}{_SUFFIXES[unit]}"


@register.filter
def duration(seconds) -> str:
    if seconds is None or isinstance(seconds, bool):
        return ""
    try:
        total = int(seconds)
    except (TypeError, ValueError):
        return ""
    if total < 0:
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


_UNITS = (
    (365 * 86400, "year"),
    (30 * 86400, "month"),
    (7 * 86400, "week"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)


@register.filter
def ago(when: datetime | None) -> str:
    if not isinstance(when, datetime):
        return ""
    seconds = (timezone.now() - when).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "just now" if not future else "in a moment"
    for size, unit in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {text}" if future else f"{text} ago"
    return ""  # unreachable: seconds >= 60 matches "minute"


@register.filter
def price(value) -> str:
    """Money as text: thousands grouped; cents under 1000; more digits for small prices."""
    if value is None or isinstance(value, bool):
        return ""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return ""
    if not number.is_finite():
        return ""
    size = abs(number)
    if size >= 1000:
        return f"{number:,.0f}"
    if size >= 1 or size == 0:
        return f"{number:,.2f}"
    return f"{number:.6f}".rstrip("0")


@register.filter
def price_mark(direction: str | None) -> str:
    return {"up": "▲", "down": "▼"}.get(direction or "", "")
