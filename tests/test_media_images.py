"""image_url(): how upstream image URLs appear in our pages."""

import pytest

from parti_site.media import signing
from parti_site.media.images import IMAGE_PATH_PREFIX, image_url

AVATAR = "https://assets.parti.com/353044_3f2a9c1e-0000-4000-8000-000000000000.png"


@pytest.fixture(autouse=True)
def media_hosts(settings):
    settings.PARTI_MEDIA_HOSTS = [
        ".live-video.net",
        "watch.parti.com",
        "assets.parti.com",
        "media.parti.com",
        "http://127.0.0.1:8102",
    ]


def upstream_of(our_url):
    assert our_url.startswith(IMAGE_PATH_PREFIX)
    token = our_url[len(IMAGE_PATH_PREFIX) :]
    assert "/" not in token and "?" not in token and "#" not in token
    return signing.unsign_url(token, signing.IMAGE)


@pytest.mark.parametrize(
    "value",
    [
        AVATAR,
        "https://media.parti.com/stream-screenshots/351424_eb9e5250.jpeg",
        "http://127.0.0.1:8102/assets/avatar-3.png",
    ],
)
def test_it_signs_allowed_images(value):
    assert upstream_of(image_url(value)) == value


def test_it_is_stable_for_the_same_image():
    assert image_url(AVATAR) == image_url(AVATAR)


@pytest.mark.parametrize(
    "value, repaired",
    [
        ("https://https://assets.parti.com/asset.jpeg", "https://assets.parti.com/asset.jpeg"),
        ("HTTPS://https://assets.parti.com/a.png", "https://assets.parti.com/a.png"),
        ("https://https://https://assets.parti.com/a.png", "https://assets.parti.com/a.png"),
        ("http://https://assets.parti.com/a.png", "https://assets.parti.com/a.png"),
        ("  " + AVATAR + "\n", AVATAR),
    ],
)
def test_it_repairs_doubled_schemes_and_whitespace(value, repaired):
    assert upstream_of(image_url(value)) == repaired


def test_a_repaired_url_must_still_pass_the_allow_list():
    # The last scheme wins, and plain http is not allowed for this host.
    assert image_url("https://http://assets.parti.com/a.png") is None
    assert image_url("https://https://evil.com/a.png") is None


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "asset_url",
        "ASSET_URL",
        "asset_token",
        "null",
        42,
        ["https://assets.parti.com/a.png"],
        "353044_3f2a9c1e.png",
        "/static/avatar.png",
        "//assets.parti.com/a.png",
        "javascript:alert(1)",
        "https://javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "<img src=x onerror=alert(1)>",
        '"><script>alert(1)</script>',
        'https://assets.parti.com/a.png"><script>alert(1)</script>',
        "https://evil.com/a.png",
        "https://assets.parti.com.evil.com/a.png",
        "https://evil.com#@assets.parti.com/a.png",
        "http://assets.parti.com/a.png",
        "https://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
    ],
)
def test_it_returns_none_for_unusable_values(value):
    assert image_url(value) is None
