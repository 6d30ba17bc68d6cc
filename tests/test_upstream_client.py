"""The HTTP client: headers, query strings as parti's frontend sends them, and every kind
of failure turned into one UpstreamError."""

import socket
import threading
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from parti_site.upstream import client
from parti_site.upstream.errors import Kind, UpstreamError

API = "https://api.test/parti_v2"


@pytest.fixture(autouse=True)
def api_url(settings):
    settings.PARTI_API_URL = API
    settings.PARTI_DEADLINE = 2.0
    settings.PARTI_CONNECT_TIMEOUT = 1.0


@responses.activate
def test_it_sends_the_headers_parti_expects():
    responses.get(f"{API}/profile/featured_channels", json=[])
    client.featured_channels()
    sent = responses.calls[0].request.headers
    assert sent["Origin"] == "https://parti.com"
    assert sent["Referer"] == "https://parti.com/"
    assert sent["Accept"] == "application/json, text/plain, */*"
    assert "Mozilla/5.0" in sent["User-Agent"]


@responses.activate
def test_recent_asks_exactly_like_partis_frontend():
    responses.get(f"{API}/profile/get_livestream_channel_info/recent", json=[])
    client.recent_streams(category_id=7)
    client.recent_streams(no_category=True)
    client.recent_streams(top=True)
    queries = [urlsplit(call.request.url).query for call in responses.calls]
    # The recorded query strings of home-routes.md §8, §10 and §9.
    assert queries == [
        "sort_by_date_desc=true&from_ts=1627948800&to_ts=2229292800&followed_only=false"
        "&categories=7&offset=0&limit=15&top_views_sort=false",
        "sort_by_date_desc=true&from_ts=1627948800&to_ts=2229292800&followed_only=false"
        "&categories=NaN&offset=0&limit=15&top_views_sort=false",
        "sort_by_date_desc=true&from_ts=1627948800&to_ts=2229292800&followed_only=false"
        "&offset=0&limit=15&top_views_sort=true",
    ]


@responses.activate
def test_live_list_takes_a_category():
    responses.get(f"{API}/profile/get_livestream_channel_info/live", json=[])
    client.live_channels(limit=100, offset=0, category_id=7)
    query = dict(parse_qsl(urlsplit(responses.calls[0].request.url).query))
    assert query == {"limit": "100", "offset": "0", "categories": "7"}


@responses.activate
def test_the_name_lookup_returns_the_bare_number_and_encodes_discord_names():
    responses.get(f"{API}/profile/get_user_by_social_media/discord/jaynair%230", body="347653")
    assert client.user_id_by_social_media("discord", "jaynair#0") == 347653


@responses.activate
def test_path_parameters_cannot_escape_the_route():
    responses.get(f"{API}/profile/get_user_by_social_media/parti/..%2Fadmin", body="1")
    client.user_id_by_social_media("parti", "../admin")
    assert responses.calls[0].request.url.endswith("/parti/..%2Fadmin")


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ({"status": 500, "json": {"error": "x"}}, Kind.HTTP_STATUS),
        ({"status": 429, "headers": {"Retry-After": "30"}}, Kind.HTTP_STATUS),
        ({"status": 200, "body": "<html>Checking your browser</html>"}, Kind.NOT_JSON),
        ({"status": 200, "body": ""}, Kind.NOT_JSON),
        ({"status": 302, "headers": {"Location": "https://elsewhere.test/"}}, Kind.HTTP_STATUS),
    ],
)
@responses.activate
def test_failures_become_one_error_type_with_a_kind(reply, kind):
    responses.get(f"{API}/profile/featured_channels", **reply)
    with pytest.raises(UpstreamError) as caught:
        client.featured_channels()
    assert caught.value.kind == kind
    assert caught.value.message


@responses.activate
def test_a_404_is_recognisable_as_not_found():
    responses.get(f"{API}/profile/user_profile/1", status=404, json={"detail": "Not found"})
    with pytest.raises(UpstreamError) as caught:
        client.user_profile(1)
    assert caught.value.is_not_found


def test_an_unreachable_upstream_is_reported_as_such(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.PARTI_API_URL = f"http://127.0.0.1:{port}/parti_v2"
    with pytest.raises(UpstreamError) as caught:
        client.categories()
    assert caught.value.kind == Kind.UNREACHABLE


def _serve_once(handler) -> int:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def run():
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            try:
                handler(connection)
            except OSError:
                pass
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1]


def test_a_server_that_drips_bytes_cannot_hold_a_call_past_its_deadline(settings):
    def drip(connection):
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n[")
        for _ in range(100):
            connection.sendall(b" ")
            time.sleep(0.2)

    port = _serve_once(drip)
    settings.PARTI_API_URL = f"http://127.0.0.1:{port}/parti_v2"
    settings.PARTI_DEADLINE = 1.0
    started = time.monotonic()
    with pytest.raises(UpstreamError) as caught:
        client.categories()
    assert caught.value.kind == Kind.TIMEOUT
    assert time.monotonic() - started < 2.5


def test_a_server_that_never_answers_times_out(settings):
    port = _serve_once(lambda connection: time.sleep(5))
    settings.PARTI_API_URL = f"http://127.0.0.1:{port}/parti_v2"
    settings.PARTI_DEADLINE = 0.5
    started = time.monotonic()
    with pytest.raises(UpstreamError) as caught:
        client.categories()
    assert caught.value.kind == Kind.TIMEOUT
    assert time.monotonic() - started < 2.0
