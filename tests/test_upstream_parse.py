"""Parsing tolerates what facts.md lists: nulls, missing and extra keys, numbers as strings,
empty names, doubled schemes, placeholders; bad rows are skipped, bad shapes raise."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from parti_site.upstream import parse
from parti_site.upstream.errors import Kind, UpstreamError


def live_row(**overrides):
    row = {
        "user_id": 348242,
        "user_name": "Jack Doherty",
        "user_avatar_id": 5,
        "avatar_link": "asset_url",
        "event_id": 83848,
        "event_title": "I'm Live on Parti",
        "event_file": "asset_url",
        "category_name": "Other",
        "viewers_count": 12516,
        "social_media": "twitter",
        "social_username": "dohertyjackk",
        "discord_discriminator": None,
        "channel_arn": "arn:aws:ivs:eu-west-1:455030909228:channel/mvTHShbrmxS2",
        "playback_url": "asset_url.m3u8",
        "playback_auth_token": "asset_token",
    }
    row.update(overrides)
    return row


def test_a_recorded_live_row_parses_and_placeholders_are_not_urls():
    channel = parse.live_channel(live_row())
    assert channel.creator.name == "Jack Doherty"
    assert channel.viewers == 12516
    assert channel.creator.avatar_url is None
    assert channel.thumbnail_url is None
    assert channel.creator.parti_path == "/creator/twitter/dohertyjackk"


def test_numbers_as_strings_and_nulls_are_tolerated():
    channel = parse.live_channel(live_row(user_id="348242", viewers_count=None, event_id="x"))
    assert channel.creator.user_id == 348242
    assert channel.viewers is None
    assert channel.event_id is None


def test_a_missing_user_name_falls_back_to_the_handle_then_the_id():
    assert parse.creator({"user_id": 5, "user_name": "", "social_username": "h"}).name == "h"
    assert parse.creator({"user_id": 5, "user_name": None}).name == "User 5"


def test_categories_show_display_name_when_name_is_empty():
    category = parse.category({"category_id": 16, "name": "", "display_name": "Valorant"})
    assert category.name == "Valorant"
    assert parse.category({"category_id": 1, "name": "Fitness"}).name == "Fitness"


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("https://https://assets.parti.com/asset.jpeg", "https://assets.parti.com/asset.jpeg"),
        ("https://assets.parti.com/a.png", "https://assets.parti.com/a.png"),
        ("asset_url", None),
        ("relative/path.png", None),
        ("javascript:alert(1)", None),
        ("https://exa mple.com/x", None),
        (None, None),
        ("", None),
        (12, None),
    ],
)
def test_urls_are_repaired_or_dropped(raw, url):
    assert parse.to_url(raw) == url


def test_html_in_names_stays_text():
    creator = parse.creator({"user_id": 1, "user_name": "<b>bold</b>"})
    assert creator.name == "<b>bold</b>"


def test_titles_are_kept_verbatim():
    assert parse.recording({"user_id": 1, "event_id": 2, "event_title": "NOW LIVE "}).title == (
        "NOW LIVE "
    )


def test_rows_without_ids_are_skipped_not_fatal():
    rows = parse.rows(
        [live_row(), {"user_name": "no id"}, "junk", None], "live", parse.live_channel
    )
    assert [row.creator.user_id for row in rows] == [348242]


@pytest.mark.parametrize("body", [{"a": 1}, "text", 5, None])
def test_a_list_endpoint_with_another_shape_raises_unexpected_shape(body):
    with pytest.raises(UpstreamError) as caught:
        parse.rows(body, "live", parse.live_channel)
    assert caught.value.kind == Kind.UNEXPECTED_SHAPE


def test_prices_are_decimals_from_strings():
    price = parse.asset_price(
        {"display_symbol": "BTC", "ticker": "bitcoin", "price": "103510", "direction": "up"}
    )
    assert price.price == Decimal("103510")
    assert price.direction == "up"
    assert (
        parse.asset_price({"display_symbol": "X", "price": "NaN", "direction": "?"}).price is None
    )


def test_times_are_unix_seconds_or_iso_strings():
    assert parse.to_time(1748532120) == datetime(2025, 5, 29, 15, 22, tzinfo=UTC)
    assert parse.to_time("2025-04-05T19:02:56Z") == datetime(2025, 4, 5, 19, 2, 56, tzinfo=UTC)
    assert parse.to_time("soon") is None
    assert parse.to_time(10**20) is None


def test_channel_info_offline_and_online():
    offline = {
        "status": "Public",
        "channel_info": {"channel": {"livestream_id": 7862, "user_id": 353044, "is_live": False}},
        "is_streaming_live_now": False,
    }
    info = parse.channel_info(offline, 353044)
    assert not info.is_live and info.livestream_id == 7862 and info.playback_url is None
    online = {
        "channel_info": {
            "channel": {
                "user_id": 567503,
                "livestream_id": 76436,
                "is_live": True,
                "current_event_id": 80695,
                "playback_url": "https://x.eu-west-1.playback.live-video.net/api/video/v1/c.m3u8",
                "playback_auth_token": "jwt",
            },
            "stream": {"viewer_count": 470, "start_time": "2025-04-05T19:02:56Z"},
            "livestream_event_info": {"event_name": "I'm Live on Parti"},
        },
        "is_streaming_live_now": True,
    }
    info = parse.channel_info(online, 567503)
    assert info.is_live and info.viewers == 470 and info.event_id == 80695
    assert info.playback_token == "jwt"
    assert parse.channel_info({"channel_info": None}, 9).is_live is False


def test_system_chat_lines_are_recognised():
    line = parse.chat_line(
        {
            "chat_id": 1,
            "user_name": "ChannelOwner",
            "post_content": '{"channel_from_name":"ChannelOwner","channel_to_name":"Other"}',
        }
    )
    assert line.notice == {"channel_from_name": "ChannelOwner", "channel_to_name": "Other"}
    assert parse.chat_line({"post_content": "{not json"}).notice == {}


@pytest.mark.parametrize(("body", "ok"), [(353044, True), ("353044", True), ({"id": 1}, False)])
def test_the_name_lookup_wants_a_number(body, ok):
    if ok:
        assert parse.user_id(body) == 353044
    else:
        with pytest.raises(UpstreamError):
            parse.user_id(body)


def test_a_list_with_no_usable_row_is_a_shape_change_not_an_empty_list():
    # A renamed id field must not replace the last good copy with "nothing here".
    with pytest.raises(UpstreamError) as caught:
        parse.rows([{"userId": 1, "user_name": "x"}], "live", parse.live_channel)
    assert caught.value.kind == Kind.UNEXPECTED_SHAPE
    assert parse.rows([], "live", parse.live_channel) == []


def test_bidi_overrides_are_dropped_from_text():
    # U+202E would reverse the text that follows the name on the page ("just went live").
    row = live_row(user_name="\u202egnp.exe\u202c Evil\u2066x\u2069", event_title="a\u202db")
    channel = parse.live_channel(row)
    assert channel.creator.name == "gnp.exe Evilx"
    assert channel.title == "ab"
    assert parse.to_text("שלום עולם") == "שלום עולם"  # right-to-left text is untouched
