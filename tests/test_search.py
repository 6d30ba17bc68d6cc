"""Search over the lists the site already has from parti."""

from parti_site.pages import search
from parti_site.upstream.models import Category
from tests.pages_records import (
    fake_api,
    fetched,
    make_creator,
    make_event,
    make_featured,
    make_live_channel,
    make_recording,
)


def test_it_finds_a_creator_by_name(client, parti):
    response = client.get("/search?q=jack")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-found="creators"' in page
    assert 'href="/profile/348242"' in page
    assert 'action="/follow/348242"' in page  # follow straight from the results
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]


def test_it_finds_live_streams_by_category(client, parti):
    page = client.get("/search?q=music").content.decode()
    assert 'data-found="categories"' in page and 'href="/live?category=10"' in page
    assert 'data-found="live"' in page and 'href="/watch/593563"' in page


def test_it_asks_parti_for_no_new_endpoint(client, parti):
    client.get("/search?q=oldies")
    asked = {path.split("?")[0].rsplit("/", 2)[-2:][-1] for path in parti.request_counts["api"]}
    assert asked <= {"live", "featured_channels", "events", "categories", "recent", "info"}


def test_an_empty_query_asks_nothing(client, monkeypatch):
    asked = []
    fake_api(monkeypatch, live_now=lambda *a, **k: asked.append(1) or fetched([]))
    page = client.get("/search?q=%20%20").content.decode()
    assert asked == [] and "Nothing found" not in page


def test_nothing_found_says_so_and_the_query_is_escaped(client, monkeypatch):
    fake_api(monkeypatch)
    page = client.get("/search?q=<script>zzz").content.decode()
    assert "Nothing found for “&lt;script&gt;zzz”" in page
    assert "<script>zzz" not in page


def test_matching_folds_case_and_accents_and_needs_every_word():
    creator = make_creator(user_id=1, name="Ástrid Plays", social_username="astro_x")
    live = [make_live_channel(creator=creator, title="Chill Évening", category="Music")]
    found = search.search("astrid", live=live)
    assert [c.user_id for c in found.creators] == [1]
    assert found.live == live  # the creator's name matches the stream too
    assert search.search("evening music", live=live).live == live
    assert search.search("evening gaming", live=live).live == []
    assert [c.user_id for c in search.search("ASTRO_X", live=live).creators] == [1]


def test_ranking_puts_exact_names_first():
    a = make_creator(user_id=1, name="Big Sam the Second")
    b = make_creator(user_id=2, name="Sam")
    c = make_creator(user_id=3, name="Samantha")
    featured = [make_featured(creator=x) for x in (a, c, b)]
    found = search.search("sam", featured=featured)
    assert [x.user_id for x in found.creators] == [2, 3, 1]


def test_it_searches_schedule_recordings_and_categories():
    creator = make_creator(user_id=5, name="Zed")
    found = search.search(
        "quiz",
        schedule=[make_event(title="Friday Quiz", creator=creator)],
        recent=[make_recording(title="quiz night", creator=creator)],
        categories=[Category(1, "Quizzes"), Category(2, "Music")],
    )
    assert [e.title for e in found.upcoming] == ["Friday Quiz"]
    assert [r.title for r in found.recordings] == ["quiz night"]
    assert [c.name for c in found.categories] == ["Quizzes"]
    assert found.creators == []  # "quiz" is not in Zed's name
