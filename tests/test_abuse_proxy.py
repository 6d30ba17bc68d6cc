"""The media proxy attack list (tests/test_media_proxy_attacks.py) again, through the full
stack: a real Daphne with every middleware, the simulator as parti. Tampered, unsigned and
wrong-purpose tokens are 403; URLs in the query string or the path are never fetched; a
token validly signed for the simulator's control port (or anything off the allow-list) is
refused; parti itself pointing us at the control port gets nowhere. The control port is
never reached through our proxies."""

from __future__ import annotations

import base64
import json
import math
import re
import time
import uuid

import httpx
import pytest
from django.core import signing as django_signing

from parti_site.media import signing
from tests.faults_support import JACK, clear_faults, fault
from tests.live_site import start_site, stop
from tests.test_media_proxy_attacks import _tampered, _unsigned

SITE_KEY = "tests-only-not-a-secret"  # live_site.demo_env's SECRET_KEY


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site, processes = start_site(tmp_path_factory.mktemp("proxy-abuse"), SEGMENT_MODE="proxied")
    site.marker = uuid.uuid4().hex
    yield site
    stop(processes)


def control_target(site, what: str = "state") -> str:
    return f"{site.control_url}/_sim/{what}?ssrf={site.marker}"


def control_reached(site) -> int:
    """Requests the control port got carrying this module's marker (ours are unmarked)."""
    counts = httpx.get(site.control_url + "/_sim/requests?host=control", timeout=5).json()
    return sum(n for path, n in counts.items() if site.marker in path)


def get(site, path: str) -> httpx.Response:
    return httpx.get(site.url + path, timeout=10, follow_redirects=False)


def tokens(site) -> dict[str, str]:
    """Real tokens, as our pages and playlists hand them out."""
    profile = get(site, f"/profile/{JACK}").text
    image = re.search(r'src="/img/([^"]+)"', profile).group(1)
    master = get(site, f"/hls/live/{JACK}/master.m3u8")
    assert master.status_code == 200, master.text[:200]
    child = re.search(r"^/hls/p/([^\s]+)\.m3u8$", master.text, re.MULTILINE).group(1)
    media = get(site, f"/hls/p/{child}.m3u8")
    segment = re.search(r"^/hls/s/([^\s]+)\.ts$", media.text, re.MULTILINE).group(1)
    return {"/img/{}": image, "/hls/p/{}.m3u8": child, "/hls/s/{}.ts": segment}


def forged(url: str, purpose: str) -> str:
    """A token for `url` signed with the site's real key, as only a key thief could."""
    expiry = signing.signing.b62_encode(math.ceil(time.time() + 600))
    signer = django_signing.Signer(key=SITE_KEY, salt=signing._SALT_PREFIX + purpose, sep="~")
    return signer.sign_object([url, expiry], compress=True)


def test_tampered_unsigned_and_wrong_purpose_tokens_are_403(site):
    for route, good in tokens(site).items():
        assert get(site, route.format(good)).status_code == 200, route
        bad = [_tampered(good), good + "x", good.split("~")[0], "x", "~", "A" * 300]
        bad.append(_unsigned(control_target(site)))
        for token in bad:
            response = get(site, route.format(token))
            assert response.status_code in (403, 404), (route, token[:40], response.status_code)
    other = {"/img/{}": "/hls/s/{}.ts", "/hls/s/{}.ts": "/img/{}", "/hls/p/{}.m3u8": "/img/{}"}
    for route, good in tokens(site).items():
        assert get(site, other[route].format(good)).status_code == 403, route
    assert control_reached(site) == 0


@pytest.mark.parametrize("purpose", [signing.IMAGE, signing.PLAYLIST, signing.SEGMENT])
@pytest.mark.parametrize("what", ["state", "reset", "ws"])
def test_a_validly_signed_token_for_the_control_port_is_refused(site, purpose, what):
    token = forged(control_target(site, what), purpose)
    route = {
        signing.IMAGE: "/img/{}",
        signing.PLAYLIST: "/hls/p/{}.m3u8",
        signing.SEGMENT: "/hls/s/{}.ts",
    }[purpose]
    assert get(site, route.format(token)).status_code == 403
    assert control_reached(site) == 0


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{control}/_sim/state?ssrf={marker}",
        "http://localhost:{control}/_sim/state?ssrf={marker}",
        "http://[::1]:{control}/_sim/state?ssrf={marker}",
        "http://0x7f000001:{control}/_sim/state?ssrf={marker}",
        "http://169.254.169.254/latest/meta-data/?ssrf={marker}",
        "file:///etc/passwd?ssrf={marker}",
    ],
)
def test_urls_in_query_strings_and_paths_are_never_fetched(site, target):
    url = target.format(control=site.sim_base + 7, marker=site.marker)
    quoted = httpx.URL(url).raw_path.decode() if url.startswith("http") else url
    paths = [
        f"/img/?url={url}",
        f"/img/x?src={url}",
        f"/hls/p/x.m3u8?url={url}",
        f"/hls/s/x.ts?u={url}",
        f"/hls/live/{JACK}/master.m3u8?playback_url={url}",
        f"/hls/video/83870/master.m3u8?url={url}",
        f"/?url={url}",
        f"/img/{url}",
        f"/hls/s/{url}.ts",
        f"/hls/p/{quoted}.m3u8",
        "/img/" + base64.urlsafe_b64encode(json.dumps([url, "0"]).encode()).decode(),
    ]
    for path in paths:
        response = get(site, path)
        assert response.status_code in (200, 403, 404), (path, response.status_code)
        # Pages may echo the query string in their own links; never the control port's answer.
        assert "websocket_connections" not in response.text and "token_lifetime" not in (
            response.text
        )
    assert control_reached(site) == 0


def test_parti_pointing_us_at_the_control_port_gets_nowhere(site):
    fields = {
        "playback_url": control_target(site, "state"),
        "avatar_link": control_target(site, "state"),
        "event_file": control_target(site, "reset"),
        "livestream_preview_file": control_target(site, "state"),
        "livestream_recording": control_target(site, "state"),
    }
    fault(site.control_url, "*", mode="patch", fields=fields)
    # A live channel and a recording no earlier test here fetched (the site caches them).
    live, event = 351819, 83945
    try:
        for path in ["/", "/live", f"/watch/{live}", f"/profile/{live}", f"/video/{event}"]:
            page = get(site, path)
            assert page.status_code == 200, path
            assert site.marker not in page.text
            for token in re.findall(r"/img/([A-Za-z0-9_.~-]+)", page.text):
                assert get(site, f"/img/{token}").status_code in (200, 403, 404)
        for path in [f"/hls/live/{live}/master.m3u8", f"/hls/video/{event}/master.m3u8"]:
            response = get(site, path)
            assert response.status_code in (403, 404, 502, 503), (path, response.status_code)
            assert site.marker not in response.text
    finally:
        clear_faults(site.control_url)
    assert control_reached(site) == 0
