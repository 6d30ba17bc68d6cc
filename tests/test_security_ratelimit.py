"""Per-client limits on the expensive paths: 429 with Retry-After over the limit, a fresh
allowance in the next window, clients counted apart, no address in the cache."""

import http.client
import importlib

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

import parti_site.settings
from parti_site.settings import env_rate_limits
from parti_site.web import ratelimit
from tests.live_site import start_site, stop

DEFAULT = (
    "/hls/=600/60,/img/=600/60,/search=30/60,/feeds/=60/60,/calendar=60/60,/admin/login/=10/60"
)


@pytest.fixture
def clock(monkeypatch):
    now = {"t": 60 * 16_000 + 20.0}  # 20 s into a 60 s window
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])
    return now


@pytest.fixture(autouse=True)
def limits(settings):
    settings.RATE_LIMITS = [("/robots.txt", 3, 60), ("/healthz", 100, 60)]


def get(client, path="/robots.txt", address="203.0.113.7", **headers):
    return client.get(path, REMOTE_ADDR=address, headers=headers)


def test_it_refuses_over_the_limit_with_retry_after(client, clock):
    assert [get(client).status_code for _ in range(3)] == [200, 200, 200]
    refused = get(client)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "40"
    assert refused["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in refused
    assert refused.reason_phrase == "Too Many Requests"


def test_a_crawler_over_the_limit_does_not_flood_the_log(client, clock, caplog):
    for _ in range(3):
        get(client)
    with caplog.at_level("INFO"):
        for _ in range(20):
            assert get(client).status_code == 429
    over = [r for r in caplog.records if r.levelname == "WARNING" or "rate limit" in r.message]
    assert len(over) == 1  # the one "went over" line, not one warning per refusal


def test_the_next_window_resets_the_count(client, clock):
    for _ in range(4):
        get(client)
    clock["t"] += 39
    assert get(client)["Retry-After"] == "1"
    clock["t"] += 1  # the window ends
    assert get(client).status_code == 200


def test_clients_and_paths_are_counted_apart(client, clock):
    for _ in range(4):
        get(client)
    assert get(client).status_code == 429
    assert get(client, address="198.51.100.9").status_code == 200
    assert get(client, path="/healthz").status_code == 200
    assert get(client, path="/live").status_code != 429  # not limited


def test_an_ipv6_client_is_one_client_across_its_64(client, clock):
    for suffix in ("1", "2", "3"):
        assert get(client, address=f"2001:db8:1:2::{suffix}").status_code == 200
    assert get(client, address="2001:db8:1:2:ffff::9").status_code == 429
    assert get(client, address="2001:db8:1:3::1").status_code == 200


def test_the_cache_holds_no_address(client, clock):
    get(client, address="203.0.113.77")
    keys = [key for key in cache._cache if "ratelimit" in key]
    assert keys and not any("203.0.113.77" in key for key in keys)


def test_no_limits_when_switched_off(client, clock, settings):
    settings.RATE_LIMITS = []
    assert all(get(client).status_code == 200 for _ in range(10))


def test_a_failing_cache_lets_requests_through(client, clock, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "add", broken)
    assert all(get(client).status_code == 200 for _ in range(5))


def test_default_limits_leave_room_for_watching(monkeypatch):
    monkeypatch.delenv("RATE_LIMITS", raising=False)
    rules = {prefix: (n, seconds) for prefix, n, seconds in env_rate_limits("RATE_LIMITS", DEFAULT)}
    # A player asks for a segment and a playlist about every 2 s: ~60 a minute.
    assert rules["/hls/"] == (600, 60)
    assert rules["/img/"] == (600, 60)
    assert rules["/search"][0] < 600 and rules["/feeds/"][0] < 600
    assert rules["/admin/login/"] == (10, 60)  # a person mistyping, not a password guesser


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RATE_LIMITS", "/hls/=100/10, /feeds/=5/60")
    assert env_rate_limits("RATE_LIMITS", DEFAULT) == [("/hls/", 100, 10), ("/feeds/", 5, 60)]
    monkeypatch.setenv("RATE_LIMITS", "off")
    assert env_rate_limits("RATE_LIMITS", DEFAULT) == []
    for wrong in ("/hls/=100", "hls=1/1", "/hls/=0/60", "/hls/=ten/60"):
        monkeypatch.setenv("RATE_LIMITS", wrong)
        with pytest.raises(ImproperlyConfigured):
            env_rate_limits("RATE_LIMITS", DEFAULT)


def test_a_browser_over_the_limit_gets_a_page_saying_when_to_retry(client, clock):
    for _ in range(3):
        get(client)
    refused = get(client, Accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "text/html; charset=utf-8"
    page = refused.content.decode()
    assert "<title>Too many requests" in page
    assert "Try again in 40 seconds" in page
    assert "3 times in 60 seconds" in page


def test_a_player_over_the_limit_gets_one_line_of_text(client, clock):
    for _ in range(3):
        get(client)
    refused = get(client, Accept="*/*")
    assert refused["Content-Type"] == "text/plain; charset=utf-8"
    assert refused.content == b"Too many requests. Try again in 40 seconds.\n"


@pytest.mark.django_db
def test_admin_logins_are_limited_by_default(client, clock, settings, monkeypatch):
    monkeypatch.delenv("RATE_LIMITS", raising=False)
    settings.RATE_LIMITS = importlib.reload(parti_site.settings).RATE_LIMITS  # the default
    attempt = {"username": "admin", "password": "a-wrong-guess"}
    for _ in range(10):
        page = client.post("/admin/login/", attempt, REMOTE_ADDR="203.0.113.7")
        assert page.status_code == 200 and b"correct username and password" in page.content
    refused = client.post("/admin/login/", attempt, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "40"
    assert client.post("/admin/login/", attempt, REMOTE_ADDR="198.51.100.9").status_code == 200


def test_daphne_names_the_429_status(tmp_path):
    """Twisted's phrase table lacked 429, and Daphne ignores the ASGI reason."""
    site, processes = start_site(tmp_path, RATE_LIMITS="/robots.txt=1/60")
    try:
        statuses = []
        for _ in range(2):
            connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
            connection.request("GET", "/robots.txt")
            response = connection.getresponse()
            statuses.append((response.status, response.reason))
            connection.close()
        assert statuses == [(200, "OK"), (429, "Too Many Requests")]
    finally:
        stop(processes)
