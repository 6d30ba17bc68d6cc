"""Leaving out the categories a visitor hid on /settings (web/preferences.py).

Live channels and recordings name their category; scheduled events carry its id. The
hidden ids are turned into names with the category list (cached; when it cannot be had,
only scheduled events can be told apart and the rest is shown).
"""

from __future__ import annotations

from collections.abc import Iterable

from parti_site.upstream import api
from parti_site.upstream.errors import UpstreamError
from parti_site.web import preferences

from .events import EventRow


def _hidden_names(hidden: frozenset[int]) -> set[str]:
    try:
        categories = api.categories().data
    except UpstreamError:
        return set()
    return {c.name for c in categories if c.category_id in hidden}


def visible(request, items: Iterable | None):
    """`items` without those in hidden categories (the same list when nothing is hidden)."""
    hidden = preferences.read(request).hidden
    if not hidden or items is None:
        return items
    names = _hidden_names(hidden)

    def shown(item) -> bool:
        record = item.event if isinstance(item, EventRow) else item
        category_id = getattr(record, "category_id", None)
        if category_id is not None:
            return category_id not in hidden
        return getattr(record, "category", None) not in names

    return [item for item in items if shown(item)]


def visible_days(request, days):
    """by_day's [(day, rows)] without hidden events and then without empty days."""
    if not preferences.read(request).hidden:
        return days
    kept = [(day, visible(request, rows)) for day, rows in days]
    return [(day, rows) for day, rows in kept if rows]
