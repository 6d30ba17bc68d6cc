"""Helpers for the admin tests: post the real admin forms as a logged-in operator, and
count what the simulated parti was asked."""

from __future__ import annotations

import pytest

from parti_site.instance.models import CacheSetting, Switches

# Admin saves publish after their commit and pages read the settings from other threads
# (api.gather's pool), so these tests commit for real; serialized_rollback brings the rows
# the migration seeded back for each test.
committed_db = pytest.mark.django_db(transaction=True, serialized_rollback=True)

API = "/parti_v2"
LIVE_PATH = API + "/profile/get_livestream_channel_info/live"
CATEGORIES_PATH = API + "/profile/livestream_calendar/events/categories"
CHAT_PATH = API + "/profile/user_profile_chat/{user_id}/public"


def api_calls(parti, path: str) -> int:
    """How often the simulated API was asked for `path` (any query string)."""
    counts = parti.request_counts.get("api", {})
    return sum(n for key, n in counts.items() if key.split("?", 1)[0] == path)


def change_url(model, pk) -> str:
    return f"/admin/instance/{model._meta.model_name}/{pk}/change/"


def save_cache_setting(client, endpoint: str, ttl, stale=None):
    setting = CacheSetting.objects.get(endpoint=endpoint)
    data = {"ttl": ttl, "stale": setting.stale if stale is None else stale, "_save": "Save"}
    return client.post(change_url(CacheSetting, setting.pk), data)


def save_switches(client, **changes):
    """Post the switches form: the current values with `changes` applied."""
    switches = Switches.objects.get(pk=1)
    values = {
        "segment_mode": switches.segment_mode,
        "image_proxy": switches.image_proxy,
        "max_height": switches.max_height,
        "public_chat": switches.public_chat,
        "banner": switches.banner,
        **changes,
    }
    data = {"_save": "Save", "segment_mode": values["segment_mode"], "banner": values["banner"]}
    data["max_height"] = "" if values["max_height"] is None else values["max_height"]
    for name in ("image_proxy", "public_chat"):  # a checkbox is sent only when ticked
        if values[name]:
            data[name] = "on"
    response = client.post(change_url(Switches, 1), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


# --- a deployment of real processes --------------------------------------------------------

OPERATOR = {"username": "operator", "password": "correct horse battery staple"}


def prepare_database(env: dict[str, str]) -> None:
    """`migrate`, then the first admin from DJANGO_SUPERUSER_*, as the README says."""
    import subprocess
    import sys

    from tests.live_site import ROOT

    superuser = {
        "DJANGO_SUPERUSER_USERNAME": OPERATOR["username"],
        "DJANGO_SUPERUSER_PASSWORD": OPERATOR["password"],
        "DJANGO_SUPERUSER_EMAIL": "operator@example.org",
    }
    for command in (["migrate", "--noinput", "-v0"], ["createsuperuser", "--noinput"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env={**env, **superuser},
            check=True,
            capture_output=True,
        )
