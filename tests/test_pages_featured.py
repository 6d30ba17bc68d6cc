from tests.pages_records import fake_api, fetched, make_creator, make_featured


def test_it_shows_featured_creators(client, parti):
    response = client.get("/featured")
    assert response.status_code == 200
    page = response.content.decode()
    assert "SNEAKO" in page
    assert "Seek Truth Through Funny" in page
    assert "25.7k members" in page
    assert 'href="/profile/463000"' in page


def test_names_are_escaped(client, monkeypatch):
    evil = make_creator(name="<script>alert(1)</script>")
    fake_api(monkeypatch, featured=fetched([make_featured(creator=evil, description="<b>hi</b>")]))
    page = client.get("/featured").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>hi</b>" not in page


def test_a_missing_avatar_shows_the_placeholder(client, monkeypatch):
    fake_api(monkeypatch, featured=fetched([make_featured(creator=make_creator(avatar_url=None))]))
    page = client.get("/featured").content.decode()
    assert "/static/img/avatar.svg" in page
    assert 'alt="Avatar of Some Creator"' in page
