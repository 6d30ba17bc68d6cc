from tests.pages_records import fake_api, fetched, make_channel, make_recording


def test_it_shows_the_live_channel(client, parti):
    response = client.get("/watch/348242")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Jack Doherty" in page
    assert 'data-src="/hls/live/348242/master.m3u8"' in page
    # The external-player link works without JavaScript.
    assert 'href="/hls/live/348242/master.m3u8"' in page
    assert "Open in an external player" in page
    assert 'href="/profile/348242"' in page


def test_it_shows_title_and_viewers(client, monkeypatch):
    fake_api(monkeypatch, channel=fetched(make_channel(is_live=True, title="Hello ", viewers=951)))
    page = client.get("/watch/1001").content.decode()
    assert "Hello" in page
    assert "951 watching" in page


def test_an_offline_channel_says_so(client, monkeypatch):
    fake_api(monkeypatch, channel=fetched(make_channel(is_live=False)))
    page = client.get("/watch/1001").content.decode()
    assert "Some Creator is not live right now" in page
    assert "data-player" not in page
    assert "Offline" in page


def test_an_offline_channel_offers_its_recent_recordings(client, parti):
    # 464988 (ClaireVoyant) is not live; the simulator has her recorded streams.
    page = client.get("/watch/464988").content.decode()
    assert "Recent recordings" in page
    assert 'href="/video/83945"' in page


def test_unknown_channels_are_not_found(client, parti):
    assert client.get("/watch/999999999").status_code == 404
    assert client.get("/watch/abc").status_code == 404


def test_it_shows_a_recording(client, parti):
    response = client.get("/video/83870")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Oldies_Hits_Radio" in page
    assert 'href="/profile/593563"' in page
    assert 'data-src="/hls/video/83870/master.m3u8"' in page
    assert 'data-kind="vod"' in page


def test_a_recording_shows_date_duration_and_viewers(client, monkeypatch):
    recording = make_recording(total_viewers=12516)
    fake_api(monkeypatch, recording=fetched(recording))
    page = client.get("/video/6001").content.decode()
    assert "A past stream" in page
    assert "Duration 2:00:00" in page
    assert "12.5k viewers" in page


def test_unknown_recordings_are_not_found(client, parti):
    assert client.get("/video/999999999").status_code == 404
    assert client.get("/video/xyz").status_code == 404


def live_nav_link(page: str) -> str:
    return next(line for line in page.splitlines() if ">Live</a>" in line)


def test_a_live_watch_page_marks_live_in_the_nav(client, monkeypatch):
    fake_api(monkeypatch, channel=fetched(make_channel(is_live=True)))
    page = client.get("/watch/1001").content.decode()
    assert 'aria-current="page"' in live_nav_link(page)


def test_an_offline_watch_page_does_not_mark_live_in_the_nav(client, monkeypatch):
    fake_api(monkeypatch, channel=fetched(make_channel(is_live=False)))
    page = client.get("/watch/1001").content.decode()
    assert 'aria-current="page"' not in live_nav_link(page)


def test_the_recording_of_a_stream_still_live_is_not_available_yet(client, monkeypatch):
    from parti_site.upstream.errors import Kind, UpstreamError
    from tests.pages_records import make_live_channel

    not_found = UpstreamError(Kind.HTTP_STATUS, "HTTP 404", status=404)
    fake_api(monkeypatch, recording=not_found, live_now=fetched([make_live_channel(event_id=5001)]))
    response = client.get("/video/5001")
    assert response.status_code == 404
    page = response.content.decode()
    assert "This recording is not available (yet)" in page
    assert 'href="/watch/1001"' in page  # the stream, live now


def test_an_unknown_recording_says_so_without_a_stream_link(client, monkeypatch):
    from parti_site.upstream.errors import Kind, UpstreamError

    not_found = UpstreamError(Kind.HTTP_STATUS, "HTTP 404", status=404)
    fake_api(monkeypatch, recording=not_found)  # live now: event 5001 only
    response = client.get("/video/6002")
    assert response.status_code == 404
    page = response.content.decode()
    assert "This recording is not available (yet)" in page
    assert 'href="/watch/' not in page
