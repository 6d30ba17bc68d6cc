"""The visitor's own things in templates: `{% load personal %}`.

{% follow_button creator_or_id %}  the follow / unfollow form (POST, works without JS)
{% theme %}                        "light", "dark" or "" for <html data-theme>
{% default_quality %}              the player's preferred level name, or ""
{% streams_charts recordings %}    the profile's viewers and lengths charts
{% price_sparkline symbol %}       the ticker's course of one price since start
"""

from __future__ import annotations

from django import template

from parti_site.pages import charts, follows
from parti_site.upstream import history
from parti_site.web import preferences

register = template.Library()


def _request(context):
    return context.get("request")


@register.inclusion_tag("includes/follow_button.html", takes_context=True)
def follow_button(context, creator, label=""):
    request = _request(context)
    user_id = getattr(creator, "user_id", creator)
    name = getattr(creator, "name", "") or label
    following = request is not None and user_id in follows.read(request)
    return {
        "user_id": user_id,
        "name": name,
        "following": following,
        "next": request.get_full_path() if request is not None else "",
    }


@register.simple_tag(takes_context=True)
def theme(context) -> str:
    value = preferences.read(_request(context)).theme
    return "" if value == "system" else value


@register.simple_tag(takes_context=True)
def default_quality(context) -> str:
    return preferences.read(_request(context)).quality


@register.inclusion_tag("includes/streams_charts.html")
def streams_charts(recordings):
    recordings = recordings or []
    return {
        "viewers": charts.viewers_chart(recordings),
        "lengths": charts.lengths_chart(recordings),
    }


@register.simple_tag
def price_sparkline(symbol):
    return charts.sparkline(history.price_history(symbol)) or ""
