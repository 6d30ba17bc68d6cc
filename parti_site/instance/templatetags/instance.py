"""`{% load instance %}{% announcement %}`: the operator's banner, in base.html."""

from django import template

from parti_site.instance.store import current

register = template.Library()


@register.inclusion_tag("includes/announcement.html")
def announcement() -> dict:
    return {"text": current().banner}


_UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


@register.filter
def seconds(value) -> str:
    """A cache time as people read it: 30 -> "30 seconds", 86400 -> "1 day", 0 -> "none"."""
    try:
        total = int(value)
    except (TypeError, ValueError):
        return ""
    if total <= 0:
        return "none"
    for size, name in _UNITS:
        if total % size == 0 or size == 1:
            count = total // size
            return f"{count} {name}{'' if count == 1 else 's'}"
    return ""
