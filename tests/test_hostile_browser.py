"""Hostile content as a viewer's browser gets it (Debian's chromium, a real Daphne and the
simulator): pages, go-live toasts and chat pushes show hostile names and titles as text,
run none of them (`window.__pwned` stays undefined, no dialog opens), link nowhere odd, and
long strings wrap instead of widening the page."""

from __future__ import annotations

import httpx
import pytest

from tests.faults_support import JACK, PAGES, clear_faults, fault
from tests.live_site import start_site, stop
from tests.test_hostile_pages import CORPUS, TEXTS, shown

pytestmark = pytest.mark.browser

PAYLOADS = {
    "markup": (
        '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
        '" onmouseover="window.__pwned=1" x="\' onfocus=\'window.__pwned=1\' autofocus '
        "</title><svg/onload=alert(1)>"
    ),
    "bidi": "\u202egnp.exe\u202c Zero\u200bWidth\ufeff 🔥 👩‍👩‍👧‍👦 Z̸̡̛a̵l̶g̷o̴",
    "long": dict(TEXTS)["long-word"],
}
JAVASCRIPT_URL = "jAvAsCrIpT:window.__pwned=1"
PHONE = {"width": 390, "height": 844}

SCRIPT_CHECKS = """() => ({
  pwned: typeof window.__pwned !== "undefined",
  odd: [...document.querySelectorAll("[href], [src]")]
    .filter(e => !["VIDEO", "TRACK"].includes(e.tagName))  // hls.js's blob: and data:,WEBVTT
    .map(e => e.getAttribute("href") || e.getAttribute("src") || "")
    .filter(u => !/^(\\/(?!\\/)|\\?|#|https?:\\/\\/)/i.test(u.trim())),
  handlers: [...document.querySelectorAll("*")].flatMap(
    e => [...e.attributes].map(a => a.name).filter(n => n.startsWith("on"))),
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  wide: [...document.querySelectorAll("main *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 3).map(e => e.tagName + "." + e.className),
})"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site, processes = start_site(tmp_path_factory.mktemp("hostile"))
    httpx.post(site.control_url + "/_sim/ws/config", json={"interval": 0, "golive_every": 0})
    yield site
    stop(processes)


@pytest.fixture
def watched(page):
    """The page fixture, failing the test on any dialog (alert, confirm, prompt)."""
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_viewport_size(PHONE)
    yield page
    assert not dialogs, dialogs


def clipped(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "\u2026"


def hostile_fields(text: str) -> dict:
    return {
        **{name: text for name in CORPUS["text_fields"]},
        **{name: JAVASCRIPT_URL for name in CORPUS["url_fields"]},
    }


def assert_inert(page, where: str) -> None:
    found = page.evaluate(SCRIPT_CHECKS)
    assert not found["pwned"], where
    assert not found["odd"], (where, found["odd"][:3])
    assert not found["handlers"], (where, found["handlers"][:3])
    assert found["overflow"] <= 0, (where, found["overflow"], found["wide"])


def test_pages_show_hostile_values_as_text(site, watched):
    # All at once: the site caches what it fetched, so one hostile world per site.
    text = " ".join(PAYLOADS[name] for name in ("markup", "bidi", "long"))
    fault(site.control_url, "*", mode="patch", fields=hostile_fields(text))
    try:
        for path in PAGES:
            response = watched.goto(site.url + path)
            assert response.status == 200, path
            watched.wait_for_timeout(100)  # hover/focus handlers, lazy images
            assert_inert(watched, path)
        watched.goto(site.url + f"/profile/{JACK}")
        # <title> shows at most 80 characters of a name (truncatechars:80), as text.
        assert shown(text).strip()[:79] in watched.title()
        assert (
            watched.locator("#profile-name").inner_text().strip()[:100]
            == (shown(text).strip()[:100])
        )
    finally:
        clear_faults(site.control_url)


def wait_for_upstream(page, site, topic):
    page.wait_for_selector("body[data-live-state=open]", timeout=5000)
    for _ in range(100):
        topics = httpx.get(site.control_url + "/_sim/ws", timeout=5).json()["topics"]
        if topics.get(topic):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the relay never subscribed to {topic}")


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_go_live_toasts_show_hostile_values_as_text(site, watched, name):
    text = PAYLOADS[name]
    watched.goto(site.url + "/")
    wait_for_upstream(watched, site, "NewChannelLiveNotify")
    overrides = {"user_name": text, "event_title": text, "avatar_link": JAVASCRIPT_URL}
    httpx.post(site.control_url + "/_sim/ws/golive", json=overrides, timeout=5)
    toast = watched.locator("[data-live-toasts] .toast-link").last
    toast.wait_for(timeout=3000)
    expected = shown(text).strip()
    # A toast shows a readable part of a long name or title (live.js `clip`).
    assert toast.inner_text() == f"{clipped(expected, 80)} just went live: {clipped(expected, 160)}"
    assert toast.bounding_box()["height"] < 500  # a 10,000-character title made it 9,430 px
    assert watched.locator("[data-live-toasts] *:not(a):not(button):not(div)").count() == 0
    assert_inert(watched, "toast")
    if name == "bidi":
        # No override survives: "just went live" still reads left to right after the name.
        order = toast.evaluate(
            """a => {
              const node = [...a.childNodes].find(n => n.nodeType === 3);
              const at = i => {
                const r = document.createRange();
                r.setStart(node, i);
                r.setEnd(node, i + 1);
                return r.getBoundingClientRect().left;
              };
              const start = node.data.indexOf("just went live");
              return at(start) < at(start + 13);
            }"""
        )
        assert order


def test_chat_pushes_show_hostile_values_as_text(site, watched):
    watched.goto(site.url + f"/watch/{JACK}")
    wait_for_upstream(watched, site, "ChatPublic")
    for number, (name, text) in enumerate(PAYLOADS.items()):
        frame = {
            "chat_id": 990000 + number,
            "user_id": 457001,
            "user_name": text,
            "post_content": text,
            "created_at": 1760000000,
        }
        httpx.post(
            site.control_url + "/_sim/ws/chat", json={"user_id": JACK, "frame": frame}, timeout=5
        )
        line = watched.locator(f"[data-chat-id='{frame['chat_id']}']")
        line.wait_for(timeout=3000)
        expected = shown(text).strip()
        assert line.locator(".chat-text").inner_text().strip() == expected, name
        assert line.locator(".chat-user").inner_text().strip() == expected, name
        assert line.locator("img, script, svg").count() == 0
    assert_inert(watched, "chat")
