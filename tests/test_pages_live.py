from parti_site.upstream import api
from parti_site.upstream.models import Category
from tests.pages_records import fake_api, fetched, make_live_channel


def test_it_shows_live_channels(client, parti):
    response = client.get("/live")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Jack Doherty" in page
    assert "Oldies_Hits_Radio" in page
    assert 'href="/watch/593563"' in page
    assert 'href="/live?category=10"' in page or 'href="?category=10"' in page


def test_it_filters_by_category(client, parti):
    page = client.get("/live?category=10").content.decode()
    assert "Oldies_Hits_Radio" in page
    assert "Jack Doherty" not in page
    assert 'href="?category=10" aria-current="page"' in page


def test_an_unknown_category_is_an_empty_list_with_a_message(client, parti):
    for value in ("999999", "banana", "-3"):
        response = client.get(f"/live?category={value}")
        assert response.status_code == 200
        page = response.content.decode()
        assert "There is no such category" in page
        assert "Jack Doherty" not in page


def test_offsets_are_clamped(client, parti):
    for offset in ("-5", "99999999999", "abc", "1e9"):
        response = client.get(f"/live?offset={offset}")
        assert response.status_code == 200


def test_it_asks_for_the_clamped_offset(client, monkeypatch):
    asked = []

    def live_now(limit, offset, category_id):
        asked.append(offset)
        return fetched([])

    fake_api(monkeypatch, live_now=live_now)
    client.get("/live?offset=-5")
    client.get("/live?offset=99999999999")
    client.get("/live?offset=30")
    assert asked == [0, api.MAX_OFFSET, 30]


def test_it_links_to_the_next_and_previous_pages(client, monkeypatch):
    channels = [make_live_channel(title=f"Stream {n}") for n in range(30)]
    fake_api(
        monkeypatch,
        live_now=fetched(channels),
        categories=fetched([Category(10, "Music")]),
    )
    page = client.get("/live?offset=30&category=10").content.decode()
    assert 'href="?offset=60&amp;category=10" rel="next"' in page or (
        'href="?category=10&amp;offset=60" rel="next"' in page
    )
    assert 'href="?category=10" rel="prev"' in page


def test_the_first_short_page_has_no_pager(client, monkeypatch):
    fake_api(monkeypatch)
    page = client.get("/live").content.decode()
    assert 'rel="next"' not in page
    assert 'rel="prev"' not in page


def test_its_heading_levels_do_not_skip(client, parti):
    import re

    page = client.get("/live").content.decode()
    levels = [int(level) for level in re.findall(r"<h([1-6])[\s>]", page)]
    assert levels[0] == 1 and 3 in levels  # the cards' titles
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, levels
