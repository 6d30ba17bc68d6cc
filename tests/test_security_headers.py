"""Every answer carries the security headers; the Content-Security-Policy allows exactly
what the pages need, with the segment hosts only in direct segment mode."""

import pytest

from parti_site.media.images import image_url
from parti_site.web.headers import PERMISSIONS_POLICY, media_sources
from tests import faults_support
from tests.faults_support import JACK

BASE = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "worker-src": ["'self'", "blob:"],
    "manifest-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
}


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in directives
        directives[name] = sources
    return directives


def assert_secure_headers(response):
    directives = policy(response)
    for name, sources in BASE.items():
        assert directives[name] == sources, name
    assert directives["connect-src"][:2] == ["'self'", "ws://testserver"]
    assert directives["media-src"][:3] == ["'self'", "blob:", "data:"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    return directives


PAGES = [*faults_support.PAGES, "/admin/login/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_page_type_has_the_policy(client, parti, settings, path):
    settings.SEGMENT_MODE = "proxied"
    response = client.get(path)
    assert response.status_code == 200
    directives = assert_secure_headers(response)
    assert directives["connect-src"] == ["'self'", "ws://testserver"]
    assert directives["media-src"] == ["'self'", "blob:", "data:"]


@pytest.mark.django_db
def test_the_404_page_and_healthz_have_it(client, parti):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert_secure_headers(response)
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    assert_secure_headers(response)
    assert_secure_headers(client.get("/robots.txt"))


@pytest.mark.django_db
def test_media_answers_have_it(client, parti):
    response = client.get(f"/hls/live/{JACK}/master.m3u8")
    assert response.status_code == 200
    assert_secure_headers(response)
    # Images and segments are bodies, never documents: they keep their own stricter policy.
    avatar = f"http://127.0.0.1:{parti.base_port + 6}/asset.png"
    response = client.get(image_url(avatar))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY


@pytest.mark.django_db
def test_direct_mode_pages_may_reach_the_segment_hosts(client, parti, settings):
    settings.SEGMENT_MODE = "direct"
    settings.PARTI_MEDIA_HOSTS = [".live-video.net", "watch.parti.com", "http://127.0.0.1:8102"]
    directives = assert_secure_headers(client.get(f"/watch/{JACK}"))
    hosts = ["https://*.live-video.net", "https://watch.parti.com", "http://127.0.0.1:8102"]
    assert directives["connect-src"] == ["'self'", "ws://testserver", *hosts]
    assert directives["media-src"] == ["'self'", "blob:", "data:", *hosts]
    # Only pages run the player: JSON and media answers keep the narrow policy.
    assert policy(client.get("/healthz"))["connect-src"] == ["'self'", "ws://testserver"]


@pytest.mark.django_db
def test_behind_tls_the_socket_is_wss(client, parti, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["parti.example.org"]
    headers = {"host": "parti.example.org", "x-forwarded-proto": "https"}
    sources = policy(client.get("/live", headers=headers))["connect-src"]
    assert sources[:2] == ["'self'", "wss://parti.example.org"]
    plain = policy(client.get("/live", headers={"host": "parti.example.org"}))["connect-src"]
    assert plain[:2] == ["'self'", "ws://parti.example.org"]


def test_media_hosts_become_sources():
    assert media_sources(
        [
            ".live-video.net",
            "watch.parti.com",
            "http://127.0.0.1:8102",
            "https://cdn.example.org:8443",
            "http://[::1]:9000",
            "ftp://nope",
            "",
            "watch.parti.com",
        ]
    ) == [
        "https://*.live-video.net",
        "https://watch.parti.com",
        "http://127.0.0.1:8102",
        "https://cdn.example.org:8443",
        "http://[::1]:9000",
    ]
