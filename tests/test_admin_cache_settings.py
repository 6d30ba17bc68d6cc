"""The cache settings in /admin/, through the real admin forms: seeded defaults, validation,
a changed TTL obeyed by the next page, and the purge actions."""

import time

import pytest

from parti_site.instance.models import CacheSetting
from parti_site.upstream import cache as upstream_cache
from parti_site.upstream.policy import DEFAULT_POLICIES
from tests.admin_forms import (
    CATEGORIES_PATH,
    LIVE_PATH,
    api_calls,
    change_url,
    committed_db,
    save_cache_setting,
)


@pytest.mark.django_db
def test_the_migration_seeds_every_endpoint_with_its_default():
    rows = {row.endpoint: (row.ttl, row.stale) for row in CacheSetting.objects.all()}
    assert rows == {name: (p.ttl, p.stale) for name, p in DEFAULT_POLICIES.items()}


@pytest.mark.django_db
def test_the_list_says_which_pages_each_endpoint_affects(admin_client):
    page = admin_client.get("/admin/instance/cachesetting/").content.decode()
    assert "Home (live now), Live" in page
    assert "Price ticker on every page" in page
    assert "Purge all cached upstream data" in page


@pytest.mark.django_db
def test_the_form_explains_the_stale_window(admin_client):
    setting = CacheSetting.objects.get(endpoint="live")
    page = admin_client.get(change_url(CacheSetting, setting.pk)).content.decode()
    assert "any value makes sense with any TTL, shorter ones included" in page
    assert "Home (live now), Live" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ttl", "stale"),
    [(-1, 60), (30, -5), ("soon", 60), (8 * 24 * 3600, 60), (30, 31 * 24 * 3600), ("", 60)],
)
def test_nonsense_is_refused(admin_client, ttl, stale):
    response = save_cache_setting(admin_client, "live", ttl, stale)
    assert response.status_code == 200  # the form again, with errors
    assert "errornote" in response.content.decode()
    setting = CacheSetting.objects.get(endpoint="live")
    assert (setting.ttl, setting.stale) == (30, DEFAULT_POLICIES["live"].stale)


@pytest.mark.django_db
def test_a_stale_window_shorter_than_the_ttl_and_zero_are_accepted(admin_client):
    assert save_cache_setting(admin_client, "live", 600, 0).status_code == 302
    assert CacheSetting.objects.get(endpoint="live").stale == 0


@pytest.mark.django_db
def test_endpoints_cannot_be_added_or_deleted(admin_client):
    setting = CacheSetting.objects.get(endpoint="live")
    assert admin_client.get("/admin/instance/cachesetting/add/").status_code == 403
    delete = f"/admin/instance/cachesetting/{setting.pk}/delete/"
    assert admin_client.get(delete).status_code == 403


@committed_db
def test_a_shorter_ttl_is_obeyed_by_the_next_page(admin_client, parti):
    assert save_cache_setting(admin_client, "live", 2).status_code == 302
    admin_client.get("/live")
    admin_client.get("/live")
    assert api_calls(parti, LIVE_PATH) == 1  # not before the new TTL
    time.sleep(2.2)
    admin_client.get("/live")
    assert api_calls(parti, LIVE_PATH) == 2  # after it (the default is 30 s)


@committed_db
def test_a_longer_ttl_is_obeyed_by_the_next_page(admin_client, parti, monkeypatch):
    admin_client.get("/live")
    assert save_cache_setting(admin_client, "live", 3600).status_code == 302
    later = time.time() + 600  # past the default 30 s, within the new hour
    monkeypatch.setattr(upstream_cache.time, "time", lambda: later)
    admin_client.get("/live")
    assert api_calls(parti, LIVE_PATH) == 1


@committed_db
def test_the_list_edits_several_ttls_at_once(admin_client, parti):
    rows = list(CacheSetting.objects.order_by("endpoint"))
    data = {
        "form-TOTAL_FORMS": len(rows),
        "form-INITIAL_FORMS": len(rows),
        "_save": "Save",
    }
    for index, row in enumerate(rows):
        data[f"form-{index}-id"] = row.pk
        data[f"form-{index}-ttl"] = 0 if row.endpoint == "live" else row.ttl
        data[f"form-{index}-stale"] = row.stale
    response = admin_client.post("/admin/instance/cachesetting/", data)
    assert response.status_code == 302
    admin_client.get("/live")
    admin_client.get("/live")
    assert api_calls(parti, LIVE_PATH) == 2  # TTL 0: parti is asked every time


@committed_db
def test_purging_one_endpoint_refetches_only_it(admin_client, parti):
    admin_client.get("/live")
    live = CacheSetting.objects.get(endpoint="live")
    response = admin_client.post(
        "/admin/instance/cachesetting/",
        {"action": "purge_selected", "_selected_action": [live.pk], "index": 0},
    )
    assert response.status_code == 302
    admin_client.get("/live")
    assert api_calls(parti, LIVE_PATH) == 2
    assert api_calls(parti, CATEGORIES_PATH) == 1


@committed_db
def test_purging_everything_refetches_everything(admin_client, parti):
    admin_client.get("/live")
    response = admin_client.post("/admin/instance/cachesetting/purge-all/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/instance/cachesetting/"
    admin_client.get("/live")
    assert api_calls(parti, LIVE_PATH) == 2
    assert api_calls(parti, CATEGORIES_PATH) == 2


@pytest.mark.django_db
def test_purge_all_wants_a_post_and_a_safe_redirect(admin_client):
    assert admin_client.get("/admin/instance/cachesetting/purge-all/").status_code == 405
    response = admin_client.post(
        "/admin/instance/cachesetting/purge-all/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/admin/instance/cachesetting/"
