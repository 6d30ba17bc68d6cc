from datetime import UTC, datetime, timedelta

from tests.pages_records import fake_api, fetched, make_event


def test_it_shows_calendar_events(client, parti):
    response = client.get("/schedule")
    assert response.status_code == 200
    page = response.content.decode()
    assert "PARTI BEACH" in page
    assert 'href="/profile/457056"' in page
    assert "Times are shown in" in page


def test_it_shows_times_in_the_visitors_zone(client, monkeypatch):
    start = datetime(2030, 5, 30, 16, 5, tzinfo=UTC)
    fake_api(monkeypatch, schedule=fetched([make_event(starts_at=start, ends_at=None)]))
    client.cookies["tz"] = "Asia/Tokyo"
    page = client.get("/schedule").content.decode()
    assert "Asia/Tokyo" in page
    assert "01:05" in page  # 16:05 UTC is 01:05 the next day in Tokyo
    assert "Friday 31 May 2030" in page
    assert 'datetime="2030-05-31T01:05:00+09:00"' in page


def test_pages_vary_with_the_zone_cookie(client, monkeypatch):
    fake_api(monkeypatch)
    assert "Cookie" in client.get("/schedule")["Vary"]


def test_an_invalid_zone_falls_back_to_utc(client, monkeypatch):
    start = datetime(2030, 5, 30, 16, 5, tzinfo=UTC)
    fake_api(monkeypatch, schedule=fetched([make_event(starts_at=start)]))
    for bad in ("Mars/Olympus", "../../etc/passwd", "", "x" * 500):
        client.cookies["tz"] = bad
        page = client.get("/schedule").content.decode()
        assert "<strong data-tz-name>UTC</strong>" in page
        assert "16:05" in page


def test_past_events_are_marked_past(client, monkeypatch):
    now = datetime.now(UTC)
    events = [
        make_event(
            title="Long ago",
            starts_at=now - timedelta(days=3),
            ends_at=now - timedelta(days=3, hours=-1),
        ),
        make_event(title="Tomorrow", starts_at=now + timedelta(days=1)),
    ]
    fake_api(monkeypatch, schedule=fetched(events))
    page = client.get("/schedule").content.decode()
    past = page.index("Long ago")
    assert page.index("past</span>", past) < page.index("Tomorrow")
    assert page.count('class="tag tag-past"') == 1
