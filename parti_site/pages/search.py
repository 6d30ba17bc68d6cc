"""Search over what the site already has from parti: the live list, featured creators,
the schedule, recent streams and the categories. parti has no search endpoint we know of,
so nothing new is asked of it; what is not in those lists is not found.

Pure functions: `search(query, sources)` gives `Found`, each list best first. A query is
split into words; a record matches when every word is in one of its fields (name, handle,
title, category), case- and accent-insensitive. Ranking: whole name, then name prefix, then
word in the name, then elsewhere; ties keep the sources' own order.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from parti_site.upstream.models import (
    Category,
    Creator,
    FeaturedCreator,
    LiveChannel,
    Recording,
    ScheduledEvent,
)

MAX_QUERY = 100
MAX_WORDS = 8
LIMIT = 30  # results per kind


def fold(value: str | None) -> str:
    """Lower case, accents off, spaces squeezed: what matching compares."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def words(query: str | None) -> list[str]:
    return fold((query or "")[:MAX_QUERY]).split()[:MAX_WORDS]


def _score(terms: list[str], name: str, others: Sequence[str | None]) -> int | None:
    """Lower is better; None when some word is in no field."""
    folded_name = fold(name)
    fields = [folded_name, *(fold(o) for o in others if o)]
    if not terms or not all(any(t in f for f in fields) for t in terms):
        return None
    phrase = " ".join(terms)
    if folded_name == phrase:
        return 0
    if folded_name.startswith(phrase):
        return 1
    if all(t in folded_name for t in terms):
        return 2
    return 3


def _handle(creator: Creator) -> str | None:
    return creator.social_username


@dataclass
class Found:
    creators: list[Creator] = field(default_factory=list)
    live: list[LiveChannel] = field(default_factory=list)
    upcoming: list[ScheduledEvent] = field(default_factory=list)
    recordings: list[Recording] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(
            len(x)
            for x in (self.creators, self.live, self.upcoming, self.recordings, self.categories)
        )


def _ranked(scored: Iterable[tuple[int | None, int, object]], limit: int) -> list:
    kept = sorted((s, i, item) for s, i, item in scored if s is not None)
    return [item for _, _, item in kept[:limit]]


def search(
    query: str | None,
    *,
    live: Sequence[LiveChannel] = (),
    featured: Sequence[FeaturedCreator] = (),
    schedule: Sequence[ScheduledEvent] = (),
    recent: Sequence[Recording] = (),
    categories: Sequence[Category] = (),
    limit: int = LIMIT,
) -> Found:
    terms = words(query)
    if not terms:
        return Found()
    category_names = {c.category_id: c.name for c in categories}

    # Creators: every creator any source mentions, once, ranked by name and handle.
    creators: dict[int, tuple[int, int, Creator]] = {}
    people = [
        *(c.creator for c in live),
        *(f.creator for f in featured),
        *(e.creator for e in schedule),
        *(r.creator for r in recent),
    ]
    for order, creator in enumerate(people):
        score = _score(terms, creator.name, [_handle(creator)])
        if score is not None and creator.user_id not in creators:
            creators[creator.user_id] = (score, order, creator)

    return Found(
        creators=_ranked(creators.values(), limit),
        live=_ranked(
            (
                (_score(terms, c.title, [c.creator.name, _handle(c.creator), c.category]), i, c)
                for i, c in enumerate(live)
            ),
            limit,
        ),
        upcoming=_ranked(
            (
                (
                    _score(
                        terms,
                        e.title,
                        [e.creator.name, _handle(e.creator), category_names.get(e.category_id)],
                    ),
                    i,
                    e,
                )
                for i, e in enumerate(schedule)
            ),
            limit,
        ),
        recordings=_ranked(
            (
                (_score(terms, r.title, [r.creator.name, _handle(r.creator), r.category]), i, r)
                for i, r in enumerate(recent)
            ),
            limit,
        ),
        categories=_ranked(
            ((_score(terms, c.name, []), i, c) for i, c in enumerate(categories)), limit
        ),
    )
