"""The client and parsing on parti's recorded responses (home-routes.md, as the simulator's
recorded.json holds them), quirks included."""

import pytest
import responses

from parti_site.simulator import recorded
from parti_site.upstream import api

HOST = "https://api.test"
API = HOST + "/parti_v2"


@pytest.fixture(autouse=True)
def recorded_upstream(settings):
    settings.PARTI_API_URL = API
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for entry in recorded.entries():
            mock.get(
                HOST + entry["path"].partition("?")[0],
                json=entry["response"],
                match=[responses.matchers.query_string_matcher(entry["path"].partition("?")[2])],
            )
        yield mock


def test_every_recorded_route_is_used():
    # The twelve routes of home-routes.md.
    assert len(recorded.entries()) == 12


def test_the_live_list_parses_with_its_placeholders():
    channels = api.live_now(limit=100).data
    assert [c.creator.name for c in channels] == [
        "Jack Doherty",
        "worldoftshirts2001",
        "officialsupercal",
        "Oldies_Hits_Radio",
    ]
    assert channels[0].viewers == 12516
    # "asset_url" is a placeholder, not a URL: no image rather than a broken one.
    assert channels[0].creator.avatar_url is None
    assert api.live_now(limit=30).data == channels


def test_categories_use_display_names():
    names = {c.category_id: c.name for c in api.categories().data}
    assert names[16] == "Valorant"
    assert names[23] == "CRYPTO"
    assert len(names) == 21


def test_the_schedule_repairs_the_doubled_scheme_and_keeps_emoji_titles():
    events = {e.event_id: e for e in api.schedule().data}
    assert events[36260].thumbnail_url == "https://assets.parti.com/asset.jpeg"
    assert events[53474].title == "🎉"
    assert events[53474].thumbnail_url is None
    assert events[63403].starts_at.isoformat() == "2025-05-30T16:05:00+00:00"


def test_featured_keeps_partis_order_and_skipped_ordinals():
    featured = api.featured().data
    assert [f.ordinal for f in featured] == [0, 1, 2, 3, 4, 6]
    assert featured[0].creator.name == "SNEAKO"
    assert featured[0].members == 25681


def test_recent_variants_parse_including_trimmed_rows():
    default = api.recent().data
    assert default[0].title == "Classic Hits"
    # The row with two avatar_link keys (a transcription slip) still parses.
    assert default[1].creator.name == "ClaireVoyant"
    gaming = api.recent(category_id=7).data
    assert {r.category for r in gaming} == {"Gaming"}
    top = api.recent(top=True).data
    assert top[0].total_viewers == 93260
    # The "no category" sample has only seven keys per row.
    trimmed = api.recent(no_category=True).data
    assert trimmed[0].creator.name == "ElementalMJ"
    assert trimmed[0].started_at is None and trimmed[0].ended_at is not None
    assert trimmed[0].recording_path is None


def test_prices_are_numbers_from_strings():
    prices = {p.symbol: p for p in api.prices().data}
    assert str(prices["BTC"].price) == "103510"
    assert prices["TSLA"].direction == "down"


def test_the_recorded_profile_has_a_null_description():
    profile = api.profile(123456).data
    assert profile.creator.name == "Inquisitive Mink"
    assert profile.description == ""
    assert profile.creator.avatar_url is None
