"""The player in a real browser (Debian's chromium) on a running site: live and recorded
video play through our playlist proxy, with segments direct and proxied; in proxied mode
the page talks to no host but ours. The external-player link plays in ffmpeg."""

import os
import shutil
import subprocess

import pytest

from tests.live_site import start_site, stop

pytestmark = pytest.mark.browser

PLAYING = "() => document.querySelector('video').currentTime"


@pytest.fixture(scope="module")
def proxied_site(tmp_path_factory):
    site, processes = start_site(tmp_path_factory.mktemp("proxied"), SEGMENT_MODE="proxied")
    yield site
    stop(processes)


def wait_until_playing_past(page, seconds: float, timeout_ms: int = 30000) -> float:
    page.wait_for_function(
        f"() => document.querySelector('video').currentTime > {seconds}", timeout=timeout_ms
    )
    return page.evaluate(PLAYING)


def hosts_asked(requests: list[str]) -> set[str]:
    return {url.split("/")[2] for url in requests if url.startswith("http")}


def test_a_live_stream_plays_with_segments_direct(live_site, page):
    page.goto(live_site.url + "/watch/348242")
    assert wait_until_playing_past(page, 3) > 3
    assert page.locator("[data-quality] option").count() >= 3  # Auto + two renditions


def test_a_live_stream_plays_with_segments_proxied_and_no_other_host(proxied_site, page):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(proxied_site.url + "/watch/465731")
    assert wait_until_playing_past(page, 3) > 3
    ours = proxied_site.url.split("/")[2]
    assert hosts_asked(requests) == {ours}
    assert any("/hls/s/" in url for url in requests)


@pytest.mark.parametrize("path", ["/watch/348242", "/video/83870"])
def test_the_player_controls_take_the_mouse(live_site, page, path):
    page.goto(live_site.url + path)
    page.wait_for_selector("video")
    under_pointer = page.evaluate(
        """() => {
            const box = document.querySelector('video').getBoundingClientRect();
            const bottom = box.bottom - 10;  // where the native controls are
            const centre = [box.left + box.width / 2, box.top + box.height / 2];
            return [document.elementFromPoint(...centre).tagName,
                    document.elementFromPoint(box.left + 30, bottom).tagName];
        }"""
    )
    assert under_pointer == ["VIDEO", "VIDEO"]


def test_a_recording_plays_and_seeks(live_site, page):
    page.goto(live_site.url + "/video/83870")
    page.locator("video").evaluate("video => { video.muted = true; video.play(); }")
    assert wait_until_playing_past(page, 3) > 3
    page.locator("video").evaluate("video => { video.currentTime = 15; }")
    assert wait_until_playing_past(page, 16) > 16


def test_a_recording_plays_proxied_with_no_other_host(proxied_site, page):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(proxied_site.url + "/video/83934")
    page.locator("video").evaluate("video => { video.muted = true; video.play(); }")
    assert wait_until_playing_past(page, 3) > 3
    assert hosts_asked(requests) == {proxied_site.url.split("/")[2]}


def test_the_chosen_volume_is_remembered(live_site, page):
    page.goto(live_site.url + "/watch/348242")
    page.locator("video").evaluate("video => { video.muted = false; video.volume = 0.3; }")
    page.reload()
    page.wait_for_function("() => document.querySelector('video').volume < 0.31")
    assert page.evaluate("() => document.querySelector('video').muted") is False


def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ffmpeg is not installed; .ci/run installs it")
        pytest.skip("ffmpeg not installed (apt-get install ffmpeg)")
    return path


@pytest.mark.parametrize("path", ["/hls/live/348242/master.m3u8", "/hls/video/83870/master.m3u8"])
def test_the_external_player_link_plays_in_a_command_line_client(live_site, proxied_site, path):
    for site in (live_site, proxied_site):
        result = subprocess.run(
            [ffmpeg(), "-v", "error", "-i", site.url + path, "-t", "3", "-f", "null", "-"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-2000:]
