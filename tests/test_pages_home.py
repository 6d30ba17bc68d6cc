import time

from parti_site.upstream import api
from parti_site.upstream import client as upstream_client
from parti_site.upstream.errors import Kind, UpstreamError
from tests.pages_records import fake_api, fetched, make_featured


def test_it_shows_live_channels(client, parti):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Jack Doherty" in page
    assert "12.5k" in page
    assert 'href="/watch/348242"' in page
    assert 'href="/profile/348242"' in page


def test_it_shows_featured_creators(client, parti):
    page = client.get("/").content.decode()
    assert "SNEAKO" in page
    assert 'href="/profile/463000"' in page


def test_it_shows_the_schedule_and_categories_and_prices(client, parti):
    page = client.get("/").content.decode()
    assert "Upcoming" in page
    assert "PARTI BEACH" in page or "GET YOUR FREE PANELS" in page
    assert "Valorant" in page  # display_name beside an empty name
    assert 'href="/live?category=16"' in page
    assert "BTC" in page
    assert "103,510" in page


def test_prices_are_shown_once_in_the_ticker_that_pushes_update(client, parti):
    page = client.get("/").content.decode()
    assert page.count("103,510") == 1  # no second, static copy that live.js leaves behind
    assert 'data-symbol="BTC"' in page and "data-ticker" in page


def test_it_shows_recent_streams_with_category_tabs(client, parti):
    page = client.get("/").content.decode()
    assert 'href="/video/83870"' in page
    assert 'href="?tab=7"' in page

    gaming = client.get("/?tab=7").content.decode()
    assert "Itz_J_Man" in gaming
    assert 'href="?tab=7" aria-current="page"' in gaming


def test_a_bad_tab_shows_all_recent_streams(client, parti):
    response = client.get("/?tab=banana")
    assert response.status_code == 200
    assert 'href="/video/83870"' in response.content.decode()


def test_it_sets_a_short_public_cache_lifetime(client, parti):
    response = client.get("/")
    assert "public" in response["Cache-Control"]
    assert "max-age=15" in response["Cache-Control"]


def test_the_second_visit_is_served_from_cache(client, parti, monkeypatch):
    calls = []
    real = upstream_client.get_json

    def counting(endpoint, *args, **kwargs):
        calls.append(endpoint)
        return real(endpoint, *args, **kwargs)

    monkeypatch.setattr(upstream_client, "get_json", counting)
    client.get("/")
    first = len(calls)
    client.get("/")
    assert first == 6
    assert len(calls) == first


def test_a_failing_section_shows_a_message_while_the_others_render(client, monkeypatch):
    fake_api(monkeypatch, featured=UpstreamError(Kind.TIMEOUT, "slow"))
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Featured creators could not be loaded: parti took too long to answer" in page
    assert "A live stream" in page
    assert "A past stream" in page


def test_with_all_but_one_section_failing_the_page_still_renders(client, monkeypatch):
    down = UpstreamError(Kind.UNREACHABLE, "refused")
    names = ["live_now", "categories", "schedule", "recent", "prices"]
    fake_api(monkeypatch, featured=fetched([make_featured()]), **{n: down for n in names})
    response = client.get("/")
    assert response.status_code == 200
    assert response.content.decode().count("parti could not be reached") >= 4
    # Nobody may keep the page with holes once parti answers again.
    assert "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def test_it_fetches_its_sections_in_parallel(client, monkeypatch):
    delay = 0.3

    def slow(data):
        def answer(*args, **kwargs):
            time.sleep(delay)
            return fetched(data)

        return answer

    fake_api(monkeypatch)
    names = ["live_now", "featured", "schedule", "recent", "categories", "prices"]
    for name in names:
        monkeypatch.setattr(api, name, slow([]))
    started = time.monotonic()
    response = client.get("/")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 0.8 * delay * len(names)
