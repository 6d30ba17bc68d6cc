"""Small server-rendered SVG charts: no chart library, no script, nothing fetched.

Pure functions of the data. Each returns a `Chart`: the SVG text (every text in it
escaped; the colours come from the stylesheet through classes) and the numbers it drew,
in the order drawn, so tests and the page's table can check them. Every mark carries its
number in `data-value` and a `<title>` for a tooltip and screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from parti_site.upstream.models import Recording

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28  # room for the axis labels


@dataclass(frozen=True)
class Point:
    label: str  # the stream's title (plain text)
    when: datetime
    value: int


@dataclass(frozen=True)
class Chart:
    svg: SafeString
    points: tuple[Point, ...]

    @property
    def values(self) -> list[int]:
        return [point.value for point in self.points]


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _day(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%-d %b")


def _frame(kind: str, title: str, top_label: str, first: datetime, last: datetime) -> list[str]:
    bottom = HEIGHT - BOTTOM
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line class="chart-axis" x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}"/>',
        f'<line class="chart-axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>',
        f'<text class="chart-label" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">'
        f"{escape(top_label)}</text>",
        f'<text class="chart-label" x="{LEFT - 4}" y="{bottom}" text-anchor="end">0</text>',
        f'<text class="chart-label" x="{LEFT}" y="{HEIGHT - 8}">{escape(_day(first))}</text>',
        f'<text class="chart-label" x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
        f"{escape(_day(last))}</text>",
    ]


def _x(when: datetime, first: datetime, last: datetime) -> float:
    span = (last - first).total_seconds()
    if span <= 0:
        return (LEFT + WIDTH - RIGHT) / 2
    share = (when - first).total_seconds() / span
    return LEFT + share * (WIDTH - LEFT - RIGHT)


def _y(value: float, top: float) -> float:
    height = HEIGHT - TOP - BOTTOM
    return HEIGHT - BOTTOM - (value / top * height if top > 0 else 0)


def _points(recordings: Sequence[Recording], value) -> list[Point]:
    found = []
    for recording in recordings:
        number = value(recording)
        if recording.started_at is None or number is None or number < 0:
            continue
        found.append(Point(recording.title or "Untitled stream", recording.started_at, number))
    return sorted(found, key=lambda point: point.when)


def _hours(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}"


def viewers_chart(recordings: Sequence[Recording]) -> Chart | None:
    """Viewers per stream (parti's total_viewers) over time: a line through one dot per
    stream, at its start. None with fewer than two streams to draw."""
    points = _points(recordings, lambda r: r.total_viewers)
    if len(points) < 2:
        return None
    first, last = points[0].when, points[-1].when
    top = max(point.value for point in points) or 1
    title = f"Viewers of the last {len(points)} streams"
    parts = _frame("viewers", title, f"{top:,}", first, last)
    coords = [(_x(p.when, first, last), _y(p.value, top)) for p in points]
    line = " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)
    parts.append(f'<polyline class="chart-line" fill="none" points="{line}"/>')
    for point, (x, y) in zip(points, coords, strict=True):
        tip = f"{point.label}: {point.value:,} viewers, {_day(point.when)}"
        parts.append(
            f'<circle class="chart-dot" cx="{_n(x)}" cy="{_n(y)}" r="4" '
            f'data-value="{point.value}"><title>{escape(tip)}</title></circle>'
        )
    parts.append("</svg>")
    return Chart(mark_safe("".join(parts)), tuple(points))  # noqa: S308 - all text escaped


def lengths_chart(recordings: Sequence[Recording]) -> Chart | None:
    """Each stream's length in seconds, one bar per stream in start order."""
    points = _points(recordings, lambda r: r.duration_seconds)
    if len(points) < 2:
        return None
    first, last = points[0].when, points[-1].when
    top = max(point.value for point in points) or 1
    title = f"Lengths of the last {len(points)} streams"
    parts = _frame("lengths", title, _hours(top), first, last)
    slot = (WIDTH - LEFT - RIGHT) / len(points)
    for index, point in enumerate(points):
        y = _y(point.value, top)
        x = LEFT + index * slot + slot * 0.15
        tip = f"{point.label}: {_hours(point.value)} (h:mm), {_day(point.when)}"
        parts.append(
            f'<rect class="chart-bar" x="{_n(x)}" y="{_n(y)}" width="{_n(slot * 0.7)}" '
            f'height="{_n(HEIGHT - BOTTOM - y)}" data-value="{point.value}">'
            f"<title>{escape(tip)}</title></rect>"
        )
    parts.append("</svg>")
    return Chart(mark_safe("".join(parts)), tuple(points))  # noqa: S308 - all text escaped


def sparkline(
    history: Sequence[tuple[float, Decimal]], width: int = 64, height: int = 16
) -> SafeString | None:
    """A price's recent course as a tiny line, or None with fewer than two prices."""
    if len(history) < 2:
        return None
    values = [float(price) for _, price in history]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / (len(values) - 1)
    line = " ".join(
        f"{_n(i * step)},{_n(height - 1 - (v - low) / span * (height - 2))}"
        for i, v in enumerate(values)
    )
    direction = "up" if values[-1] > values[0] else "down" if values[-1] < values[0] else "flat"
    label = f"{len(values)} prices seen since the server started, low {low:g}, high {high:g}"
    return mark_safe(  # noqa: S308 - numbers only, and an escaped label
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline is-{direction}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}"><polyline fill="none" points="{line}" '
        f'data-values="{" ".join(f"{v:g}" for v in values)}"/></svg>'
    )
