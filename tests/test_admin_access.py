"""/admin/: login required, never cached, no default account."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

PAGES = [
    "/admin/",
    "/admin/instance/cachesetting/",
    "/admin/instance/switches/1/change/",
    "/admin/instance/upstreamhealth/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/admin/login/?next={path}")


@pytest.mark.django_db
def test_anonymous_visitors_cannot_purge(client, parti):
    response = client.post("/admin/instance/cachesetting/purge-all/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_staff_without_permissions_see_nothing(client):
    user = get_user_model().objects.create_user("helper", password="x-long-password", is_staff=True)
    client.force_login(user)
    assert client.get("/admin/instance/cachesetting/").status_code == 403
    assert client.get("/admin/instance/upstreamhealth/").status_code == 302
    assert client.post("/admin/instance/cachesetting/purge-all/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*PAGES, "/admin/login/"])
def test_admin_pages_are_never_cached(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code in (200, 302)
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control


@pytest.mark.django_db
def test_the_login_page_is_never_cached_for_anonymous_visitors(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_there_is_no_default_account():
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_the_first_admin_comes_from_the_environment(monkeypatch, client):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "operator")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long passphrase for tests")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "operator@example.org")
    call_command("createsuperuser", "--noinput", verbosity=0)
    assert client.login(username="operator", password="a long passphrase for tests")
    assert client.get("/admin/instance/cachesetting/").status_code == 200
