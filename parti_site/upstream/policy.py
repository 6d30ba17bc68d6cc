"""How long each endpoint's answers stay fresh, and how long a stale copy may stand in
while parti fails: the defaults here, the operator's values from /admin/ (instance app)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CachePolicy:
    ttl: int  # seconds an answer is fresh
    stale: int  # seconds past that it may still be shown when parti is failing
    pages: str  # which pages it affects (help text for operators)


DAY = 24 * 3600

DEFAULT_POLICIES: dict[str, CachePolicy] = {
    "live": CachePolicy(30, DAY, "Home (live now), Live"),
    "channel": CachePolicy(15, 3600, "Watch, Profile (live status)"),
    "schedule": CachePolicy(300, DAY, "Home (upcoming), Schedule"),
    "featured": CachePolicy(600, DAY, "Home (featured), Featured"),
    "recent": CachePolicy(120, DAY, "Home (recent streams), Recent, Profile"),
    "categories": CachePolicy(3600, 7 * DAY, "Home, Live, Recent (category names)"),
    "prices": CachePolicy(60, DAY, "Price ticker on every page"),
    "profile": CachePolicy(600, DAY, "Profile"),
    "recording": CachePolicy(3600, 7 * DAY, "Video (recordings)"),
    "feed": CachePolicy(300, DAY, "Profile (posts)"),
    "lookup": CachePolicy(DAY, 7 * DAY, "/creator/... links to profiles"),
    "chat": CachePolicy(10, 600, "Watch (chat history)"),
}


def policy_for(endpoint: str) -> CachePolicy:
    """The policy in force now: the admin's setting, else the default above."""
    # Imported here: the instance app builds on the defaults in this module.
    from parti_site.instance.store import current

    return current().policy(endpoint)
