"""Preferences in a cookie: theme, default quality, segment mode, hidden categories."""

from django.test import RequestFactory

from parti_site.media import modes
from parti_site.upstream.models import Category
from parti_site.web import preferences
from tests.pages_records import fake_api, fetched, make_channel, make_live_channel

JACK = 348242


def save(client, **fields):
    response = client.post("/settings", fields)
    assert response.status_code == 302 and response["Location"] == "/settings?saved=1"
    return response


def test_the_cookie_format_round_trips_and_ignores_junk():
    prefs = preferences.Preferences("dark", "720p", True, frozenset({10, 3}))
    assert preferences.serialize(prefs) == "t:dark|q:720p|s:proxied|h:3.10"
    assert preferences.parse("t:dark|q:720p|s:proxied|h:3.10") == prefs
    assert preferences.parse("t:<b>|q:9999p|s:yes|h:a.-1.0|zz:1") == preferences.Preferences()
    assert preferences.parse(None).is_default


def test_the_settings_page_works_without_javascript(client, parti):
    page = client.get("/settings").content.decode()
    assert '<form class="settings-form" method="post"' in page
    assert 'name="hide" value="10"' in page  # the categories, from parti
    response = save(client, theme="dark", quality="480p", hide=["10"])
    assert "httponly" in str(response.cookies["prefs"]).lower()
    page = client.get("/settings?saved=1").content.decode()
    assert "data-settings-saved" in page
    assert 'value="dark" checked' in page and 'value="480p" selected' in page


def test_the_theme_goes_on_the_html_element(client, parti):
    assert "data-theme" not in client.get("/featured").content.decode().split(">", 2)[1]
    save(client, theme="light")
    page = client.get("/featured").content.decode()
    assert '<html lang="en" data-tz="UTC" data-theme="light">' in page
    assert '<meta name="color-scheme" content="light">' in page


def test_the_default_quality_goes_on_the_player(client, monkeypatch):
    fake_api(monkeypatch, channel=fetched(make_channel(is_live=True)))
    assert "data-default-quality" not in client.get("/watch/1001").content.decode()
    client.cookies["prefs"] = "q:360p"
    assert 'data-default-quality="360p"' in client.get("/watch/1001").content.decode()


def test_a_viewer_may_opt_in_to_proxied_segments_where_allowed(settings):
    settings.SEGMENT_MODE = "direct"
    request = RequestFactory().get("/", HTTP_COOKIE="prefs=s:proxied")
    assert modes.segment_mode(request) == modes.PROXIED
    assert modes.segment_mode(RequestFactory().get("/")) == modes.DIRECT
    settings.ALLOW_VIEWER_PROXIED = False
    request = RequestFactory().get("/", HTTP_COOKIE="prefs=s:proxied")
    assert modes.segment_mode(request) == modes.DIRECT


def test_the_opt_in_changes_the_pages_csp_and_the_about_page(client, parti, settings):
    settings.SEGMENT_MODE = "direct"
    save(client, segments="proxied")
    response = client.get("/about")
    assert "<strong>proxied</strong>" in response.content.decode()
    assert "127.0.0.1" not in response["Content-Security-Policy"].split("media-src")[-1]


def test_hidden_categories_leave_the_lists(client, monkeypatch):
    music = make_live_channel(category="Music", title="Songs")
    games = make_live_channel(category="Gaming", title="Games", event_id=2)
    fake_api(
        monkeypatch,
        live_now=fetched([music, games]),
        categories=fetched([Category(10, "Music"), Category(20, "Gaming")]),
    )
    assert "Songs" in client.get("/live").content.decode()
    client.cookies["prefs"] = "h:10"
    page = client.get("/live").content.decode()
    assert "Songs" not in page and "Games" in page
    assert "Songs" not in client.get("/").content.decode()


def test_live_grid_sorts_by_viewers_and_newest(client, monkeypatch):
    few = make_live_channel(title="Few", viewers=3, event_id=900)
    many = make_live_channel(title="Many", viewers=3000, event_id=100)
    fake_api(monkeypatch, live_now=fetched([few, many]))
    by_viewers = client.get("/live?sort=viewers").content.decode()
    assert by_viewers.index("Many") < by_viewers.index("Few")
    assert 'href="?sort=viewers" aria-current="page"' in by_viewers
    newest = client.get("/live?sort=newest").content.decode()
    assert newest.index("Few") < newest.index("Many")
    assert JACK


def test_hidden_categories_leave_search_and_following(client, monkeypatch):
    from parti_site.pages import follows

    music = make_live_channel(category="Music", title="Songs tonight")
    fake_api(
        monkeypatch,
        live_now=fetched([music]),
        categories=fetched([Category(10, "Music")]),
    )
    client.cookies[follows.COOKIE] = follows.cookie_value([1001])
    assert "Songs tonight" in client.get("/search?q=songs").content.decode()
    assert "Songs tonight" in client.get("/following").content.decode()
    client.cookies["prefs"] = "h:10"
    assert "Songs tonight" not in client.get("/search?q=songs").content.decode()
    assert "Songs tonight" not in client.get("/following").content.decode()


def test_a_hidden_category_is_not_offered_by_search_either(client, monkeypatch):
    fake_api(monkeypatch, live_now=fetched([]), categories=fetched([Category(10, "Music")]))
    assert 'href="/live?category=10"' in client.get("/search?q=music").content.decode()
    client.cookies["prefs"] = "h:10"
    assert 'href="/live?category=10"' not in client.get("/search?q=music").content.decode()
