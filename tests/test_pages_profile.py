from parti_site.upstream.errors import Kind, UpstreamError
from tests.pages_records import (
    fake_api,
    fetched,
    make_channel,
    make_creator,
    make_profile,
    make_recording,
)


def test_it_shows_the_profile(client, parti):
    response = client.get("/profile/348242")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1" in page and "Jack Doherty" in page
    assert "dohertyjackk" in page  # the handle, as text
    assert "https://parti.com" not in page


def test_it_shows_the_live_status_with_a_watch_link(client, parti):
    page = client.get("/profile/348242").content.decode()
    assert 'href="/watch/348242"' in page


def test_it_keeps_line_breaks_and_escapes_the_description(client, monkeypatch):
    profile = make_profile(description="Line one\r\nLine <two>")
    fake_api(monkeypatch, profile=fetched(profile))
    page = client.get("/profile/1001").content.decode()
    assert "Line one\r\nLine &lt;two&gt;" in page
    assert 'class="profile-description"' in page  # white-space: pre-line keeps the breaks


def test_it_shows_live_state_recent_streams_and_posts(client, monkeypatch):
    fake_api(
        monkeypatch,
        profile=fetched(
            make_profile(creator=make_creator(social_media="telegram", social_username="handle"))
        ),
        channel=fetched(make_channel(is_live=True, title="Right now", viewers=12516)),
        recent=fetched([make_recording(event_id=6002)]),
    )
    page = client.get("/profile/1001").content.decode()
    assert "Right now" in page
    assert "12.5k watching" in page
    assert 'href="/video/6002"' in page
    assert "telegram: handle" in page
    assert "Hello" in page  # the feed post


def test_a_failing_section_leaves_the_profile(client, monkeypatch):
    fake_api(monkeypatch, feed=UpstreamError(Kind.HTTP_STATUS, "500", status=500))
    response = client.get("/profile/1001")
    assert response.status_code == 200
    assert "Posts could not be loaded: parti answered with an error" in response.content.decode()


def test_a_non_numeric_id_is_not_found(client, parti):
    for path in (
        "/profile/abc",
        "/profile/0",
        "/profile/-1",
        "/profile/1e5",
        "/profile/" + "9" * 30,
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Not found" in response.content.decode()


def test_an_unknown_profile_is_not_found(client, parti):
    response = client.get("/profile/999999999")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_creator_links_redirect_to_the_profile(client, parti):
    response = client.get("/creator/twitter/dohertyjackk")
    assert response.status_code == 302
    assert response["Location"] == "/profile/348242"


def test_an_unknown_creator_is_not_found(client, parti):
    assert client.get("/creator/twitter/nobody-at-all-here").status_code == 404
    assert client.get("/creator/discord/nobody/0").status_code == 404


def test_discord_links_send_the_discriminator(client, monkeypatch):
    asked = []

    def lookup(service, name):
        asked.append((service, name))
        return fetched(4242)

    fake_api(monkeypatch, lookup_user_id=lookup)
    response = client.get("/creator/discord/somebody/0")
    assert response.status_code == 302
    assert response["Location"] == "/profile/4242"
    assert asked == [("discord", "somebody#0")]


def test_a_lookup_failure_is_the_unavailable_page(client, monkeypatch):
    fake_api(monkeypatch, lookup_user_id=UpstreamError(Kind.UNREACHABLE, "refused"))
    response = client.get("/creator/twitter/someone")
    assert response.status_code == 503
