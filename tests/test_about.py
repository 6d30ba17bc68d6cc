"""/about: what this instance does with visitors' data, written from the live settings."""

import re

import pytest

from tests.admin_forms import committed_db, save_cache_setting, save_switches


def text(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(li|table)>', page, re.DOTALL)
    assert match, element_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def test_it_describes_the_defaults_without_a_database(client, parti):
    response = client.get("/about")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Video: direct" in text(page, "about-video")
    assert "Amazon IVS" in text(page, "about-video")
    assert "Pictures: proxied" in text(page, "about-images")
    assert "read-only" in text(page, "about-chat")
    cache = text(page, "about-cache")
    assert "live Home (live now), Live 30 seconds 1 day more" in cache
    assert "lookup /creator/... links to profiles 1 day 7 days more" in cache


def test_it_follows_the_segment_mode_setting(client, parti, settings):
    settings.SEGMENT_MODE = "proxied"
    page = client.get("/about").content.decode()
    assert "Video: proxied" in text(page, "about-video")


def test_the_footer_of_every_page_links_it(client, parti):
    assert 'href="/about"' in client.get("/live").content.decode()


@committed_db
def test_it_changes_with_the_admin_settings(admin_client, parti):
    save_switches(
        admin_client, segment_mode="proxied", max_height=480, image_proxy=False, public_chat=False
    )
    save_cache_setting(admin_client, "live", 90, 0)
    page = admin_client.get("/about").content.decode()
    video = text(page, "about-video")
    assert "Video: proxied" in video and "up to 480p" in video
    assert "Pictures: off" in text(page, "about-images")
    assert "public chat is off" in text(page, "about-chat")
    assert "live Home (live now), Live 90 seconds not at all" in text(page, "about-cache")


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "none"),
        (1, "1 second"),
        (45, "45 seconds"),
        (90, "90 seconds"),
        (120, "2 minutes"),
        (3600, "1 hour"),
        (86400, "1 day"),
        (604800, "7 days"),
        ("x", ""),
    ],
)
def test_cache_times_read_as_people_say_them(seconds, shown):
    from parti_site.instance.templatetags.instance import seconds as format_seconds

    assert format_seconds(seconds) == shown


def test_it_says_whether_addresses_are_logged(client, parti, settings):
    settings.LOG_CLIENT_IPS = False
    assert "never your address" in text(client.get("/about").content.decode(), "about-logs")
    settings.LOG_CLIENT_IPS = True
    assert "your address" in text(client.get("/about").content.decode(), "about-logs")
    assert "never your address" not in text(client.get("/about").content.decode(), "about-logs")
