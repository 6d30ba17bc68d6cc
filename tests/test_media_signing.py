"""Signed, expiring media tokens."""

import re

import pytest
from django.core import signing as django_signing

from parti_site.media import signing
from parti_site.media.allowlist import ForbiddenURL
from parti_site.media.signing import InvalidMediaToken, sign_url, unsign_url

SEGMENT = (
    "https://fa723fc1b171.j.cloudfront.hls.live-video.net/v1/segment/"
    "CqL4BQ8AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdef.ts?dna=Ab%2Fc+d==&x=1"
)
NOW = 1_750_000_000.0


@pytest.fixture(autouse=True)
def media_hosts(settings):
    settings.PARTI_MEDIA_HOSTS = [".live-video.net", "watch.parti.com", "http://127.0.0.1:8102"]


@pytest.fixture
def clock(monkeypatch):
    """A settable clock for the signing module."""

    class Clock:
        now = NOW

    monkeypatch.setattr(signing, "_now", lambda: Clock.now)
    return Clock


def test_it_round_trips(clock):
    token = sign_url(SEGMENT, signing.SEGMENT, 60)
    assert unsign_url(token, signing.SEGMENT) == SEGMENT


def test_it_returns_the_normalised_url():
    token = sign_url("HTTPS://Watch.Parti.com./x.m3u8", signing.PLAYLIST, 60)
    assert unsign_url(token, signing.PLAYLIST) == "https://watch.parti.com/x.m3u8"


def test_tokens_are_a_safe_path_segment():
    token = sign_url(SEGMENT, signing.SEGMENT, 60)
    assert re.fullmatch(r"[A-Za-z0-9_\-.~]+", token)
    assert token not in (".", "..")


def test_tokens_are_reasonably_short():
    token = sign_url(SEGMENT, signing.SEGMENT, 60)
    # base64 of the URL plus expiry and a 43-character signature
    assert len(token) < len(SEGMENT) * 4 // 3 + 70


def test_the_same_url_signed_soon_after_gives_the_same_token(clock):
    first = sign_url(SEGMENT, signing.IMAGE, 3600)
    clock.now += 60
    assert sign_url(SEGMENT, signing.IMAGE, 3600) == first


def test_it_is_valid_for_at_least_max_age(clock):
    token = sign_url(SEGMENT, signing.SEGMENT, 60)
    clock.now += 60
    assert unsign_url(token, signing.SEGMENT) == SEGMENT


def test_it_expires(clock):
    token = sign_url(SEGMENT, signing.SEGMENT, 60)
    clock.now += 60 * 1.25 + 2  # past max_age plus the rounding step
    with pytest.raises(InvalidMediaToken, match="expired"):
        unsign_url(token, signing.SEGMENT)


def test_it_refuses_another_purpose():
    token = sign_url(SEGMENT, signing.IMAGE, 60)
    with pytest.raises(InvalidMediaToken):
        unsign_url(token, signing.SEGMENT)


def test_it_refuses_tokens_signed_with_another_key(settings):
    token = sign_url(SEGMENT, signing.SEGMENT, 60)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    with pytest.raises(InvalidMediaToken):
        unsign_url(token, signing.SEGMENT)


def flip(char):
    return "A" if char != "A" else "B"


@pytest.mark.parametrize("position", [0, 1, 5, 20, -30, -1])
def test_it_refuses_tampered_tokens(position):
    token = sign_url(SEGMENT, signing.SEGMENT, 60)
    position %= len(token)
    tampered = token[:position] + flip(token[position]) + token[position + 1 :]
    assert tampered != token
    with pytest.raises(InvalidMediaToken):
        unsign_url(tampered, signing.SEGMENT)


def test_it_refuses_a_token_with_a_swapped_payload():
    a = sign_url(SEGMENT, signing.SEGMENT, 60)
    b = sign_url("https://watch.parti.com/x.ts", signing.SEGMENT, 60)
    forged = a.rsplit("~", 1)[0] + "~" + b.rsplit("~", 1)[1]
    with pytest.raises(InvalidMediaToken):
        unsign_url(forged, signing.SEGMENT)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "~",
        "a~b",
        "...~~~",
        SEGMENT,
        "x" * 10000,
        None,
        42,
        # Validly signed with our key, but not our payload shape.
        django_signing.Signer(salt="parti_site.media.signing:segment", sep="~").sign_object(
            {"u": SEGMENT}
        ),
        django_signing.Signer(salt="parti_site.media.signing:segment", sep="~").sign_object(
            [SEGMENT, "not-base62!"]
        ),
        django_signing.Signer(salt="parti_site.media.signing:segment", sep="~").sign("notjson"),
        # Signed by Django's default dumps(): a different salt and separator.
        django_signing.dumps([SEGMENT, "zzzzzz"]),
    ],
)
def test_it_refuses_garbage(token):
    with pytest.raises(InvalidMediaToken):
        unsign_url(token, signing.SEGMENT)


def test_invalid_tokens_are_bad_signatures():
    assert issubclass(InvalidMediaToken, django_signing.BadSignature)


def test_it_will_not_sign_forbidden_urls():
    for url in ("https://evil.com/x.ts", "http://watch.parti.com/x", "javascript:alert(1)"):
        with pytest.raises(ForbiddenURL):
            sign_url(url, signing.SEGMENT, 60)


def test_it_rechecks_the_allow_list_on_use(settings):
    token = sign_url("http://127.0.0.1:8102/hls/x.m3u8", signing.PLAYLIST, 60)
    assert unsign_url(token, signing.PLAYLIST) == "http://127.0.0.1:8102/hls/x.m3u8"
    settings.PARTI_MEDIA_HOSTS = [".live-video.net"]
    with pytest.raises(InvalidMediaToken, match="no longer allowed"):
        unsign_url(token, signing.PLAYLIST)


@pytest.mark.parametrize("max_age", [0, -5])
def test_max_age_must_be_positive(max_age):
    with pytest.raises(ValueError):
        sign_url(SEGMENT, signing.SEGMENT, max_age)


def test_purpose_must_be_given():
    with pytest.raises(ValueError):
        sign_url(SEGMENT, "", 60)
