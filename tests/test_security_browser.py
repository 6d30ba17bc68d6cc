"""Under the Content-Security-Policy the site sends, in Debian's chromium: the player plays
with segments direct and proxied, the live pushes arrive, and the admin works, with no
violation reported (the `page` fixture also fails on the console error each one logs).
Last, the README's deployment for real: the same through nginx and three Daphne processes."""

import httpx
import pytest

from tests import faults_support
from tests.admin_forms import OPERATOR, prepare_database
from tests.deploy_nginx import daphne_ports, require_nginx, start_nginx
from tests.faults_support import EVENT as RECORDING
from tests.faults_support import JACK
from tests.live_site import demo_env, start_site, stop
from tests.services import postgres_database, redis_url

pytestmark = pytest.mark.browser


WATCH_VIOLATIONS = """() => {
  window.cspViolations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
  });
}"""


@pytest.fixture
def csp_page(page):
    """`page`, recording every securitypolicyviolation event; none may happen."""
    page.add_init_script(f"({WATCH_VIOLATIONS})()")
    yield page
    violations = page.evaluate("() => window.cspViolations || []")
    assert violations == [], violations


@pytest.fixture(scope="module")
def proxied_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("proxied-csp")
    database = {"DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}"}
    prepare_database(demo_env(0, **database))
    site, processes = start_site(tmp, SEGMENT_MODE="proxied", **database)
    yield site
    stop(processes)


def play(page, url, seconds=3):
    page.goto(url)
    page.locator("video").evaluate("video => { video.muted = true; video.play(); }")
    page.wait_for_function(
        f"() => document.querySelector('video').currentTime > {seconds}", timeout=30000
    )


def policy_of(response) -> str:
    return response.headers["content-security-policy"]


def test_live_plays_with_segments_direct(live_site, csp_page):
    response = csp_page.goto(f"{live_site.url}/watch/{JACK}")
    assert f"http://127.0.0.1:{live_site.sim_base + 4}" in policy_of(response)
    play(csp_page, f"{live_site.url}/watch/{JACK}")


def test_live_and_recordings_play_proxied(proxied_site, csp_page):
    response = csp_page.goto(f"{proxied_site.url}/watch/{JACK}")
    assert "http://127.0.0.1" not in policy_of(response)  # nobody but us
    play(csp_page, f"{proxied_site.url}/watch/{JACK}")
    play(csp_page, f"{proxied_site.url}/video/{RECORDING}")


def go_live_toast(site_url, control_url, page):
    page.goto(site_url + "/")
    page.wait_for_selector("body[data-live-state=open]", timeout=5000)
    httpx.post(control_url + "/_sim/ws/config", json={"interval": 0, "golive_every": 0})
    for _ in range(50):
        topics = httpx.get(control_url + "/_sim/ws").json()["topics"]
        if topics.get("NewChannelLiveNotify"):
            break
        page.wait_for_timeout(100)
    frame = httpx.post(control_url + "/_sim/ws/golive", json={}).json()["frame"]
    toast = page.locator("[data-live-toasts] .toast-link")
    toast.wait_for(timeout=3000)
    assert frame["user_name"] in toast.inner_text()


def test_the_go_live_toast_arrives(live_site, csp_page):
    go_live_toast(live_site.url, live_site.control_url, csp_page)


def test_every_page_type_loads_cleanly(proxied_site, csp_page):
    # The watch page has its own test above.
    for path in [p for p in faults_support.PAGES if not p.startswith("/watch/")]:
        csp_page.goto(proxied_site.url + path)
        csp_page.wait_for_load_state("load")


def test_the_admin_works_under_the_policy(proxied_site, csp_page):
    csp_page.goto(proxied_site.url + "/admin/")
    csp_page.fill("#id_username", OPERATOR["username"])
    csp_page.fill("#id_password", OPERATOR["password"])
    csp_page.click("input[type=submit]")
    csp_page.wait_for_url(proxied_site.url + "/admin/")
    for path in ["/admin/", "/admin/instance/switches/1/change/", "/admin/auth/user/"]:
        csp_page.goto(proxied_site.url + path)
        csp_page.wait_for_load_state("load")
    csp_page.click("#toggle-nav-sidebar")  # the admin's own scripts run
    csp_page.goto(proxied_site.url + "/admin/auth/user/add/")
    csp_page.wait_for_load_state("load")


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory):
    require_nginx()
    tmp = tmp_path_factory.mktemp("behind-nginx")
    with postgres_database("parti_site_browser") as database:
        env = {"REDIS_URL": redis_url(db=10), "DATABASE_URL": database}
        prepare_database(demo_env(0, **env))
        site, processes = start_site(tmp, web_processes=3, TRUSTED_PROXIES="127.0.0.1/32", **env)
        try:
            nginx, process = start_nginx(tmp, daphne_ports(site))
            processes.append(process)
            yield site, nginx
        finally:
            stop(processes)


def test_behind_nginx_the_player_and_the_pushes_work(behind_nginx, csp_page):
    site, nginx = behind_nginx
    play(csp_page, f"{nginx.url}/watch/{JACK}")
    go_live_toast(nginx.url, site.control_url, csp_page)
