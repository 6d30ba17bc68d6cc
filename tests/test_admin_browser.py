"""An operator in Debian's chromium: logs in to /admin/, changes the live-list TTL and the
segment mode, and the next page load obeys both."""

import re

import pytest

from tests.admin_forms import OPERATOR, prepare_database
from tests.live_site import demo_env, start_site, stop

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def operated_site(tmp_path_factory):
    """A running site on a database of its own, migrated, with a first admin."""
    tmp = tmp_path_factory.mktemp("operated")
    database = f"sqlite:///{tmp / 'db.sqlite3'}"
    prepare_database(demo_env(0, DATABASE_URL=database))
    site, processes = start_site(tmp, DATABASE_URL=database)
    yield site
    stop(processes)


def test_an_operator_logs_in_and_changes_a_ttl_and_the_segment_mode(operated_site, page):
    site = operated_site
    page.goto(site.url + "/admin/")
    page.wait_for_url("**/admin/login/**")
    page.get_by_label("Username").fill(OPERATOR["username"])
    page.get_by_label("Password").fill(OPERATOR["password"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(site.url + "/admin/")

    page.get_by_role("link", name="Cache settings").click()
    page.get_by_role("link", name="live", exact=True).click()
    page.get_by_label("Fresh for (seconds)").fill("45")
    page.get_by_role("button", name="Save", exact=True).click()
    assert page.get_by_text("was changed successfully").is_visible()

    page.goto(site.url + "/admin/instance/switches/")
    page.get_by_label("Segment mode:", exact=True).select_option("proxied")
    page.get_by_role("button", name="Save", exact=True).click()
    assert page.get_by_text("was changed successfully").is_visible()

    page.goto(site.url + "/about")
    row = page.locator("#about-cache tr[data-endpoint='live']")
    assert re.search(r"45 seconds", row.inner_text())
    assert "Video: proxied" in page.locator("#about-video").inner_text()

    response = page.request.get(site.url + "/hls/live/348242/master.m3u8")
    lines = [line for line in response.text().splitlines() if line and line[0] != "#"]
    assert lines and all(line.startswith("/hls/p/") for line in lines)


def test_the_admin_is_not_reachable_without_logging_in(operated_site, page):
    response = page.goto(operated_site.url + "/admin/instance/cachesetting/")
    assert "/admin/login/" in page.url
    assert "no-store" in response.headers["cache-control"]
