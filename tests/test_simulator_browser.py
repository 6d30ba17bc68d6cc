"""A real browser (Debian's chromium + the vendored hls.js) plays the simulated parti's video."""

import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.browser
HLS_JS = Path(__file__).resolve().parent.parent / "static" / "vendor" / "hls.js" / "hls.min.js"
START = """src => {
    window.errors = [];
    const hls = new Hls();
    hls.on(Hls.Events.ERROR, (event, data) => errors.push(data.details + (data.fatal ? '!' : '')));
    hls.loadSource(src);
    hls.attachMedia(document.querySelector('video'));
}"""
STATE = "() => [document.querySelector('video').currentTime, window.errors]"


@pytest.fixture
def page(browser):
    """A bare page with hls.js: the simulator's hosts as any web page would see them."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<video muted autoplay></video>")
    page.add_script_tag(path=str(HLS_JS))
    yield page
    context.close()


def channel(simulated_parti, user_id=348242):
    url = f"{simulated_parti.api_url}/profile/get_livestream_channel_info/{user_id}"
    return httpx.get(url).json()["channel_info"]["channel"]


def test_live_plays_continuously_for_30_seconds(simulated_parti, page):
    simulated_parti.reset()
    info = channel(simulated_parti)
    master = httpx.get(info["playback_url"], params={"token": info["playback_auth_token"]}).text
    # The multivariant is locked to https://parti.com; the variant host is open to any page.
    variant = next(line for line in master.splitlines() if line.startswith("http"))
    page.evaluate(START, variant)
    time.sleep(2)
    start, _ = page.evaluate(STATE)
    time.sleep(30)
    end, errors = page.evaluate(STATE)
    assert end - start > 28  # the 8 s loop wraps at least three times in between
    assert not [e for e in errors if e.endswith("!")]


def test_the_multivariant_refuses_other_origins(simulated_parti, page):
    info = channel(simulated_parti)
    page.evaluate(START, info["playback_url"] + "?token=" + info["playback_auth_token"])
    time.sleep(2)
    assert "manifestLoadError!" in page.evaluate(STATE)[1]


def test_a_recording_plays_and_seeks(simulated_parti, page):
    simulated_parti.reset()
    url = f"{simulated_parti.api_url}/profile/get_livestream_channel_info/recent/83870"
    path = httpx.get(url).json()["livestream_recording"]
    page.evaluate(START, simulated_parti.vod_url + path)
    time.sleep(3)
    page.evaluate("() => { document.querySelector('video').currentTime = 17 }")
    time.sleep(2)
    position, errors = page.evaluate(STATE)
    assert 17 < position < 24.1
    assert not [e for e in errors if e.endswith("!")]
