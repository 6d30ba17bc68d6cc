"""Follows without an account: the cookie, the buttons, /following, export and import."""

import json

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from parti_site.pages import follows, views_following
from tests.pages_records import (
    fake_api,
    fetched,
    make_creator,
    make_live_channel,
    make_profile,
)

JACK = 348242  # live in the recordings
OLDIES = 593563  # live, category Music


def cookie_ids(response) -> list[int]:
    morsel = response.cookies.get(follows.COOKIE)
    return follows.parse_cookie(morsel.value) if morsel else []


def test_the_cookie_holds_base36_ids_and_reads_back():
    value = follows.cookie_value([JACK, OLDIES, 1])
    assert value == "7gpe.cpzv.1"
    assert follows.parse_cookie(value) == [JACK, OLDIES, 1]


def test_junk_in_the_cookie_is_left_out():
    assert follows.parse_cookie("7gpe..-1.XYZ.<script>.7gpe.0.cpzv") == [JACK, OLDIES]
    assert follows.parse_cookie("") == []
    assert follows.parse_cookie("x" * 20000) == []


def test_ids_in_links_and_files_are_strict():
    assert follows.parse_ids("348242, 593563\n1;abc,-5,0,348242") == [JACK, OLDIES, 1]
    assert follows.parse_ids("1e5,0x10, 99999999999999999999") == []


def test_it_follows_unfollows_exports_and_imports(client, parti):
    response = client.post(f"/follow/{JACK}", {"next": "/live"})
    assert response.status_code == 302 and response["Location"] == "/live"
    client.post(f"/follow/{OLDIES}")
    client.post("/follow/351819")
    response = client.post("/unfollow/351819")
    assert cookie_ids(response) == [JACK, OLDIES]

    export = client.get("/following/export")
    assert export["Content-Disposition"].startswith("attachment;")
    assert "no-store" in export["Cache-Control"]
    body = json.loads(export.content)
    assert body["user_ids"] == [JACK, OLDIES]
    assert body["share_link"].endswith(f"/following?ids={JACK},{OLDIES}")

    other = Client()
    upload = SimpleUploadedFile("follows.json", export.content, "application/json")
    response = other.post("/following/import", {"file": upload, "mode": "merge"})
    assert response.status_code == 302
    assert response["Location"] == "/following?imported=2"
    assert cookie_ids(response) == [JACK, OLDIES]
    assert "Imported 2 creators" in other.get(response["Location"]).content.decode()


def test_a_share_link_offers_to_import(client, parti):
    client.post(f"/follow/{JACK}")
    page = client.get(f"/following?ids={JACK},{OLDIES},banana").content.decode()
    assert "Follow these 1 creator?" in page
    assert f'name="ids" value="{OLDIES}"' in page
    response = client.post("/following/import", {"ids": str(OLDIES)})
    assert cookie_ids(response) == [JACK, OLDIES]


def test_pasting_a_share_link_imports_it_and_replace_replaces(client, parti):
    client.post(f"/follow/{JACK}")
    response = client.post(
        "/following/import",
        {"ids": f"https://example.org/following?ids={OLDIES}%2C1", "mode": "replace"},
    )
    assert cookie_ids(response) == [OLDIES, 1]


def test_it_redirects_only_to_our_own_pages(client, parti):
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(f"/follow/{JACK}", {"next": target})
        assert response["Location"] == "/following"


def test_follow_needs_a_post_from_this_site(parti):
    client = Client(enforce_csrf_checks=True)  # no CSRF token: the origin decides
    assert client.get(f"/follow/{JACK}").status_code == 405
    assert client.post(f"/follow/{JACK}", HTTP_ORIGIN="http://testserver").status_code == 302
    for headers in (
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site", "HTTP_ORIGIN": "http://testserver"},
    ):
        assert client.post(f"/follow/{JACK}", **headers).status_code == 403, headers
        assert client.post("/following/import", {"ids": "1"}, **headers).status_code == 403
        assert client.post("/settings", {"theme": "dark"}, **headers).status_code == 403
    secure = {"secure": True, "HTTP_HOST": "testserver"}
    assert client.post(f"/follow/{JACK}", **secure).status_code == 403  # no Referer
    referer = {"HTTP_REFERER": "https://testserver/live", **secure}
    assert client.post(f"/follow/{JACK}", **referer).status_code == 302


def test_pages_with_follow_buttons_stay_shareable_by_caches(client, parti):
    response = client.get("/live")
    assert "public" in response["Cache-Control"]
    assert "csrfmiddlewaretoken" not in response.content.decode()
    assert not response.cookies  # no csrftoken for a shared cache to hand on
    client.post(f"/follow/{JACK}")
    following = client.get("/following")
    assert "private" in following["Cache-Control"]


def test_a_bad_id_is_not_found(client, parti):
    assert client.post("/follow/abc").status_code == 404
    assert client.post("/follow/0").status_code == 404


def test_cards_profile_and_watch_page_have_follow_buttons(client, parti):
    live = client.get("/live").content.decode()
    assert f'action="/follow/{JACK}"' in live
    client.post(f"/follow/{JACK}")
    for path in ("/live", f"/profile/{JACK}", f"/watch/{JACK}"):
        page = client.get(path).content.decode()
        assert f'action="/unfollow/{JACK}"' in page, path
        assert 'aria-pressed="true"' in page
        assert "Following</button>" in page


def test_following_shows_live_creators_first_then_the_rest(client, parti):
    client.cookies[follows.COOKIE] = follows.cookie_value([OLDIES, 351819, 999999999])
    page = client.get("/following").content.decode()
    live_at = page.index("following-live-heading")
    all_at = page.index("following-all-heading")
    assert live_at < page.index(f'href="/watch/{OLDIES}"') < all_at
    assert 'data-followed="999999999"' in page  # parti does not know it: a numbered link
    assert "Creator 999999999" in page
    assert 'rel="alternate" type="application/atom+xml"' in page
    assert f"/feeds/live.atom?ids={OLDIES},351819,999999999" in page
    assert f"/calendar/following.ics?ids={OLDIES},351819,999999999" in page


def test_nobody_followed_asks_parti_nothing(client, monkeypatch):
    asked = []
    fake_api(monkeypatch, live_now=lambda *a, **k: asked.append(a) or fetched([]))
    page = client.get("/following").content.decode()
    assert "You follow nobody yet" in page
    assert asked == []


def sim_requests(parti) -> dict:
    response = httpx.get(parti.control_url + "/_sim/requests", timeout=5)
    return response.json()


def test_two_hundred_follows_are_a_few_cached_calls(client, parti):
    known = sorted(parti.world.users)
    ids = (known + list(range(10**9, 10**9 + 200)))[:200]  # padded with ids parti lacks
    client.cookies[follows.COOKIE] = follows.cookie_value(ids)
    httpx.post(parti.control_url + "/_sim/requests/reset", timeout=5)
    page = client.get("/following").content.decode()
    assert page.count("data-followed=") == 200
    first = sim_requests(parti)
    live_calls = [path for path in first if "/get_livestream_channel_info/live" in path]
    assert live_calls == ["/parti_v2/profile/get_livestream_channel_info/live?limit=100&offset=0"]
    lookups = views_following.LOOKUPS
    assert sum(first.values()) <= 6 + lookups  # the lists and a few profiles, not 200
    httpx.post(parti.control_url + "/_sim/requests/reset", timeout=5)
    client.get("/following")
    second = sim_requests(parti)
    # Lists and found profiles are cached; only ids parti answers 404 for are asked again.
    assert all("/user_profile/" in path for path in second), second
    assert all(int(path.rsplit("/", 1)[1]) >= 10**9 for path in second), second
    assert sum(second.values()) <= lookups


def test_the_page_warns_before_the_cookie_is_full(client, parti):
    near = list(range(10**8, 10**8 + 560))  # 6 base-36 digits each: ~3900 bytes at 560
    few = near[:450]
    client.cookies[follows.COOKIE] = follows.cookie_value(few)
    assert follows.room(few).near and not follows.room(few).full
    page = client.get("/following").content.decode()
    assert "data-follow-near" in page and "nearly full" in page


def test_a_follow_that_does_not_fit_is_refused_with_a_message(client, monkeypatch):
    fake_api(monkeypatch)
    many = list(range(10**8, 10**8 + 560))
    fitting, _ = follows.merge([], many)
    assert len(fitting) < len(many)
    client.cookies[follows.COOKIE] = follows.cookie_value(fitting)
    response = client.post(f"/follow/{JACK}")
    assert response["Location"] == "/following?full=1"
    assert follows.COOKIE not in response.cookies  # nothing was dropped
    assert "data-follow-full" in client.get(response["Location"]).content.decode()
    response = client.post("/following/import", {"ids": f"{JACK},{OLDIES}"})
    assert "left_out=2" in response["Location"]


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "javascript:alert(1)"])
def test_hostile_names_stay_text_on_following(client, monkeypatch, name):
    creator = make_creator(user_id=1001, name=name)
    fake_api(monkeypatch, live_now=fetched([make_live_channel(creator=creator)]))
    client.cookies[follows.COOKIE] = follows.cookie_value([1001])
    page = client.get("/following").content.decode()
    assert "<script>alert" not in page
    assert 'href="javascript:' not in page


def test_names_fill_in_over_a_few_views(client, monkeypatch):
    from parti_site.upstream import api

    asked = []

    def profile(uid):
        asked.append(uid)
        return fetched(make_profile(creator=make_creator(user_id=uid, name=f"Name {uid}")))

    fake_api(monkeypatch, live_now=fetched([]), recent=fetched([]), schedule=fetched([]))
    monkeypatch.setattr(api, "profile", profile)
    seen = {}
    monkeypatch.setattr(api, "cached_profile", lambda uid: seen.get(uid))
    ids = list(range(2001, 2031))
    client.cookies[follows.COOKIE] = follows.cookie_value(ids)
    for _ in range(3):
        before = len(asked)
        page = client.get("/following").content.decode()
        assert len(asked) - before <= views_following.LOOKUPS
        for uid in asked:  # what was fetched is cached from then on
            seen[uid] = make_profile(creator=make_creator(user_id=uid, name=f"Name {uid}"))
    assert sorted(set(asked)) == ids
    page = client.get("/following").content.decode()
    assert all(f"Name {uid}" in page for uid in ids)
