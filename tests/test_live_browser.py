"""What a viewer sees of the live pushes, in Debian's chromium against the simulator and
Daphne as real processes: toast and card on go-live, the ticker moving, the watch page's
viewer count and chat, the page's socket coming back after the upstream drops and after
our own server restarts, and the "as of" times of the server-rendered snapshots."""

import re
import time

import httpx
import pytest

from tests.live_site import start_site, start_web, stop, wait_until

# live_site, browser and page come from tests/live_site.py (a plugin of conftest.py).

pytestmark = pytest.mark.browser

JACK = 348242  # live in the recordings


def control(site, path, body=None):
    response = httpx.post(site.control_url + path, json=body or {}, timeout=5)
    response.raise_for_status()
    return response.json()


def sim_ws_state(site) -> dict:
    response = httpx.get(site.control_url + "/_sim/ws", timeout=5)
    return response.json()


@pytest.fixture
def site(live_site):
    sim_ws_state(live_site)
    control(live_site, "/_sim/ws/config", {"interval": 0, "golive_every": 0})  # no surprises
    return live_site


def open_live(page, url):
    page.goto(url)
    page.wait_for_selector("body[data-live-state=open]", timeout=5000)


def wait_for_upstream(site, topic, count=1):
    wait_until(lambda: sim_ws_state(site)["topics"].get(topic, 0) >= count, 10)


def test_a_go_live_shows_a_toast_and_a_card_within_two_seconds(site, page):
    open_live(page, site.url + "/")
    wait_for_upstream(site, "NewChannelLiveNotify")
    frame = control(site, "/_sim/ws/golive", {"event_title": "Fresh <b>stream</b>"})["frame"]
    started = time.monotonic()
    toast = page.locator("[data-live-toasts] .toast-link")
    toast.wait_for(timeout=2000)
    assert toast.inner_text() == f"{frame['user_name']} just went live: Fresh <b>stream</b>"
    assert toast.get_attribute("href") == f"/watch/{frame['user_id']}"
    card = page.locator(f"[data-live-grid] article[data-user-id='{frame['user_id']}']")
    card.wait_for(timeout=2000)
    assert time.monotonic() - started < 2
    assert "Fresh <b>stream</b>" in card.locator(".card-title").inner_text()
    assert page.locator("[data-live-grid] b").count() == 0  # text, not markup


CARD_SHAPE = """card => [...card.querySelectorAll("*")]
    .filter(node => !node.matches(".thumb, .avatar"))  // an image or its placeholder
    .filter(node => !node.closest(".follow-form"))  // the follow button: not pushed yet
    .map(node => node.tagName + "." + node.className + (node.hidden ? ":hidden" : ""))"""


def test_a_pushed_card_looks_like_the_server_rendered_ones(site, page):
    open_live(page, site.url + "/live")
    wait_for_upstream(site, "NewChannelLiveNotify")
    server_card = page.locator("[data-live-grid] article.card-live").first
    server_shape = server_card.evaluate(CARD_SHAPE)
    frame = control(site, "/_sim/ws/golive", {"viewers_count": 0})["frame"]
    card = page.locator(f"[data-live-grid] article[data-user-id='{frame['user_id']}']")
    card.wait_for(timeout=2000)
    assert card.locator(".badge-viewers").count() == 0  # no "0" badge the server never shows
    assert card.evaluate(CARD_SHAPE) == server_shape


def test_the_ticker_moves(site, page):
    open_live(page, site.url + "/live")
    wait_for_upstream(site, "AssetPriceRefreshNotify")
    price = page.locator("[data-ticker] [data-symbol=BTC] [data-price]")
    before = price.inner_text()
    control(site, "/_sim/ws/prices")
    page.wait_for_function(
        "before => document.querySelector('[data-ticker] [data-symbol=BTC] [data-price]')"
        ".textContent !== before",
        arg=before,
        timeout=2000,
    )
    assert re.fullmatch(r"\d{1,3}(,\d{3})+", price.inner_text())
    item = page.locator("[data-ticker] [data-symbol=BTC]")
    assert re.search(r"is-(up|down)", item.get_attribute("class"))


def test_the_watch_page_shows_live_viewers_and_chat(site, page):
    state = httpx.get(site.control_url + "/_sim/state", timeout=5).json()
    livestream_id = next(c["livestream_id"] for c in state["live_channels"] if c["user_id"] == JACK)
    open_live(page, f"{site.url}/watch/{JACK}")
    page.locator("[data-chat-lines] .chat-line").first.wait_for(timeout=3000)
    wait_for_upstream(site, "ChatPublic")
    wait_for_upstream(site, "LivestreamLiveViewersUpdate")
    control(site, "/_sim/ws/chat", {"user_id": JACK, "text": "<script>alert(1)</script> hi"})
    line = page.locator("[data-chat-lines] .chat-line", has_text="alert(1)")
    line.wait_for(timeout=2000)
    assert line.locator(".chat-text").inner_text() == "<script>alert(1)</script> hi"
    # 24-hour HH:MM like the server-rendered lines, not the locale's "07:55 PM".
    assert re.fullmatch(r"\d\d:\d\d", line.locator(".chat-time").inner_text())
    control(site, "/_sim/ws/viewers", {"livestream_id": livestream_id, "viewers": 4242})
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-viewers]')]"
        ".some(n => n.textContent === '4.2k watching')",
        timeout=2000,
    )


def test_pushes_continue_after_parti_drops_the_socket(site, page):
    open_live(page, site.url + "/")
    wait_for_upstream(site, "NewChannelLiveNotify")
    opened = sim_ws_state(site)["opened"]
    control(site, "/_sim/ws/drop", {"abort": True})
    wait_until(lambda: sim_ws_state(site)["opened"] >= opened + 2, 10)  # both topics back
    wait_for_upstream(site, "NewChannelLiveNotify")
    frame = control(site, "/_sim/ws/golive")["frame"]
    page.locator(f"[data-live-grid] article[data-user-id='{frame['user_id']}']").wait_for(
        timeout=3000
    )
    assert page.locator("[data-live-status]").is_hidden()


def test_the_snapshots_say_when_they_were_fetched(site, browser):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        for path, parts in [
            ("/", ["prices", "live"]),
            ("/live", ["prices", "live"]),
            (f"/watch/{JACK}", ["prices", "viewers", "chat"]),
        ]:
            page.goto(site.url + path)
            for part in parts:
                as_of = page.locator(f"[data-as-of={part}]")
                assert re.fullmatch(r"as of \d\d:\d\d UTC", as_of.inner_text()), (path, part)
                stamp = as_of.locator("time").get_attribute("datetime")
                assert stamp.endswith("+00:00"), (path, part, stamp)
    finally:
        context.close()


def test_a_pushed_price_moves_the_as_of_time(site, page):
    open_live(page, site.url + "/")
    wait_for_upstream(site, "AssetPriceRefreshNotify")
    page.evaluate("document.querySelector('[data-as-of=prices] time').textContent = 'old'")
    control(site, "/_sim/ws/prices")
    page.wait_for_function(
        "() => /^\\d\\d:\\d\\d$/.test("
        "document.querySelector('[data-as-of=prices] time').textContent)",
        timeout=2000,
    )


@pytest.fixture
def own_site(tmp_path):
    """A site of this test's own, whose Daphne the test may stop and start again."""
    site, processes = start_site(tmp_path)
    site.processes = processes
    sim_ws_state(site)
    control(site, "/_sim/ws/config", {"interval": 0, "golive_every": 0})
    yield site
    stop(site.processes)


def test_the_page_reconnects_by_itself_after_a_server_restart(own_site, page):
    site = own_site
    open_live(page, site.url + "/")
    wait_for_upstream(site, "NewChannelLiveNotify")
    opened = sim_ws_state(site)["opened"]

    simulator, web = site.processes
    stop([web])
    status = page.locator("[data-live-status]")
    status.wait_for(state="visible", timeout=3000)
    assert status.inner_text() == "reconnecting…"
    assert page.locator("body").get_attribute("data-live-state") == "reconnecting"

    site.processes = [simulator, start_web(site)]
    # Backoff is 1 s doubling with jitter; the server was down for about a second.
    page.wait_for_selector("body[data-live-state=open]", timeout=10000)
    assert status.is_hidden()
    wait_until(lambda: sim_ws_state(site)["opened"] > opened, 10)  # the new relay's socket
    wait_for_upstream(site, "NewChannelLiveNotify")
    frame = control(site, "/_sim/ws/golive", {"event_title": "After the restart"})["frame"]
    toast = page.locator("[data-live-toasts] .toast-link", has_text="After the restart")
    toast.wait_for(timeout=2000)
    assert toast.get_attribute("href") == f"/watch/{frame['user_id']}"
    # Chromium logs each reconnect attempt refused while the server was down: expected here.
    refused = f"WebSocket connection to '{site.url.replace('http', 'ws', 1)}/ws/live' failed"
    page.js_errors[:] = [e for e in page.js_errors if refused not in e]
