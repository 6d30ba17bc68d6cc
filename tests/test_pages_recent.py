from parti_site.upstream.models import Category
from tests.pages_records import fake_api, fetched, make_recording


def test_it_shows_recent_streams(client, parti):
    response = client.get("/recent")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/video/83870"' in page
    assert 'href="/profile/593563"' in page


def test_it_filters_by_category(client, parti):
    page = client.get("/recent?category=7").content.decode()
    assert "Itz_J_Man" in page
    assert "Recent streams: Gaming" in page


def test_no_category_asks_for_streams_without_one(client, parti):
    page = client.get("/recent?category=none").content.decode()
    assert "ElementalMJ" in page
    assert 'href="?category=none" aria-current="page"' in page


def test_it_sorts_by_top_views(client, parti):
    page = client.get("/recent?sort=top").content.decode()
    assert 'href="/video/73640"' in page
    assert 'href="?sort=top" aria-current="page"' in page


def test_an_unknown_category_is_an_empty_list_with_a_message(client, parti):
    for value in ("424242", "banana"):
        page = client.get(f"/recent?category={value}").content.decode()
        assert "There is no such category" in page
        assert "/video/" not in page


def test_it_passes_its_arguments_to_upstream(client, monkeypatch):
    asked = []

    def recent(**kwargs):
        asked.append(kwargs)
        return fetched([make_recording()] * 15)

    fake_api(monkeypatch, recent=recent, categories=fetched([Category(7, "Gaming")]))
    page = client.get("/recent?category=7&sort=top&offset=15").content.decode()
    assert asked == [
        {"category_id": 7, "no_category": False, "top": True, "limit": 15, "offset": 15}
    ]
    assert 'rel="next"' in page and 'rel="prev"' in page
    client.get("/recent?category=none&offset=-1")
    assert asked[-1] == {
        "category_id": None,
        "no_category": True,
        "top": False,
        "limit": 15,
        "offset": 0,
    }
