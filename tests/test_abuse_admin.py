"""The admin is never served from a cache, through the full stack (a real Daphne with every
middleware, a migrated database, the first operator): its pages say `no-store, private`
logged in or not, a logged-in page is never what an anonymous client gets, and the public
pages an operator sees carry nothing of the login (no cookie set, no name) that a shared
cache could hand to the next visitor."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.admin_forms import OPERATOR, prepare_database
from tests.live_site import demo_env, start_site, stop

ADMIN_PAGES = [
    "/admin/",
    "/admin/instance/cachesetting/",
    "/admin/instance/switches/1/change/",
    "/admin/instance/upstreamhealth/",
]
PUBLIC_PAGES = ["/", "/live", "/featured", "/about"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("admin-abuse")
    database = f"sqlite:///{tmp / 'db.sqlite3'}"
    prepare_database(demo_env(0, DATABASE_URL=database))
    site, processes = start_site(tmp, DATABASE_URL=database)
    yield site
    stop(processes)


def never_cached(response: httpx.Response) -> None:
    cache_control = response.headers.get("Cache-Control", "")
    assert "no-store" in cache_control and "private" in cache_control, cache_control
    assert "public" not in cache_control and "s-maxage" not in cache_control


@pytest.fixture
def operator(site):
    with httpx.Client(base_url=site.url, timeout=10) as client:
        login = client.get("/admin/login/")
        never_cached(login)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        response = client.post(
            "/admin/login/?next=/admin/",
            data={**OPERATOR, "csrfmiddlewaretoken": token, "next": "/admin/"},
            headers={"Referer": site.url + "/admin/login/"},
        )
        assert response.status_code == 302 and response.headers["Location"] == "/admin/"
        assert "sessionid" in client.cookies
        yield client


def test_admin_pages_are_never_cached_logged_in(operator):
    for path in ADMIN_PAGES:
        response = operator.get(path)
        assert response.status_code == 200, path
        never_cached(response)
        assert "Cookie" in response.headers.get("Vary", ""), path


def test_an_anonymous_client_never_gets_a_logged_in_page(site, operator):
    for path in ADMIN_PAGES:
        seen = operator.get(path)
        assert seen.status_code == 200
        anonymous = httpx.get(site.url + path, timeout=10)  # same URL, no session
        assert anonymous.status_code == 302, path
        assert anonymous.headers["Location"].startswith("/admin/login/")
        never_cached(anonymous)
        assert OPERATOR["username"] not in anonymous.text
        assert "csrfmiddlewaretoken" not in anonymous.text


def test_public_pages_seen_by_an_operator_carry_nothing_of_the_login(site, operator):
    for path in PUBLIC_PAGES:
        logged_in = operator.get(path)
        anonymous = httpx.get(site.url + path, timeout=10)
        assert logged_in.status_code == anonymous.status_code == 200, path
        for response in (logged_in, anonymous):
            assert "set-cookie" not in response.headers, path  # a shared cache would share it
            # Nothing that says who is logged in ("operator" is also a plain word on /about).
            for sign in ("/admin/logout/", "Welcome,", "Log out", "csrfmiddlewaretoken"):
                assert sign not in response.text, (path, sign)
        if "public" in logged_in.headers.get("Cache-Control", ""):
            assert "Cookie" in logged_in.headers.get("Vary", ""), path


def test_logging_out_ends_access(site, operator):
    token = operator.cookies.get("csrftoken")
    response = operator.post(
        "/admin/logout/",
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": site.url + "/admin/"},
    )
    assert response.status_code in (200, 302)
    never_cached(response)
    assert operator.get("/admin/").status_code == 302
