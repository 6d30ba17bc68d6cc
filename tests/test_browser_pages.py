"""What a visitor sees in a real browser (Debian's chromium): the home page of a running
site on the simulated parti, a card followed to a profile, no JavaScript errors, and no
request to any host but ours."""

import pytest

pytestmark = pytest.mark.browser


def test_a_visitor_follows_a_featured_card_to_the_profile(live_site, page):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_site.url + "/")
    assert page.get_by_role("heading", name="Live now").is_visible()
    assert page.get_by_text("Jack Doherty").first.is_visible()

    page.locator("a[href='/profile/463000']").first.click()
    page.wait_for_url("**/profile/463000")
    assert page.get_by_role("heading", name="SNEAKO").is_visible()
    assert page.get_by_text("Seek Truth Through Funny").is_visible()

    foreign = [url for url in requested if not url.startswith(live_site.url)]
    assert not foreign, f"the pages asked other hosts: {foreign}"


def test_a_live_card_leads_to_its_watch_page(live_site, page):
    page.goto(live_site.url + "/live")
    page.locator("a[href='/watch/348242']").first.click()
    page.wait_for_url("**/watch/348242")
    assert page.get_by_text("I'm Live on Parti").first.is_visible()


def test_the_schedule_shows_times_in_the_visitors_zone(live_site, browser):
    context = browser.new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_site.url + "/schedule")
    assert page.get_by_text("PARTI BEACH").is_visible()
    # 1748621100 is 16:05 UTC, 01:05 the next day in Tokyo.
    assert page.get_by_text("01:05").first.is_visible()
    times = page.locator("time[data-local]").all_inner_texts()
    assert times and not [t for t in times if "AM" in t or "PM" in t]  # 24-hour, as served
    context.close()
    assert not errors
