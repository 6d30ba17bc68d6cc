"""Orders of the live grid (`/live?sort=`): parti's own, most viewers first, newest first.

parti gives no start time in its live list; event ids grow as streams are created, so a
higher event id is a newer stream. Sorting is within the page parti answered.
"""

from __future__ import annotations

from parti_site.upstream.models import LiveChannel

SORTS = (("", "Parti's order"), ("viewers", "Most viewers"), ("newest", "Newest"))


def sort_live(channels: list[LiveChannel], sort: str | None) -> list[LiveChannel]:
    if sort == "viewers":
        return sorted(channels, key=lambda c: -(c.viewers or 0))
    if sort == "newest":
        return sorted(channels, key=lambda c: -(c.event_id or 0))
    return channels


def current(sort: str | None) -> str:
    return sort if sort in {"viewers", "newest"} else ""
