"""The upstream health page: per endpoint calls, hits, misses, last success and failure;
the relay's state."""

import re

import pytest
import responses

from parti_site.live import relay
from parti_site.upstream import api
from parti_site.upstream.errors import UpstreamError
from tests.admin_forms import committed_db

HEALTH = "/admin/instance/upstreamhealth/"


def row(page: str, endpoint: str) -> str:
    match = re.search(rf'<tr data-endpoint="{endpoint}".*?</tr>', page, re.DOTALL)
    assert match, endpoint
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


@pytest.mark.django_db
def test_the_admin_index_links_the_health_page(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert f'href="{HEALTH}"' in page
    assert "Upstream health" in page


@pytest.mark.django_db
def test_it_lists_every_endpoint_even_before_any_call(admin_client):
    page = admin_client.get(HEALTH).content.decode()
    for endpoint in ("live", "channel", "prices", "chat"):
        assert "never" in row(page, endpoint)
    assert "Not started in this process" in page


@pytest.mark.django_db
def test_it_counts_calls_hits_and_misses_and_shows_the_last_failure(admin_client, parti, settings):
    admin_client.get("/live")
    admin_client.get("/live")
    with responses.RequestsMock() as mock:
        mock.get(re.compile(r".*/get_livestream_channel_info/1234"), status=502)
        with pytest.raises(UpstreamError):
            api.channel(1234)
    page = admin_client.get(HEALTH).content.decode()
    live = row(page, "live")
    assert re.search(r"Home \(live now\), Live 1 1 1 0 ", live), live  # calls hits misses stale
    assert "UTC (" in live  # last success, with how long ago
    channel = row(page, "channel")
    assert "(failing)" in channel and "1 failed" in channel
    assert "http_status" in channel and "502" in channel


@pytest.mark.django_db
def test_it_shows_the_relay_state(admin_client, monkeypatch):
    monkeypatch.setattr(
        relay,
        "state",
        lambda: {
            "holder": True,
            "mode": "single-process",
            "process": "abc",
            "started_at": 1_700_000_000,
            "connected_since": 1_700_000_010,
            "last_frame_at": 1_700_000_020,
            "reconnects": 3,
            "sockets": {"golive": {"connected_since": 1_700_000_010, "reconnects": 1}},
            "watched": [348242],
            "local_watchers": {},
        },
    )
    page = re.sub(r"\s+", " ", admin_client.get(HEALTH).content.decode())
    assert "single-process, this process holds the upstream sockets" in page
    assert "2023-11-14 22:13:30 UTC" in page  # connected since
    assert "2023-11-14 22:13:40 UTC" in page  # last frame
    assert '<th scope="row">Reconnects</th><td>3</td>' in page
    assert "348242" in page
    assert '<th scope="row">golive</th>' in page


@committed_db
def test_purge_all_from_the_health_page_comes_back_to_it(admin_client):
    response = admin_client.post("/admin/instance/cachesetting/purge-all/", {"next": HEALTH})
    assert response["Location"] == HEALTH
