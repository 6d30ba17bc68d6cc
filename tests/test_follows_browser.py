"""Follows in Debian's chromium: follow with the button, then the creator's go-live toast
is highlighted and, with notifications turned on, a browser notification appears."""

import pytest

from tests.test_live_browser import control, open_live, sim_ws_state, wait_for_upstream

pytestmark = pytest.mark.browser

FOLLOWED = 494426  # scheduled, not live in the recordings
OTHER = 457056

# Stands in for the browser's Notification (headless chromium shows none) and records them.
FAKE_NOTIFICATION = """
window.__notes = [];
window.Notification = class {
  constructor(title, options) { window.__notes.push([title, options && options.body]); }
  close() {}
  static get permission() { return window.__granted ? "granted" : "default"; }
  static requestPermission() { window.__granted = true; return Promise.resolve("granted"); }
};
"""


@pytest.fixture
def site(live_site):
    sim_ws_state(live_site)
    control(live_site, "/_sim/ws/config", {"interval": 0, "golive_every": 0})
    return live_site


def golive(site, user_id, name, title):
    overrides = {"user_id": user_id, "user_name": name, "event_title": title}
    return control(site, "/_sim/ws/golive", overrides)["frame"]


def test_a_followed_creators_go_live_toast_is_highlighted(site, page):
    page.goto(f"{site.url}/profile/{FOLLOWED}")
    page.locator(f".profile-actions [data-follow-button='{FOLLOWED}']").click()
    page.wait_for_url(f"{site.url}/profile/{FOLLOWED}")
    button = page.locator(f".profile-actions [data-follow-button='{FOLLOWED}']")
    assert button.inner_text() == "Following"
    assert button.get_attribute("aria-pressed") == "true"

    open_live(page, site.url + "/")
    wait_for_upstream(site, "NewChannelLiveNotify")
    golive(site, OTHER, "Somebody Else", "Not followed")
    golive(site, FOLLOWED, "Followed <b>One</b>", "Hello")
    followed = page.locator(f"[data-live-toasts] [data-toast-user='{FOLLOWED}']")
    followed.wait_for(timeout=3000)
    page.wait_for_function(
        f"() => document.querySelector(\"[data-toast-user='{FOLLOWED}']\")"
        ".classList.contains('toast-followed')",
        timeout=2000,
    )
    assert followed.locator(".toast-badge").inner_text() == "Following"
    assert "Followed <b>One</b> just went live: Hello" in followed.inner_text()
    other = page.locator(f"[data-live-toasts] [data-toast-user='{OTHER}']")
    assert "toast-followed" not in (other.get_attribute("class") or "")


def test_notifications_are_opt_in_and_only_for_followed_creators(site, page):
    page.add_init_script(FAKE_NOTIFICATION)
    page.goto(f"{site.url}/profile/{FOLLOWED}")
    page.locator(f".profile-actions [data-follow-button='{FOLLOWED}']").click()
    page.wait_for_url(f"{site.url}/profile/{FOLLOWED}")
    open_live(page, site.url + "/following")
    wait_for_upstream(site, "NewChannelLiveNotify")
    golive(site, FOLLOWED, "Followed One", "Before opting in")
    page.locator(f"[data-toast-user='{FOLLOWED}']").first.wait_for(timeout=3000)
    assert page.evaluate("window.__notes") == []

    notify = page.locator("[data-follow-notify-button]")
    notify.click()
    page.wait_for_function(
        "() => document.querySelector('[data-follow-notify-button]')"
        ".getAttribute('aria-pressed') === 'true'",
        timeout=2000,
    )
    golive(site, OTHER, "Somebody Else", "Not followed")
    golive(site, FOLLOWED, "Followed One", "After opting in")
    page.wait_for_function("() => window.__notes.length > 0", timeout=3000)
    assert page.evaluate("window.__notes") == [["Followed One is live", "After opting in"]]
