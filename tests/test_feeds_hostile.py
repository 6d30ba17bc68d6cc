"""The hostile corpus (tests/hostile_corpus.json) through the feeds and calendars: they
still parse, text stays text, and every link is one of our own pages."""

import re

import feedparser
import pytest
from icalendar import Calendar

from parti_site.upstream import history
from tests.test_hostile_pages import CORPUS, TEXTS, URLS, fields_for, hostile  # noqa: F401

JACK = 348242
FEEDS = [f"/feeds/creator/{JACK}.atom", "/feeds/category/10.atom", f"/feeds/live.atom?ids={JACK}"]
CALENDARS = ["/calendar.ics", "/calendar/category/10.ics", f"/calendar/following.ics?ids={JACK}"]
HREF = re.compile(rb'(?:href|uri|src)="([^"]*)"|<uri>([^<]*)</uri>')


def check_feed(content: bytes, path: str):
    feed = feedparser.parse(content)
    assert not feed.bozo, (path, feed.bozo_exception)
    for match in HREF.finditer(content):
        url = (match.group(1) or match.group(2)).decode()
        assert url.startswith("http://testserver/"), (path, url[:80])
    assert b"<script" not in content and b"javascript:" not in content.split(b"<title>")[0]
    return feed


def check_calendar(content: bytes, path: str):
    cal = Calendar.from_ical(content)
    for event in cal.walk("VEVENT"):
        assert str(event["URL"]).startswith("http://testserver/profile/"), path
        assert str(event["LOCATION"]).startswith("http://testserver/watch/"), path
        assert event.decoded("DTSTART").utcoffset().total_seconds() == 0
    return cal


@pytest.mark.parametrize("index", range(len(TEXTS)), ids=[name for name, _ in TEXTS])
def test_hostile_text_keeps_feeds_and_calendars_whole(client, hostile, index):  # noqa: F811
    history.clear_golive()
    hostile(fields_for(index))
    for path in FEEDS:
        response = client.get(path)
        assert response.status_code == 200, (path, response.content[:200])
        feed = check_feed(response.content, path)
        if TEXTS[index][0] == "script-tag":  # the value arrived, and reads as itself
            assert any(TEXTS[index][1] in entry.title for entry in feed.entries), path
    for path in CALENDARS:
        response = client.get(path)
        assert response.status_code == 200, (path, response.content[:200])
        check_calendar(response.content, path)
    history.clear_golive()


@pytest.mark.parametrize("index", range(len(URLS)), ids=[name for name, _ in URLS])
def test_hostile_urls_never_become_feed_links(client, hostile, index):  # noqa: F811
    history.clear_golive()
    _, url = URLS[index]
    hostile({name: url for name in CORPUS["url_fields"]})
    for path in FEEDS:
        check_feed(client.get(path).content, path)
    history.clear_golive()
