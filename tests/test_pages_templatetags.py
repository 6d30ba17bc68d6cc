from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from parti_site.pages.templatetags import parti


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (None, ""),
        (0, "0"),
        (951, "951"),
        (1000, "1k"),
        (12516, "12.5k"),
        (25681, "25.7k"),
        (999_950, "1M"),
        (1_250_000, "1.3M"),
        (123_456, "123k"),
        ("x", ""),
    ],
)
def test_it_compacts_numbers(number, text):
    assert parti.compact(number) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (0, "0:00"), (65, "1:05"), (3723, "1:02:03"), (-5, ""), (36000, "10:00:00")],
)
def test_it_formats_durations(seconds, text):
    assert parti.duration(seconds) == text


def test_it_says_how_long_ago():
    now = datetime.now(UTC)
    assert parti.ago(now) == "just now"
    assert parti.ago(now - timedelta(hours=3, minutes=5)) == "3 hours ago"
    assert parti.ago(now - timedelta(days=1, minutes=1)) == "1 day ago"
    assert parti.ago(now + timedelta(days=2, minutes=1)) == "in 2 days"
    assert parti.ago(now - timedelta(days=400)) == "1 year ago"
    assert parti.ago(None) == ""


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("103510"), "103,510"),
        (Decimal("645.66"), "645.66"),
        (Decimal("340.3"), "340.30"),
        (Decimal("0.00"), "0.00"),
        (Decimal("0.000123"), "0.000123"),
        (None, ""),
        ("junk", ""),
    ],
)
def test_it_formats_prices(value, text):
    assert parti.price(value) == text


def test_it_marks_price_moves():
    assert parti.price_mark("up") == "▲"
    assert parti.price_mark("down") == "▼"
    assert parti.price_mark(None) == ""


def test_images_go_through_the_media_module(settings):
    settings.PARTI_MEDIA_HOSTS = ["assets.parti.com"]
    assert parti.image(None) is None
    assert parti.image("asset_url") is None
    url = parti.image("https://assets.parti.com/a.png")
    assert url is None or url.startswith("/")
    assert parti.image("https://evil.example/a.png") is None
