"""Atom feeds and iCalendar files: parsed back with feedparser and icalendar."""

import time
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from icalendar import Calendar

from parti_site.upstream import history
from parti_site.upstream.errors import Kind, UpstreamError
from parti_site.upstream.models import Category
from tests.pages_records import (
    NOW,
    fake_api,
    fetched,
    make_creator,
    make_event,
    make_live_channel,
    make_profile,
    make_recording,
)

JACK = 348242
HOSTILE = "<script>alert(1)</script> javascript:alert(1)"


@pytest.fixture(autouse=True)
def empty_log():
    history.clear_golive()
    yield
    history.clear_golive()


def parse(response):
    assert response.status_code == 200, response.content[:300]
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    return feed


def test_a_creators_feed_lists_their_recent_streams(client, parti):
    response = client.get(f"/feeds/creator/{JACK}.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = parse(response)
    assert feed.feed.title == "Jack Doherty: recent streams"
    assert feed.entries
    for entry in feed.entries:
        assert entry.link.startswith("http://testserver/video/")
        assert entry.id == entry.link
        assert entry.author == "Jack Doherty"
        assert entry.updated_parsed is not None


def test_links_use_public_url_and_ids_are_stable(client, parti, settings):
    settings.PUBLIC_URL = "https://parti.example.org"
    first = parse(client.get(f"/feeds/creator/{JACK}.atom"))
    second = parse(client.get(f"/feeds/creator/{JACK}.atom"))
    assert [e.id for e in first.entries] == [e.id for e in second.entries]
    assert first.feed.id == f"https://parti.example.org/feeds/creator/{JACK}.atom"
    assert all(e.link.startswith("https://parti.example.org/video/") for e in first.entries)


def test_an_unchanged_feed_is_304(client, parti):
    response = client.get(f"/feeds/creator/{JACK}.atom")
    etag, modified = response["ETag"], response["Last-Modified"]
    assert "max-age=120" in response["Cache-Control"] and "public" in response["Cache-Control"]
    again = client.get(f"/feeds/creator/{JACK}.atom", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    assert (
        client.get(f"/feeds/creator/{JACK}.atom", HTTP_IF_MODIFIED_SINCE=modified).status_code
        == 304
    )
    other = client.get(f"/feeds/creator/{JACK}.atom", HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200


def test_a_category_feed(client, parti):
    feed = parse(client.get("/feeds/category/10.atom"))
    assert feed.feed.title == "Recent streams: Music"
    assert client.get("/feeds/category/999999.atom").status_code == 404
    assert client.get("/feeds/category/abc.atom").status_code == 404


def test_the_go_live_feed_has_the_creators_in_the_url(client, monkeypatch):
    fake_api(monkeypatch, live_now=fetched([]))
    alice = make_creator(user_id=11, name="Alice")
    bob = make_creator(user_id=22, name="Bob")
    hour_ago = time.time() - 3600
    history.went_live([make_live_channel(creator=alice, event_id=1, title="Morning")], hour_ago)
    history.live_snapshot([make_live_channel(creator=bob, event_id=2, title="Noon")], hour_ago + 60)
    history.went_live([make_live_channel(creator=alice, event_id=1, title="Morning")])  # again
    feed = parse(client.get("/feeds/live.atom?ids=11,33"))
    assert [e.title for e in feed.entries] == ["Alice went live: Morning"]
    assert feed.entries[0].id == "http://testserver/watch/11#golive-1"
    assert feed.entries[0].link == "http://testserver/watch/11"
    assert "go-live push" in feed.entries[0].summary
    since = datetime.fromtimestamp(hour_ago, UTC)
    assert f"since {since:%Y-%m-%d %H:%M} UTC" in feed.feed.subtitle  # what the log covers
    both = parse(client.get("/feeds/live.atom?ids=11,22"))
    assert [e.title for e in both.entries] == ["Bob went live: Noon", "Alice went live: Morning"]
    assert client.get("/feeds/live.atom").status_code == 404
    assert client.get("/feeds/live.atom?ids=abc").status_code == 404


def test_the_go_live_feed_takes_a_snapshot_of_who_is_live(client, parti):
    feed = parse(client.get(f"/feeds/live.atom?ids={JACK}"))
    assert [e.title.split(" went live")[0] for e in feed.entries] == ["Jack Doherty"]
    assert "live list" in feed.entries[0].summary


def test_the_go_live_log_is_bounded():
    channels = [
        make_live_channel(creator=make_creator(user_id=i), event_id=i)
        for i in range(1, history.GOLIVE_LIMIT + 50)
    ]
    history.live_snapshot(channels)
    assert len(history.golive_events(limit=10_000)) == history.GOLIVE_LIMIT


def test_hostile_text_stays_text_in_feeds(client, monkeypatch):
    creator = make_creator(name=HOSTILE)
    fake_api(
        monkeypatch,
        profile=fetched(make_profile(creator=creator)),
        recent=fetched([make_recording(creator=creator, title=HOSTILE + "\x00\x1b")]),
    )
    response = client.get("/feeds/creator/1001.atom")
    raw = response.content.decode()
    assert "<script>" not in raw and "&lt;script&gt;" in raw
    assert 'href="javascript:' not in raw
    feed = parse(response)
    assert feed.entries[0].title == HOSTILE  # control characters left out, the rest as text
    assert feed.entries[0].link == "http://testserver/video/6001"


def test_a_feed_is_503_when_parti_fails_and_nothing_is_cached(client, monkeypatch):
    fake_api(monkeypatch, profile=UpstreamError(Kind.TIMEOUT, "slow"))
    response = client.get("/feeds/creator/1001.atom")
    assert response.status_code == 503
    assert response["Retry-After"]
    fake_api(monkeypatch, profile=UpstreamError(Kind.HTTP_STATUS, "404", status=404))
    assert client.get("/feeds/creator/1001.atom").status_code == 404


# --- calendars -----------------------------------------------------------------------------


def parse_ics(response) -> Calendar:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def test_the_schedule_calendar(client, parti):
    response = client.get("/calendar.ics")
    cal = parse_ics(response)
    assert str(cal["X-WR-CALNAME"]) == "parti schedule"
    events = cal.walk("VEVENT")
    assert len(events) > 3
    for event in events:
        start = event.decoded("DTSTART")
        assert start.tzinfo is not None and start.utcoffset() == timedelta(0)
        assert event.decoded("DTEND") > start
        assert str(event["UID"]).startswith("schedule-") and str(event["UID"]).endswith(
            "@testserver"
        )
        assert str(event["URL"]).startswith("http://testserver/profile/")
    assert b"DTSTART:" in response.content and b"Z\r\n" in response.content  # UTC form
    again = client.get("/calendar.ics", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_calendar_times_are_the_events_times_in_utc(client, monkeypatch):
    start = datetime(2030, 3, 31, 0, 30, tzinfo=UTC)
    fake_api(monkeypatch, schedule=fetched([make_event(starts_at=start, ends_at=None)]))
    event = parse_ics(client.get("/calendar.ics")).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == start + timedelta(hours=1)
    assert b"DTSTART:20300331T003000Z" in client.get("/calendar.ics").content


def test_calendars_per_category_creator_and_follow_list(client, monkeypatch):
    a = make_event(event_id=1, category_id=10, creator=make_creator(user_id=11, name="A"))
    b = make_event(event_id=2, category_id=20, creator=make_creator(user_id=22, name="B"))
    c = make_event(event_id=3, category_id=10, creator=make_creator(user_id=33, name="C"))
    fake_api(
        monkeypatch,
        schedule=fetched([a, b, c]),
        categories=fetched([Category(10, "Music"), Category(20, "IRL")]),
    )

    def uids(path):
        return sorted(str(e["UID"]) for e in parse_ics(client.get(path)).walk("VEVENT"))

    assert uids("/calendar/category/10.ics") == ["schedule-1@testserver", "schedule-3@testserver"]
    assert uids("/calendar/creator/22.ics") == ["schedule-2@testserver"]
    assert uids("/calendar/following.ics?ids=11,22") == [
        "schedule-1@testserver",
        "schedule-2@testserver",
    ]
    cal = parse_ics(client.get("/calendar/category/10.ics"))
    assert str(cal["X-WR-CALNAME"]) == "parti schedule: Music"
    assert [str(x) for x in cal.walk("VEVENT")[0]["CATEGORIES"].cats] == ["Music"]
    assert client.get("/calendar/category/999.ics").status_code == 404
    assert client.get("/calendar/following.ics").status_code == 404


def test_hostile_text_stays_text_in_calendars(client, monkeypatch):
    event = make_event(title=HOSTILE, description="line\nDTSTART:19700101T000000Z\r\nBEGIN:VEVENT")
    fake_api(monkeypatch, schedule=fetched([event]))
    response = client.get("/calendar.ics")
    cal = parse_ics(response)
    events = cal.walk("VEVENT")
    assert len(events) == 1  # the description did not start an event
    assert str(events[0]["SUMMARY"]) == f"Some Creator: {HOSTILE}"
    assert "DTSTART:19700101T000000Z" in str(events[0]["DESCRIPTION"])
    assert events[0].decoded("DTSTART") == event.starts_at.replace(microsecond=0)
    assert str(events[0]["URL"]) == "http://testserver/profile/1001"


def test_pages_link_their_feeds(client, parti):
    profile = client.get(f"/profile/{JACK}").content.decode()
    alternate = 'rel="alternate" type="application/atom+xml" title="Jack Doherty: recent streams"'
    assert f'{alternate} href="/feeds/creator/{JACK}.atom"' in profile
    assert f'href="/calendar/creator/{JACK}.ics"' in profile
    schedule = client.get("/schedule").content.decode()
    assert (
        'rel="alternate" type="text/calendar" title="parti schedule" href="/calendar.ics"'
        in schedule
    )
    recent = client.get("/recent?category=10").content.decode()
    assert 'href="/feeds/category/10.atom"' in recent
    assert NOW  # the records' clock is shared with the pages
