import re

from tests.pages_records import fake_api


def test_every_page_has_landmarks_and_a_skip_link(client, monkeypatch):
    fake_api(monkeypatch)
    for path in (
        "/",
        "/live",
        "/schedule",
        "/featured",
        "/recent",
        "/profile/1",
        "/watch/1",
        "/video/1",
    ):
        page = client.get(path).content.decode()
        assert '<a class="skip-link" href="#main">' in page, path
        assert '<main id="main"' in page
        assert '<nav class="site-nav" aria-label="Main">' in page
        assert "<footer" in page and "Not affiliated with parti.com" in page
        assert "BTC" in page  # the ticker


def test_pages_have_no_inline_scripts_styles_or_third_party_hosts(client, monkeypatch):
    fake_api(monkeypatch)
    for path in ("/", "/live", "/schedule", "/featured", "/recent", "/profile/1", "/watch/1"):
        page = client.get(path).content.decode()
        assert " style=" not in page
        assert "<style" not in page
        for script in re.findall(r"<script[^>]*>", page):
            assert "src=" in script
        assert not re.search(r'(src|href)="(https?:)?//', page), path


def test_every_image_has_alt_text(client, monkeypatch):
    fake_api(monkeypatch)
    page = client.get("/").content.decode()
    images = re.findall(r"<img[^>]*>", page)
    assert images
    for tag in images:
        assert re.search(r'alt="[^"]+"', tag), tag


def test_the_current_page_is_marked_in_the_nav(client, monkeypatch):
    fake_api(monkeypatch)
    page = client.get("/live").content.decode()
    assert '<a href="/live" aria-current="page">Live</a>' in page


def test_the_not_found_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()
