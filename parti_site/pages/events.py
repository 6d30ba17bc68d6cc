"""Arranging scheduled events for display: past/now/upcoming, the next few, grouped by day.

Pure functions of the events and "now", so pages and tests share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from itertools import groupby

from parti_site.upstream.models import ScheduledEvent


@dataclass(frozen=True)
class EventRow:
    event: ScheduledEvent
    past: bool
    now: bool  # started and not yet over


def row(event: ScheduledEvent, now: datetime) -> EventRow:
    end = event.ends_at or event.starts_at
    past = end is not None and end < now
    started = event.starts_at is not None and event.starts_at <= now
    return EventRow(event=event, past=past, now=started and not past)


def _start(event: ScheduledEvent) -> float:
    return event.starts_at.timestamp() if event.starts_at else float("inf")


def upcoming(events: list[ScheduledEvent], now: datetime, count: int = 8) -> list[EventRow]:
    """The next `count` events not yet over; when none are left, the latest past ones."""
    rows = [row(event, now) for event in sorted(events, key=_start)]
    ahead = [r for r in rows if not r.past]
    if ahead:
        return ahead[:count]
    return rows[-count:][::-1]


def by_day(
    events: list[ScheduledEvent], now: datetime, zone: tzinfo
) -> list[tuple[date | None, list[EventRow]]]:
    """Events in start order, grouped by their start date in the visitor's zone."""

    def day(event: ScheduledEvent) -> date | None:
        return event.starts_at.astimezone(zone).date() if event.starts_at else None

    ordered = sorted(events, key=_start)
    return [(key, [row(e, now) for e in group]) for key, group in groupby(ordered, key=day)]
