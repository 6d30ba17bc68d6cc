"""What visitors see when parti fails: stale copies with a notice, then the 503 page."""

import time
from types import SimpleNamespace

import pytest
from django.core.cache import cache

from parti_site.upstream import cache as upstream_cache
from parti_site.upstream.errors import Kind, UpstreamError
from tests.pages_records import fake_api

CLOSED_PORT = "http://127.0.0.1:9/parti_v2"


@pytest.fixture
def later(monkeypatch):
    """Move the cache's clock forward (only the cache's: the HTTP client keeps real time)."""

    def move(seconds):
        monkeypatch.setattr(
            upstream_cache,
            "time",
            SimpleNamespace(
                time=lambda: time.time() + seconds, monotonic=time.monotonic, sleep=time.sleep
            ),
        )

    return move


def test_when_parti_stops_answering_the_old_copy_is_shown_with_a_notice(
    client, parti, settings, later
):
    assert client.get("/featured").status_code == 200
    settings.PARTI_API_URL = CLOSED_PORT
    later(3600)  # past the featured and prices TTLs
    response = client.get("/featured")
    assert response.status_code == 200
    page = response.content.decode()
    assert "SNEAKO" in page
    assert "parti is not answering" in page
    assert "Shown as of " in page and " UTC" in page


def test_with_no_copy_left_it_is_the_unavailable_page(client, parti, settings):
    settings.PARTI_API_URL = CLOSED_PORT
    cache.clear()
    response = client.get("/featured")
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "parti is not answering" in page
    assert "parti could not be reached" in page
    assert 'href="/featured"' in page  # retry link
    assert "Traceback" not in page


def test_a_home_page_with_no_section_left_is_the_unavailable_page(client, parti, settings):
    settings.PARTI_API_URL = CLOSED_PORT
    response = client.get("/")
    assert response.status_code == 503
    assert "parti could not be reached" in response.content.decode()


@pytest.mark.parametrize(
    "path", ["/live", "/schedule", "/featured", "/recent", "/profile/1", "/watch/1", "/video/1"]
)
def test_every_page_has_the_unavailable_page(client, monkeypatch, path):
    down = UpstreamError(Kind.NOT_JSON, "html")
    names = ["live_now", "schedule", "featured", "recent", "profile", "channel", "recording"]
    fake_api(monkeypatch, **{name: down for name in names})
    response = client.get(path)
    assert response.status_code == 503
    assert "parti sent something that is not data" in response.content.decode()


def test_upstream_not_found_is_our_not_found(client, monkeypatch):
    fake_api(monkeypatch, recording=UpstreamError(Kind.HTTP_STATUS, "404", status=404))
    response = client.get("/video/5")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_the_server_error_page_shows_no_details(client, monkeypatch):
    fake_api(monkeypatch, featured=ZeroDivisionError("secret detail"))
    client.raise_request_exception = False
    response = client.get("/featured")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "secret detail" not in page
    assert "Traceback" not in page
